using System.Text.RegularExpressions;

namespace KeyDoctor.Tests.Windows;

/// <summary>
/// .github/workflows/windows.yml cannot run here; its structure and scripts are checked so it runs the first time on
/// a GitHub Windows runner (yamllint checks the YAML in tools/test.sh; pwsh is not on this machine, so the .ps1
/// files get a structural check: balanced braces, every script they call exists, every staged scenario present).
/// </summary>
public sealed class WindowsWorkflowTests
{
    private static string Root => Fixtures.RepoRoot;
    private static string Workflow => File.ReadAllText(Path.Combine(Root, ".github", "workflows", "windows.yml"));
    private static string Scripts => Path.Combine(Root, "tools", "windows-e2e");

    [Fact]
    public void TheWorkflowRunsOnWindows2022AndHandsItsBundleToALinuxJob()
    {
        var yaml = Workflow;
        Assert.Contains("runs-on: windows-2022", yaml, StringComparison.Ordinal);
        Assert.Contains("needs: windows-e2e", yaml, StringComparison.Ordinal);
        Assert.Contains("actions/upload-artifact@v4", yaml, StringComparison.Ordinal);
        Assert.Contains("actions/download-artifact@v4", yaml, StringComparison.Ordinal);
        Assert.Contains("name: windows-2022-bundle", yaml, StringComparison.Ordinal);
        foreach (Match script in Regex.Matches(yaml, @"tools/windows-e2e/([\w.-]+\.(?:ps1|sh))"))
            Assert.True(File.Exists(Path.Combine(Scripts, script.Groups[1].Value)), $"the workflow runs {script.Value}, which does not exist");
        Assert.DoesNotContain("\t", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void TheScriptsStageEachScenarioTheIssueNamesAndUseTheRealTools()
    {
        var scenarios = File.ReadAllText(Path.Combine(Scripts, "Invoke-Scenarios.ps1"));
        foreach (var (name, finding) in new[]
                 {
                     ("capi-key-deleted", "KD2008"), ("cng-key-deleted", "KD2008"), ("key-acl-removed", "KD1006"), ("at-signature", "KD2003"),
                     ("binding-missing-thumbprint", "KD2004"), ("stale-5506", "KD2005"), ("machinekeys-compressed", "KD1004"),
                 })
            Assert.Matches($"Name = '{name}'; Finding = '{finding}'", scenarios);
        foreach (var step in new[] { "'repair', 'plan'", "'repair', 'apply'", "'repair', 'rollback'", "Assert-Https" })
            Assert.Contains(step, scenarios, StringComparison.Ordinal);
        var site = File.ReadAllText(Path.Combine(Scripts, "New-TestSite.ps1"));
        Assert.Contains("-Provider 'Microsoft Enhanced RSA and AES Cryptographic Provider'", site, StringComparison.Ordinal);
        Assert.Contains("-Provider 'Microsoft Software Key Storage Provider'", site, StringComparison.Ordinal);
        Assert.Contains("New-WebBinding", site, StringComparison.Ordinal);
        Assert.Contains("netsh.exe http add sslcert", site, StringComparison.Ordinal);
        Assert.Matches("Install-WindowsFeature -Name Web-Server", File.ReadAllText(Path.Combine(Scripts, "Install-Iis.ps1")));
    }

    [Fact]
    public void EveryPowerShellScriptIsBalancedAndDotSourcesTheCommonHelpers()
    {
        var files = Directory.GetFiles(Scripts, "*.ps1");
        Assert.True(files.Length >= 5);
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            // Strings and comments aside, braces, brackets and parentheses balance (a parse error would stop the job).
            var code = Regex.Replace(text, @"(?m)#.*$|'[^'\r\n]*'|""(?:`.|[^""`\r\n])*""", "");
            foreach (var (open, close) in new[] { ('{', '}'), ('(', ')'), ('[', ']') })
                Assert.True(code.Count(c => c == open) == code.Count(c => c == close), $"{Path.GetFileName(file)}: unbalanced {open}{close}");
            if (Path.GetFileName(file) != "Common.ps1")
                Assert.Contains(". (Join-Path $PSScriptRoot 'Common.ps1')", text, StringComparison.Ordinal);
            foreach (Match called in Regex.Matches(text, @"Join-Path \$PSScriptRoot '([\w.-]+\.ps1)'"))
                Assert.True(File.Exists(Path.Combine(Scripts, called.Groups[1].Value)), $"{Path.GetFileName(file)} calls {called.Groups[1].Value}, which does not exist");
        }
    }
}

using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Machine;
using KeyDoctor.Repair;

namespace KeyDoctor.Tests.Repair;

/// <summary>
/// One description, two shells: every command of every plan step and of every fix, rendered as PowerShell and as
/// cmd, is parsed back into argv by that shell's own rules and must be exactly the model's program and arguments.
/// </summary>
public sealed class ShellEquivalenceTests
{
    private static readonly string Demo = Path.Combine(Fixtures.RepoRoot, "demo", "web01");

    /// <summary>The argv the model means, with the test environment's folders and the inputs' values or placeholders.</summary>
    private static List<string> Expected(ShellCommand command, IReadOnlyCollection<RequiredInput> inputs)
    {
        string Expand(CommandArg argument) => string.Concat(argument.Parts.Select(part => part switch
        {
            LiteralPart literal => literal.Text,
            TokenPart token => ShellArgv.Environment[token.Token == ArgToken.WinDir ? "windir" : token.Token.ToString()],
            InputPart input => inputs.Single(i => i.Name == input.Name) is var known && known.Value is { } value ? value : known.Placeholder,
            _ => throw new InvalidOperationException(),
        }));
        return [Expand(command.Program), .. command.Arguments.Select(Expand)];
    }

    private static void AssertSame(ShellCommand command, IReadOnlyCollection<RequiredInput> inputs, string where)
    {
        var expected = Expected(command, inputs);
        var ps = new ShellRenderer(Shell.PowerShell, inputs).Line(command);
        var cmd = new ShellRenderer(Shell.Cmd, inputs).Line(command);
        Assert.True(expected.SequenceEqual(ShellArgv.PowerShell(ps)), $"{where}: PowerShell runs {string.Join(" | ", ShellArgv.PowerShell(ps))}, not {string.Join(" | ", expected)}: {ps}");
        Assert.True(expected.SequenceEqual(ShellArgv.Cmd(cmd)), $"{where}: cmd runs {string.Join(" | ", ShellArgv.Cmd(cmd))}, not {string.Join(" | ", expected)}: {cmd}");
    }

    /// <summary>Each scenario's scan and plan, and the demo's (with KD1001 accepted too, and every input filled with a path with spaces).</summary>
    public static IEnumerable<(string Name, ScanResult Scan, RepairPlan Plan)> Plans()
    {
        var sources = RepairScenarios.ByFinding.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, Image: p.Value())).ToList();
        try
        {
            foreach (var (name, root) in sources.Select(s => (s.Key, s.Image.Root)).Append(("demo", Demo)))
            {
                using var source = MachineSource.Open(root);
                var scan = Scanner.Scan(source);
                foreach (var accepted in new[] { false, true })
                {
                    var plan = RepairPlanner.Plan(scan, new RepairPlanOptions { Accepted = accepted ? new HashSet<string> { "KD1001" } : new HashSet<string>() });
                    yield return ($"{name}{(accepted ? " --accept KD1001" : "")}", scan, plan);
                    var filled = plan.WithInputs(plan.Inputs.ToDictionary(i => i.Name, i => i.Kind == InputKind.File ? $@"C:\from a person\{i.Name}.file" : new string('A', 40)));
                    yield return ($"{name} filled", scan, filled);
                }
            }
        }
        finally
        {
            foreach (var (_, image) in sources) image.Dispose();
        }
    }

    [Fact]
    public void EveryStepOfEveryPlanRunsTheSameArgvInBothShells()
    {
        var count = 0;
        foreach (var (name, _, plan) in Plans())
        {
            foreach (var step in plan.Steps)
                foreach (var command in step.Commands)
                {
                    AssertSame(command, plan.Inputs, $"{name} step {step.Order}");
                    count++;
                }
            foreach (var decision in plan.NeedsDecision)
                foreach (var command in decision.Commands) AssertSame(command, decision.Inputs, $"{name} decision {decision.Id}");
        }
        Assert.True(count > 200, $"only {count} commands");
    }

    [Fact]
    public void EveryFixOfEveryFindingRunsTheSameArgvInBothShells()
    {
        var fixes = new List<(string, Fix)>();
        foreach (var (name, scan, _) in Plans().Where(p => !p.Name.Contains(' ', StringComparison.Ordinal)))
            fixes.AddRange(scan.Findings.Where(f => f.Fix is not null).Select(f => ($"{name} {f.Id}", f.Fix!)));
        fixes.AddRange(DocsOnlyFixes());
        foreach (var (where, fix) in fixes)
            foreach (var command in fix.Commands) AssertSame(command, fix.Inputs, where);
        // Every finding with a command-line fix in the catalogue is covered.
        var covered = fixes.Where(f => f.Item2.Commands.Count > 0).Select(f => f.Item1.Split(' ')[^1]).ToHashSet();
        foreach (var id in new[] { "KD1001", "KD1002", "KD1003", "KD1004", "KD2001", "KD2002", "KD2003", "KD2004", "KD2005", "KD2006", "KD2007", "KD2008", "KD2009", "KD2011", "KD3001", "KD3002", "KD3003", "KD3004", "KD3005", "KD3006", "KD3007", "KD3008", "KD3009" })
            Assert.Contains(id, covered);
    }

    /// <summary>The fixes of the findings only `keydoctor iis` reports (KD2011, KD3002–KD3009), as the inspectors attach them.</summary>
    private static IEnumerable<(string, Fix)> DocsOnlyFixes()
    {
        const string pool = "configuration/system.applicationHost/applicationPools/add[@name='Shop']/processModel";
        yield return ("KD2011", IisConfigFindings.MetabaseCertificateChoice("/LM/W3SVC/1", "MY"));
        yield return ("KD3002", IisConfigFindings.RestoreProtectedConfigSection("iisConfigurationKey"));
        yield return ("KD3003", IisConfigFindings.SetEncryptedValueAgain(pool, "password", @"C:\image\applicationHost.config"));
        yield return ("KD3004", IisConfigFindings.SetEncryptedValueAgain(pool, "password", @"C:\image\applicationHost.config", listProviders: true));
        yield return ("KD3005", IisConfigFindings.EncryptSharedConfigurationPassword());
        yield return ("KD3006", IisConfigFindings.RestoreMetabase(@"Windows\System32\inetsrv\History\MetaBase_0000000042_0000000000.xml"));
        yield return ("KD3006", IisConfigFindings.RestoreMetabase(null));
        yield return ("KD3007", IisConfigFindings.UnusualSessionKey());
        yield return ("KD3008", IisConfigFindings.SetMetabaseSecretAgain("/LM/W3SVC/1/ROOT", "AnonymousUserPass"));
        yield return ("KD3009", IisConfigFindings.MetabaseHistoryBackup());
    }

    /// <summary>
    /// No fix and no finding page puts a secret on a command line (the process list and event 4688 keep it): values
    /// are read at the console with Read-Host -AsSecureString, passwords of PFX files are asked by certutil.
    /// </summary>
    [Fact]
    public void NoFixOrFindingPagePutsAPasswordOnACommandLine()
    {
        static void Check(string where, string line)
        {
            Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex(@"(?i)password:\S|<password>|\s-p\s|\(Read-Host\)|adsutil\.vbs\s+SET\s+\S*Pass"), line);
            if (line.Contains("Read-Host", StringComparison.Ordinal) && !line.Contains("Read-Host 'Backup name'", StringComparison.Ordinal))
                Assert.True(line.Contains("Read-Host -AsSecureString", StringComparison.Ordinal), $"{where}: {line}");
        }
        foreach (var (id, fix) in DocsOnlyFixes())
            foreach (var line in (fix.PowerShell + "\n" + fix.Cmd).Split('\n')) Check(id, line);
        foreach (var page in Directory.GetFiles(Path.Combine(Fixtures.RepoRoot, "docs", "findings"), "KD*.md"))
        {
            var text = File.ReadAllText(page);
            foreach (var line in ShellArgv.DocBlock(text, "powershell").Concat(ShellArgv.DocBlock(text, "bat"))) Check(Path.GetFileName(page), line);
        }
    }

    [Fact]
    public void TheScansFixAndThePlansChangeAreTheSameCommands()
    {
        foreach (var (name, scan, plan) in Plans().Where(p => !p.Name.Contains("filled", StringComparison.Ordinal)))
            foreach (var change in plan.Steps.Where(s => s.Kind == RepairStepKind.Change))
            {
                var fix = scan.Findings.Single(f => f.Id == change.FindingId && f.Subject == change.Subject).Fix!;
                Assert.True(fix.Commands.Select(c => string.Join(" ", c.Arguments.Prepend(c.Program))).SequenceEqual(
                                change.Commands.Select(c => string.Join(" ", c.Arguments.Prepend(c.Program)))),
                    $"{name} {change.FindingId}: the scan shows\n{fix.PowerShell}\nthe plan runs\n{new ShellRenderer(Shell.PowerShell).Lines(change.Commands)}");
            }
    }

    [Fact]
    public void EveryCommandInEitherScriptIsFollowedByItsCheck()
    {
        foreach (var (name, _, plan) in Plans())
        {
            var commands = plan.Steps.SelectMany(s => s.Commands).Where(c => c.RunFirstAs is null).ToList();
            foreach (var (shell, script) in new[] { (Shell.PowerShell, plan.ToPowerShell()), (Shell.Cmd, plan.ToCmd()) })
            {
                var renderer = new ShellRenderer(shell, plan.Inputs);
                var lines = script.Split('\n').Select(l => l.TrimEnd('\r').Trim()).ToList();
                foreach (var line in commands.Select(renderer.Line).Distinct())
                    for (var i = lines.IndexOf(line); i >= 0; i = lines.IndexOf(line, i + 1))
                        Assert.True(lines[i + 1].StartsWith(shell == Shell.PowerShell ? "if ($LASTEXITCODE -gt " : "if errorlevel ", StringComparison.Ordinal),
                            $"{name} ({shell}): '{line}' is followed by '{lines[i + 1]}'");
            }
        }
    }

    /// <summary>The finding pages whose fixes come from the command model: their PowerShell and cmd blocks run the same argv.</summary>
    [Theory]
    [InlineData("KD1001")]
    [InlineData("KD1002")]
    [InlineData("KD1003")]
    [InlineData("KD1004")]
    [InlineData("KD2001")]
    [InlineData("KD2002")]
    [InlineData("KD2003")]
    [InlineData("KD2004")]
    [InlineData("KD2005")]
    [InlineData("KD2006")]
    [InlineData("KD2007")]
    [InlineData("KD2008")]
    [InlineData("KD2009")]
    [InlineData("KD2010")]
    [InlineData("KD3001")]
    [InlineData("KD1005")]
    [InlineData("KD1006")]
    [InlineData("KD2011")]
    [InlineData("KD2012")]
    [InlineData("KD2013")]
    [InlineData("KD2014")]
    [InlineData("KD3002")]
    [InlineData("KD3003")]
    [InlineData("KD3004")]
    [InlineData("KD3005")]
    [InlineData("KD3006")]
    [InlineData("KD3007")]
    [InlineData("KD3008")]
    [InlineData("KD3009")]
    [InlineData("KD3010")]
    [InlineData("KD4001")]
    public void AFindingPagesPowerShellAndCmdBlocksRunTheSameCommands(string id)
    {
        var page = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "docs", "findings", id + ".md"));
        var (ps, cmd) = (ShellArgv.DocBlock(page, "powershell"), ShellArgv.DocBlock(page, "bat"));
        Assert.Equal(ps.Count, cmd.Count);
        for (var i = 0; i < ps.Count; i++) Assert.Equal(ShellArgv.PowerShell(ps[i]), ShellArgv.Cmd(cmd[i]));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with space")]
    [InlineData("it's")]
    [InlineData("appid={4dc3e181-e14b-4a21-b022-59fc669b0914}")]
    [InlineData("-section:system.applicationHost/customMetadata")]
    [InlineData("*S-1-1-0:(RD,WD,AD,REA,WEA,RA,WA,RC,S)")]
    [InlineData("a&b|c<d>e^f(g)h;i,j$k`l@m#n!o")]
    [InlineData("--")]
    [InlineData(@"C:\path with\back\slashes")]
    [InlineData("[::]:443")]
    public void AnyTextAnArgumentMayHoldReachesTheProgramUnchanged(string text)
    {
        var command = ShellCommand.Run("program", text, CommandArg.Path(ArgToken.ProgramData, text.Replace('\\', '_')), "tail");
        AssertSame(command, [], text);
    }

    [Theory]
    [InlineData("with \"quote\"")]
    [InlineData("100%")]
    [InlineData(@"ends in\")]
    [InlineData("")]
    [InlineData("line\nbreak")]
    public void TextNoShellCanPassSafelyIsRefusedWhenTheCommandIsBuilt(string text) =>
        Assert.Throws<ArgumentException>(() => CommandArg.Text(text));

    [Fact]
    public void AnArgumentTemplateReadsBackAsItWasWritten()
    {
        var argument = CommandArg.Of(new LiteralPart("certhash={braces}="), new InputPart("pfx-AB"), new TokenPart(ArgToken.BackupRoot), new LiteralPart(@"\x"));
        Assert.Equal(@"certhash={{braces}}={input:pfx-AB}{BackupRoot}\x", argument.Template);
        Assert.Equal(argument, CommandArg.Parse(argument.Template));
        Assert.Throws<FormatException>(() => CommandArg.Parse("{Unknown}"));
        Assert.Throws<FormatException>(() => CommandArg.Parse("a}b"));
    }
}

using System.Diagnostics;
using System.Text;

namespace KeyDoctor.Tests.Windows;

/// <summary>
/// The shipped Windows build (win-x64, self-contained, single file) run under Wine: tools/test.sh publishes it before
/// the tests and names it in KEYDOCTOR_WIN_EXE; Wine (Debian wine64) is KEYDOCTOR_WINE or /usr/lib/wine/wine64.
/// A private WINEPREFIX is made once per run in a temporary folder. A single-file .NET app needs
/// DOTNET_PELoader_DisableMapping=1 under Wine (a Wine limitation).
/// </summary>
public sealed class WineExe : IDisposable
{
    public WineExe()
    {
        var exe = Environment.GetEnvironmentVariable("KEYDOCTOR_WIN_EXE");
        if (string.IsNullOrEmpty(exe)) exe = Path.Combine(Fixtures.RepoRoot, "artifacts", "win-x64", "keydoctor.exe");
        if (!File.Exists(exe))
            throw new InvalidOperationException($"the Windows build {exe} does not exist: run tools/test.sh (it publishes win-x64 first), " +
                                                "or publish it there with -r win-x64 --self-contained -p:PublishSingleFile=true");
        Exe = exe;
        var wine = Environment.GetEnvironmentVariable("KEYDOCTOR_WINE");
        Wine = !string.IsNullOrEmpty(wine) ? wine : File.Exists("/usr/lib/wine/wine64") ? "/usr/lib/wine/wine64" : "wine64";
        Prefix = Directory.CreateTempSubdirectory("kd-wineprefix-").FullName;
        var boot = Run([Wine, "wineboot", "-i"], Fixtures.RepoRoot, TimeSpan.FromMinutes(3));
        if (!File.Exists(Path.Combine(Prefix, "system.reg")) && !Directory.Exists(Path.Combine(Prefix, "drive_c")))
            throw new InvalidOperationException($"wineboot did not make the prefix {Prefix}: {boot.Stderr}");
    }

    public string Exe { get; }
    public string Wine { get; }
    public string Prefix { get; }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs keydoctor.exe under Wine with stdout and stderr as pipes.</summary>
    public Result Invoke(string workingDirectory, params string[] args) =>
        Run([Wine, Exe, .. args], workingDirectory, TimeSpan.FromMinutes(2));

    /// <summary>Runs keydoctor.exe under Wine with stdout redirected to a file (a shell's '>'), returns its bytes.</summary>
    public (int ExitCode, byte[] Stdout) InvokeToFile(string workingDirectory, string file, params string[] args)
    {
        // /bin/sh does the redirection, as an admin's "keydoctor scan > report.txt" does.
        var quoted = string.Join(' ', new[] { Wine, Exe }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        var result = Run(["/bin/sh", "-c", $"{quoted} > '{file}'"], workingDirectory, TimeSpan.FromMinutes(2));
        return (result.ExitCode, File.ReadAllBytes(file));
    }

    private Result Run(string[] argv, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in argv.Skip(1)) start.ArgumentList.Add(arg);
        start.Environment["WINEPREFIX"] = Prefix;
        start.Environment["WINEDEBUG"] = "-all";
        start.Environment["WINEDLLOVERRIDES"] = "mscoree,mshtml=";
        start.Environment["DOTNET_PELoader_DisableMapping"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(timeout)) process.Kill(entireProcessTree: true);
        return new Result(process.ExitCode, stdout, stderr.Result);
    }

    public void Dispose()
    {
        try
        {
            Run([Wine, "wineboot", "-k"], Fixtures.RepoRoot, TimeSpan.FromSeconds(30));
        }
        finally
        {
            Directory.Delete(Prefix, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class WineCollection : ICollectionFixture<WineExe>
{
    public const string Name = "Windows build under Wine";
}

/// <summary>
/// The Windows executable gives what the Linux build gives: the same findings and JSON (paths normalised), and text
/// redirected to a file is the same UTF-8 (line ends normalised: Windows writes CRLF). Commands run in parallel to
/// keep the smoke short. What Wine cannot do is listed once, in <see cref="WineGaps"/>.
/// </summary>
[Collection(WineCollection.Name)]
public sealed class WineSmokeTests(WineExe wine) : IDisposable
{
    private static string Demo => Path.Combine(Fixtures.RepoRoot, "demo", "web01");
    private readonly string _work = Directory.CreateTempSubdirectory("kd-wine-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static readonly string[][] Commands =
    [
        ["scan", "{demo}", "--json"],
        ["iis", "{demo}", "--json"],
        ["iis", "{fixtures}/iis/applicationHost.jexus-original.config", "--json"],
        ["keys", "list", "{demo}", "--json"],
        ["keys", "show", "{fixtures}/keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b", "--json"],
        ["events", "{fixtures}/evtx/system.evtx", "--json"],
        ["events", "{demo}", "--json"],
        ["reg", "dump", "{fixtures}/hives/regipy/SYSTEM_B", "--key", "ControlSet001\\Control\\Lsa", "--json"],
        ["repair", "plan", "{demo}"],
        ["repair", "plan", "{demo}", "--json"],
        ["explain", "0x80090016", "--json"],
        ["explain", "0x80090016"],
        ["certs", "list", "{demo}", "--json"],
    ];

    /// <summary>
    /// Everything Wine 8 cannot do that KeyDoctor needs on Windows, in one place. Each must fail with a sentence and
    /// exit 2 (never a crash or a stack trace): the command, and words its message must hold.
    /// </summary>
    private static readonly (string Why, string[] Args, string[] MessageHolds)[] WineGaps =
    [
        // Collection runs first, into a private temporary bundle: Wine's reg.exe has no "save", so the core hives are
        // named with the exact command and what it printed; then Wine refuses the owner-only DACL of the partial bundle.
        ("Wine's reg.exe cannot save a hive, and Wine cannot set the owner-only DACL of the bundle",
            ["collect", "-o", "{work}/live.zip"],
            ["could not take the evidence a scan needs", @"registry hive HKLM\SYSTEM ('reg.exe save HKLM\SYSTEM", @"registry hive HKLM\SOFTWARE",
             "partial bundle could not be written either", "owner-only", "elevated prompt"]),
        ("snapshot is collect without event logs: the same hives, the same DACL",
            ["snapshot", "-o", "{work}/snap.zip"],
            ["could not take the evidence a scan needs", @"registry hive HKLM\SYSTEM ('reg.exe save HKLM\SYSTEM", @"registry hive HKLM\SOFTWARE",
             "partial bundle could not be written either", "owner-only"]),
        ("Wine cannot set a file's DACL (the owner-only bundle): collect --from an image cannot write its bundle",
            ["collect", "--from", "{demo}", "-o", "{work}/image.zip"], ["access was denied making the bundle", "owner-only", "elevated prompt"]),
        ("Wine's MachineKeys folder has no SACL to read (and Wine's advapi32 has no audit policy)",
            ["audit", "status"], ["MachineKeys"]),
    ];

    private string[] Expand(string[] template, int n) => template.Select(a => a.Replace("{demo}", Demo)
        .Replace("{fixtures}", Fixtures.Root).Replace("{work}", _work).Replace("{n}", n.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();

    // The Windows build sees the repository through Wine's Z: drive; its JSON escapes backslashes.
    // A local path (under the repository, the fixtures or the temporary folder) that the Windows build joined with '\\'
    // (JSON) or '\' (text) becomes the Linux build's '/'. Only those: "/q:..." of a wevtutil command is no path.
    private static readonly System.Text.RegularExpressions.Regex LocalPath = new(
        "(?:" + string.Join("|", new[] { Fixtures.RepoRoot, Path.GetFullPath(Fixtures.Root), Path.GetTempPath() }
            .Select(root => string.Join(@"(?:/|\\\\|\\)", root.Trim('/').Split('/').Select(System.Text.RegularExpressions.Regex.Escape)))) + @")[^""\s]*");

    private static string Normalise(string text) => LocalPath.Replace(
        text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace(@"Z:\\", "/", StringComparison.Ordinal).Replace(@"Z:\", "/", StringComparison.Ordinal),
        m => m.Value.Replace(@"\\", "/", StringComparison.Ordinal).Replace('\\', '/'));

    [Fact]
    public void EveryOfflineCommandGivesWhatTheLinuxBuildGives()
    {
        var results = new (string[] Args, Cli.Result Linux, WineExe.Result Windows)[Commands.Length];
        Parallel.For(0, Commands.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var windowsArgs = Expand(Commands[i], i);
            var windows = wine.Invoke(_work, windowsArgs);
            var linuxArgs = Expand(Commands[i], i + 100);
            results[i] = (windowsArgs, Cli.Run(linuxArgs), windows);
        });
        var differences = new StringBuilder();
        foreach (var (args, linux, windows) in results)
        {
            var expected = WithoutWineGap(linux.Stdout).Replace($"{_work}/{Array.IndexOf(results.Select(r => r.Args).ToArray(), args) + 100}.zip", "");
            var actual = WithoutWineGap(Normalise(windows.Stdout)).Replace($"{_work}/{Array.IndexOf(results.Select(r => r.Args).ToArray(), args)}.zip", "");
            if (windows.ExitCode != linux.ExitCode || actual != expected)
                differences.AppendLine($"keydoctor {string.Join(' ', args)}: exit {windows.ExitCode} (Linux {linux.ExitCode})\n" +
                                       $"{FirstDifference(expected, actual)}\n--- stderr\n{Head(windows.Stderr)}");
        }
        Assert.True(differences.Length == 0, differences.ToString());
    }

    [Fact]
    public void ATextScanRedirectedToAFileIsTheSameUtf8AsOnLinux()
    {
        var (code, bytes) = wine.InvokeToFile(_work, Path.Combine(_work, "scan.txt"), "scan", Demo);
        var linux = Cli.Run("scan", Demo);
        Assert.Equal(linux.ExitCode, code);
        Assert.False(bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble), "no BOM on stdout");
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        Assert.DoesNotContain('\uFFFD', text);
        Assert.Contains("·", text, StringComparison.Ordinal);
        Assert.Equal(WithoutWineGap(linux.Stdout), WithoutWineGap(Normalise(text)));
    }

    [Fact]
    public void WhatWineCannotDoFailsWithASentenceAndExitTwo()
    {
        var failures = new StringBuilder();
        Parallel.ForEach(WineGaps, new ParallelOptions { MaxDegreeOfParallelism = 3 }, gap =>
        {
            var result = wine.Invoke(_work, Expand(gap.Args, 0));
            var line = result.Stderr.Trim();
            var ok = result.ExitCode == 2 && line.StartsWith("keydoctor: ", StringComparison.Ordinal) && !line.Contains("internal error", StringComparison.Ordinal)
                     && !line.Contains("   at ", StringComparison.Ordinal) && line.EndsWith('.') && gap.MessageHolds.All(w => line.Contains(w, StringComparison.Ordinal));
            if (!ok) lock (failures) failures.AppendLine($"{gap.Why}: keydoctor {string.Join(' ', gap.Args)} exited {result.ExitCode}: {line}");
        });
        Assert.True(failures.Length == 0, failures.ToString());
        Assert.False(File.Exists(Path.Combine(_work, "live.zip")), "no bundle that looks complete");
        Assert.False(File.Exists(Path.Combine(_work, "image.zip")), "no empty bundle left behind");
    }

    // Wine's bcrypt has no RSA verify: the IIS 6 SessionKey signature verdict (a CNG RSA operation) is left out there.
    private static string WithoutWineGap(string text) =>
        text.Replace("; its signature key does NOT verify the SessionKey", "", StringComparison.Ordinal);

    private static string FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
            if (i >= a.Length || i >= b.Length || a[i] != b[i])
                return $"line {i + 1}:\n--- Linux\n{(i < a.Length ? a[i] : "(end)")}\n--- Windows under Wine\n{(i < b.Length ? b[i] : "(end)")}";
        return "(same text)";
    }

    private static string Head(string text) => text.Length > 3000 ? text[..3000] + "…" : text;
}

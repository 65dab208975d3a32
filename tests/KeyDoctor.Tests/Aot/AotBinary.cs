using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KeyDoctor.Tests.Aot;

/// <summary>
/// The shipped executable (NativeAOT on Linux), published once per test run: tools/test.sh publishes it first and
/// names it in KEYDOCTOR_AOT_BINARY (with its publish log in KEYDOCTOR_AOT_PUBLISH_LOG); run alone, the fixture
/// publishes it into the test's bin folder. A minute or two either way, once.
/// </summary>
public sealed class AotBinary
{
    public AotBinary()
    {
        var given = Environment.GetEnvironmentVariable("KEYDOCTOR_AOT_BINARY");
        if (!string.IsNullOrEmpty(given))
        {
            if (!File.Exists(given)) throw new InvalidOperationException($"KEYDOCTOR_AOT_BINARY names {given}, which does not exist");
            Path = given;
            var log = Environment.GetEnvironmentVariable("KEYDOCTOR_AOT_PUBLISH_LOG");
            PublishLog = !string.IsNullOrEmpty(log) && File.Exists(log) ? File.ReadAllText(log) : null;
            return;
        }
        var output = System.IO.Path.Combine(AppContext.BaseDirectory, "aot-publish");
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        var project = System.IO.Path.Combine(Fixtures.RepoRoot, "src", "KeyDoctor.Cli", "KeyDoctor.Cli.csproj");
        var (code, log2) = Run("dotnet", ["publish", project, "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier,
            "--self-contained", "-o", output, "-nologo"], Fixtures.RepoRoot, TimeSpan.FromMinutes(12));
        PublishLog = log2;
        if (code != 0) throw new InvalidOperationException($"dotnet publish failed ({code}):\n{log2}");
        Path = System.IO.Path.Combine(output, OperatingSystem.IsWindows() ? "keydoctor.exe" : "keydoctor");
    }

    public string Path { get; }

    /// <summary>What dotnet publish printed (null when the binary was given without its log).</summary>
    public string? PublishLog { get; }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public Result Invoke(string workingDirectory, params string[] args) => Invoke(workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>Runs the executable with <paramref name="environment"/> set on top of this process's environment.</summary>
    public Result Invoke(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill();
        return new Result(process.ExitCode, stdout, stderr.Result);
    }

    private static (int Code, string Output) Run(string file, string[] args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(timeout)) process.Kill(entireProcessTree: true);
        return (process.ExitCode, stdout + stderr.Result);
    }
}

[CollectionDefinition(Name)]
public sealed class AotCollection : ICollectionFixture<AotBinary>
{
    public const string Name = "NativeAOT executable";
}

using System.Diagnostics;

namespace KeyDoctor.Tests;

/// <summary>Runs a Debian reference tool (installed by tools/test.sh) on a fixture and returns its standard output.</summary>
public static class ReferenceTool
{
    public static string Run(string tool, string package, string path)
    {
        if (!File.Exists(tool))
            throw new InvalidOperationException($"{tool} is missing: install {package} (bash tools/test.sh does)");
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(path);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = stderr.Result;
        return text;
    }
}

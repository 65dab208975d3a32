using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KeyDoctor.Tests;

/// <summary>Runs a Debian reference tool (installed by tools/test.sh) on a fixture and returns its standard output.</summary>
public static partial class ReferenceTool
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

    /// <summary>
    /// The records of libyal's text export (evtexport, evtxexport): one block per "Event number" with its
    /// "Name\t\t: value" fields (the number under "number") and its "String: n" values in order; a string with line
    /// breaks goes on over the following lines.
    /// </summary>
    public static IEnumerable<(Dictionary<string, string> Fields, List<string> Strings)> LibyalBlocks(string text)
    {
        foreach (var block in text.Split("\nEvent number\t\t\t: ").Skip(1))
        {
            var fields = new Dictionary<string, string>();
            var lines = block.TrimEnd('\n').Split('\n');
            fields["number"] = lines[0].Trim();
            var strings = new List<string>();
            for (var i = 1; i < lines.Length; i++)
            {
                var match = FieldLine().Match(lines[i]);
                if (!match.Success)
                {
                    if (strings.Count > 0) strings[^1] += "\n" + lines[i];
                    continue;
                }
                var (name, value) = (match.Groups[1].Value.Trim(), match.Groups[2].Value);
                if (name.StartsWith("String: ", StringComparison.Ordinal)) strings.Add(value);
                else fields[name] = value;
            }
            yield return (fields, strings);
        }
    }

    [GeneratedRegex(@"^([A-Za-z][A-Za-z :0-9]*?)\t+: ?(.*)$")]
    private static partial Regex FieldLine();
}

using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KeyDoctor.Tests.Registry;

/// <summary>
/// Runs Debian's <c>regfexport</c> (libregf-utils, installed by tools/test.sh) and parses its text into keys and
/// values, so tests can compare every key and value with an independent implementation.
/// The format (libregf regftools/export_handle.c): "Key path:", "Key:", optional "Class name:", then per value
/// "Value: N name", "Type: ...", "Data size: N" and either "Data: text" (strings, numbers) or "Data:" with a
/// hex dump (everything else, and strings/numbers whose size disagrees with their type).
/// </summary>
public static class RegfExportOutput
{
    public sealed record Key(string Path, string Name, string? ClassName, List<Value> Values);

    public sealed record Value(int Index, string Name, string TypeText, int DataSize, string? Text, byte[]? Hex, bool Mismatch);

    public static string Run(string hivePath)
    {
        var psi = new ProcessStartInfo("regfexport") { RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8 };
        psi.ArgumentList.Add(hivePath);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start regfexport");
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = stderr.Result;
        return output;
    }

    public static List<Key> Parse(string output)
    {
        var lines = output.Split('\n');
        var keys = new List<Key>();
        Key? key = null;
        var i = 0;
        while (i < lines.Length)
        {
            var line = lines[i];
            if (line.StartsWith("Key path: ", StringComparison.Ordinal))
            {
                var path = line["Key path: ".Length..];
                var name = lines[i + 1].StartsWith("Key: ", StringComparison.Ordinal) ? lines[i + 1]["Key: ".Length..] : "";
                i += 2;
                string? className = null;
                if (i < lines.Length && lines[i].StartsWith("Class name: ", StringComparison.Ordinal))
                {
                    className = lines[i]["Class name: ".Length..];
                    i++;
                }
                key = new Key(path, name, className, []);
                keys.Add(key);
                continue;
            }
            if (line.StartsWith("Value: ", StringComparison.Ordinal) && key is not null)
            {
                i = ParseValue(lines, i, key);
                continue;
            }
            i++;
        }
        return keys;
    }

    private static int ParseValue(string[] lines, int i, Key key)
    {
        var header = lines[i]["Value: ".Length..];
        var space = header.IndexOf(' ');
        var index = int.Parse(header[..space], CultureInfo.InvariantCulture);
        var name = header[(space + 1)..];
        if (name == "(default)") name = "";
        var typeText = lines[i + 1]["Type: ".Length..];
        var dataSize = int.Parse(lines[i + 2]["Data size: ".Length..], CultureInfo.InvariantCulture);
        i += 3;
        string? text = null;
        byte[]? hex = null;
        var mismatch = false;
        if (i < lines.Length && lines[i].StartsWith("Data: ", StringComparison.Ordinal))
        {
            // Text may itself contain line breaks: it ends at a blank line before the next record.
            var builder = new StringBuilder(lines[i]["Data: ".Length..]);
            i++;
            while (i < lines.Length && !EndsText(lines, i))
            {
                builder.Append('\n').Append(lines[i]);
                i++;
            }
            text = builder.ToString();
        }
        if (i < lines.Length && lines[i].StartsWith("Mismatch in data size", StringComparison.Ordinal))
        {
            mismatch = true;
            i++;
        }
        if (i < lines.Length && lines[i] == "Data:")
        {
            i++;
            var bytes = new List<byte>();
            while (i < lines.Length && lines[i].Length > 10 && lines[i][8] == ':' )
            {
                var hexPart = lines[i].Substring(10, Math.Min(49, lines[i].Length - 10));
                foreach (var token in hexPart.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    bytes.Add(byte.Parse(token, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i++;
            }
            hex = bytes.ToArray();
        }
        key.Values.Add(new Value(index, name, typeText, dataSize, text, hex, mismatch));
        return i;
    }

    private static bool EndsText(string[] lines, int i)
    {
        if (lines[i].StartsWith("Mismatch in data size", StringComparison.Ordinal)) return true;
        if (lines[i].Length != 0) return false;
        if (i + 1 >= lines.Length) return true;
        var next = lines[i + 1];
        return next.StartsWith("Value: ", StringComparison.Ordinal) || next.StartsWith("Key path: ", StringComparison.Ordinal)
               || lines.Skip(i).All(l => l.Length == 0);
    }

    /// <summary>regfexport's "Type:" text for a type number.</summary>
    public static string TypeText(uint type) => type switch
    {
        0 => "undefined (REG_NONE)",
        1 => "string (REG_SZ)",
        2 => "expandable string (REG_EXPAND_SZ)",
        3 => "binary data (REG_BINARY)",
        4 => "32-bit integer little-endian (REG_DWORD_LITTLE_ENDIAN)",
        5 => "32-bit integer big-endian (REG_DWORD_BIG_ENDIAN)",
        6 => "symbolic link (REG_LINK)",
        7 => "multi-value string (REG_MULTI_SZ)",
        8 => "resource list (REG_RESOURCE_LIST)",
        9 => "full resource descriptor (REG_FULL_RESOURCE_DESCRIPTOR)",
        10 => "resource requirements list (REG_RESOURCE_REQUIREMENTS_LIST)",
        11 => "64-bit integer little-endian (REG_QWORD_LITTLE_ENDIAN)",
        _ => $"unknown: 0x{type:x8}",
    };
}

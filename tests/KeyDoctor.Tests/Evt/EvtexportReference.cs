using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyDoctor.Tests.Evt;

/// <summary>
/// Runs Debian's <c>evtexport</c> (libevt-utils, installed by tools/test.sh) on a legacy .Evt log and parses its
/// text output: one block per record with its number, creation and written times, type, computer, source,
/// category, identifier, user SID and strings (a string with line breaks goes on over several lines).
/// </summary>
public static partial class EvtexportReference
{
    public sealed record Event(uint Number, DateTime Created, DateTime Written, int Type, string Computer, string Source,
        int Category, uint Identifier, string? UserSid, IReadOnlyList<string> Strings);

    public const string Tool = "/usr/bin/evtexport";

    public static IReadOnlyList<Event> Export(string path) => Parse(ReferenceTool.Run(Tool, "libevt-utils", path));

    public static IReadOnlyList<Event> Parse(string text)
    {
        var events = new List<Event>();
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
            events.Add(new Event(
                uint.Parse(fields["number"], CultureInfo.InvariantCulture),
                Time(fields["Creation time"]),
                Time(fields["Written time"]),
                int.Parse(Number().Match(fields["Event type"]).Groups[1].Value, CultureInfo.InvariantCulture),
                fields.GetValueOrDefault("Computer name") ?? "",
                fields.GetValueOrDefault("Source name") ?? "",
                int.Parse(fields["Event category"], CultureInfo.InvariantCulture),
                uint.Parse(Number().Match(fields["Event identifier"]).Groups[1].Value, CultureInfo.InvariantCulture),
                fields.GetValueOrDefault("User security identifier"),
                strings));
        }
        return events;
    }

    private static DateTime Time(string text) =>
        DateTime.ParseExact(text.Replace(" UTC", "", StringComparison.Ordinal).Trim(), "MMM dd, yyyy HH:mm:ss",
            CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    [GeneratedRegex(@"^([A-Za-z][A-Za-z :0-9]*?)\t+: ?(.*)$")]
    private static partial Regex FieldLine();

    [GeneratedRegex(@"\((\d+)\)\s*$")]
    private static partial Regex Number();
}

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
        foreach (var (fields, strings) in ReferenceTool.LibyalBlocks(text))
        {
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

    [GeneratedRegex(@"\((\d+)\)\s*$")]
    private static partial Regex Number();
}

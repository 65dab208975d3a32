using System.Globalization;
using System.Text.RegularExpressions;

namespace KeyDoctor.Tests.Evtx;

/// <summary>
/// Runs Debian's <c>evtxexport</c> (libevtx-utils, installed by tools/test.sh) on a fixture and parses its
/// default text output: one block per record with its number, written time, level, user SID, computer,
/// source, event identifier and "strings" (the EventData values that are not null).
/// </summary>
public static partial class EvtxexportReference
{
    public sealed record Event(ulong RecordId, DateTime Written, int Level, string? UserSid, string Computer, string Source,
        int EventId, IReadOnlyList<string> Strings);

    public const string Tool = "/usr/bin/evtxexport";

    public static IReadOnlyList<Event> Export(string path) => Parse(ReferenceTool.Run(Tool, "libevtx-utils", path));

    public static IReadOnlyList<Event> Parse(string text)
    {
        var events = new List<Event>();
        foreach (var (fields, strings) in ReferenceTool.LibyalBlocks(text))
        {
            events.Add(new Event(
                ulong.Parse(fields["number"], CultureInfo.InvariantCulture),
                DateTime.ParseExact(fields["Written time"][..^4].Trim()[..^2], "MMM dd, yyyy HH:mm:ss.fffffff",
                    CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                int.Parse(LevelNumber().Match(fields["Event level"]).Groups[1].Value, CultureInfo.InvariantCulture),
                fields.GetValueOrDefault("User security identifier"),
                fields.GetValueOrDefault("Computer name") ?? "",
                fields.GetValueOrDefault("Source name") ?? "",
                int.Parse(LevelNumber().Match(fields["Event identifier"]).Groups[1].Value, CultureInfo.InvariantCulture),
                strings));
        }
        return events;
    }

    [GeneratedRegex(@"\((\d+)\)\s*$")]
    private static partial Regex LevelNumber();
}

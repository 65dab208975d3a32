using System.Text;
using System.Text.Json;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Evt;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor events` on legacy .Evt logs (Windows NT 4 to Server 2003): the same filters and text line as for
/// EVTX, through the EVTX event abstraction; JSON Lines through <see cref="LegacyEventJsonContext"/>.
/// </summary>
public static partial class EventsCommand
{
    private sealed record LegacyCounts(long Matched, long Read, long Errors, bool Unreadable);

    private static bool IsLegacyLog(string path) => path.EndsWith(".evt", StringComparison.OrdinalIgnoreCase);

    private static LegacyCounts RunLegacy(CliContext context, string file, EventFilter filter, bool json, bool withXml, bool many)
    {
        EvtReader reader;
        try
        {
            reader = EvtReader.Open(file);
        }
        catch (MalformedDataException ex) when (many)
        {
            context.Error.WriteLine(context.ShowPathsIn($"keydoctor: skipped {file}: {ex.Message}"));
            return new LegacyCounts(0, 0, 0, true);
        }
        using (reader)
        {
            long matched = 0;
            var channel = EvtReader.ChannelOf(file);
            var source = many ? context.ShowPath(file) : null;
            var text = new StringBuilder();
            foreach (var item in reader.ReadRecords())
            {
                if (item.Record is not { } record) continue;
                var mapped = record.ToEventRecord(channel);
                if (!filter.MatchesWithId(mapped)) continue;
                matched++;
                if (json)
                {
                    context.Output.WriteLine(JsonSerializer.Serialize(LegacyEventJson.From(record, mapped, source, withXml), LegacyEventJsonContext.Relaxed.LegacyEventJson));
                    continue;
                }
                AppendLine(text, mapped);
                if (withXml) text.Append(mapped.RenderXml()).Append('\n');
                context.Output.Write(text);
                text.Clear();
            }
            var s = reader.Statistics;
            return new LegacyCounts(matched, s.RecordsRead, s.RecordErrors, false);
        }
    }
}

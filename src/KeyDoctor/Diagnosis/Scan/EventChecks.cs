using System.Globalization;
using KeyDoctor.Diagnosis.ErrorCodes;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD4001: the server's own record of key and certificate failures, decoded and linked to root causes.</summary>
internal static class EventChecks
{
    private static readonly string[] IisServices =
    [
        "IIS Admin Service", "IISADMIN", "World Wide Web Publishing Service", "W3SVC",
        "Windows Process Activation Service", "WAS", "Web Management Service", "WMSVC",
    ];

    /// <summary>Events are capped per (id, provider) so a log full of the same failure stays readable.</summary>
    private const int MaxPerKind = 20;

    public static IEnumerable<Finding> Run(MachineState state)
    {
        var explainer = new ErrorExplainer(ErrorNameTable.Embedded, SystemMessages.ForCurrentOs());
        foreach (var group in state.Events.Where(e => IsRelevant(e.Record)).GroupBy(e => (e.Record.EventId, e.Record.Provider)))
            foreach (var scanned in group.OrderByDescending(e => e.Record.Time).Take(MaxPerKind))
            {
                var record = scanned.Record;
                var text = string.Join(" ", record.Data.Select(d => d.Value));
                var codes = ErrorCodeScanner.Scan(text, ErrorNameTable.Embedded);
                var decoded = codes.Select(c => explainer.Explain(c.Code)).ToList();
                var summary = decoded.Count == 0
                    ? Describe(record)
                    : Describe(record) + ": " + string.Join("; ", decoded.Select(d => $"{Hex(d.Code)} {d.Name ?? "(unknown name)"}"));
                yield return new Finding(FindingCatalog.EventEvidence, $"{scanned.Log}#{record.RecordId}",
                    FindingCatalog.EventEvidence.FormatMessage(record.Provider, record.EventId,
                        record.Time.ToString("u", CultureInfo.InvariantCulture), summary))
                {
                    Evidence = [Evidence.ForEvent(scanned.Log, record.RecordId, string.Join(", ", record.Data.Select(d => $"{d.Name}={d.Value}")))],
                    Properties = new Dictionary<string, string>
                    {
                        ["eventId"] = record.EventId.ToString(CultureInfo.InvariantCulture),
                        ["codes"] = string.Join(",", decoded.Select(d => Hex(d.Code))),
                    },
                    Fix = decoded.FirstOrDefault(d => d.Note is not null)?.Note is { } note
                        ? new Fix(note.Advice)
                        : new Fix("Fix the finding this event is linked to; the event itself needs no action."),
                };
            }
    }

    /// <summary>Links each event to the root-cause findings it supports (and them back to it).</summary>
    public static List<Finding> LinkEvidence(List<Finding> findings)
    {
        var roots = findings.Where(f => f.Id != FindingCatalog.EventEvidence.Id).ToList();
        var linked = new List<Finding>(findings.Count);
        foreach (var finding in findings)
        {
            if (finding.Id != FindingCatalog.EventEvidence.Id)
            {
                linked.Add(finding);
                continue;
            }
            var eventId = int.Parse(finding.Properties["eventId"], CultureInfo.InvariantCulture);
            var supports = roots.Where(r => Supports(eventId, finding.Message, r)).Select(r => $"{r.Id} {r.Subject}").ToList();
            linked.Add(finding with { Related = supports });
        }
        return linked;
    }

    private static bool Supports(int eventId, string message, Finding root) => eventId switch
    {
        7023 or 7024 when message.Contains("IIS Admin", StringComparison.OrdinalIgnoreCase) || message.Contains("IISADMIN", StringComparison.OrdinalIgnoreCase) =>
            root.Id is "KD1001" or "KD1002" or "KD1003" or "KD1004",
        7023 or 7024 => root.Id is "KD1001" or "KD3001" or "KD1004",
        >= 36868 and <= 36888 or 15021 or 15300 => root.Id.StartsWith("KD2", StringComparison.Ordinal) || root.Id is "KD1001" or "KD1004",
        5058 or 5061 => root.Id is "KD1003" or "KD1004" or "KD2008" or "KD2009",
        _ => false,
    };

    private static bool IsRelevant(Formats.Evtx.EvtxRecord record) => record.EventId switch
    {
        7023 or 7024 => IisServices.Any(s => record.Data.Any(d => d.Value.Equals(s, StringComparison.OrdinalIgnoreCase))),
        >= 36868 and <= 36888 => string.Equals(record.Provider, "Schannel", StringComparison.OrdinalIgnoreCase),
        15021 or 15300 => record.Provider?.Contains("Http", StringComparison.OrdinalIgnoreCase) == true,
        5058 or 5061 => record.GetData("ReturnCode") is { } code && code.Trim() is not ("0" or "0x0"),
        _ => false,
    };

    private static string Describe(Formats.Evtx.EvtxRecord record) => record.EventId switch
    {
        7023 or 7024 => $"service {record.Data.FirstOrDefault().Value} terminated with an error",
        15021 => "HTTP.sys could not load an SSL binding",
        5058 or 5061 => $"key operation on {record.GetData("KeyName") ?? "?"} failed",
        _ => "Schannel could not use the server credential",
    };

    private static string Hex(ErrorCode code) => $"0x{code.Bits:X8}";
}

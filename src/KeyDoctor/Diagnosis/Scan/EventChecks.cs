using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using KeyDoctor.Diagnosis.ErrorCodes;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD4001: the server's own record of key and certificate failures, decoded (RootCauses links them to their causes).</summary>
internal static class EventChecks
{
    /// <summary>
    /// The IIS services by service key name (what event 7024's binary data holds and the SYSTEM hive's Services key is
    /// called on every language), with their English display names. HTTPFilter is Server 2003's "HTTP SSL" service,
    /// which did IIS 6's TLS.
    /// </summary>
    private static readonly Dictionary<string, string[]> IisServices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["IISADMIN"] = ["IIS Admin Service", "IIS Admin"],
        ["W3SVC"] = ["World Wide Web Publishing Service", "World Wide Web Publishing"],
        ["WAS"] = ["Windows Process Activation Service"],
        ["WMSVC"] = ["Web Management Service"],
        ["HTTPFilter"] = ["HTTP SSL"],
    };

    /// <summary>Events are capped per (id, provider) so a log full of the same failure stays readable.</summary>
    private const int MaxPerKind = 20;

    public static IEnumerable<Finding> Run(MachineState state)
    {
        var explainer = new ErrorExplainer(ErrorNameTable.Embedded, SystemMessages.ForCurrentOs());
        foreach (var group in state.Events.Select(e => (Event: e, Service: ServiceOf(e.Record, state)))
                     .Where(e => IsRelevant(e.Event.Record, e.Service))
                     .GroupBy(e => (e.Event.Record.EventId, e.Event.Record.Provider)))
            foreach (var (scanned, service) in group.OrderByDescending(e => e.Event.Record.Time).Take(MaxPerKind))
            {
                var record = scanned.Record;
                var decoded = Codes(record).Select(explainer.Explain).ToList();
                var summary = decoded.Count == 0
                    ? Describe(record, service)
                    : Describe(record, service) + ": " + string.Join("; ", decoded.Select(d => $"{Hex(d.Code)} {d.Name ?? "(unknown name)"}"));
                var properties = new Dictionary<string, string>
                {
                    ["eventId"] = record.EventId.ToString(CultureInfo.InvariantCulture),
                    ["codes"] = string.Join(",", decoded.Select(d => Hex(d.Code))),
                };
                if (service is not null) properties["service"] = service;
                if (record.GetData("KeyFilePath") is { Length: > 0 } keyFile) properties["keyFile"] = keyFile;
                if (record.GetData("KeyName") is { Length: > 0 } keyName) properties["keyName"] = keyName;
                yield return new Finding(FindingCatalog.EventEvidence, $"{scanned.Log}#{record.RecordId}",
                    FindingCatalog.EventEvidence.FormatMessage(record.Provider, record.EventId,
                        record.Time.ToString("u", CultureInfo.InvariantCulture), summary))
                {
                    Evidence = [Evidence.ForEvent(scanned.Log, record.RecordId, string.Join(", ", record.Data.Select(d => $"{d.Name}={d.Value}")))],
                    Properties = properties,
                    Fix = EventFix(scanned, decoded.FirstOrDefault(d => d.Note is not null)?.Note),
                };
            }
    }

    /// <summary>
    /// The codes an event carries: those written in its text (param2 "%%2148073494", a message) and, for events whose
    /// data field is "the error number" (WAS, HTTP), the little-endian DWORD of the binary data.
    /// </summary>
    private static List<ErrorCode> Codes(EvtxRecord record)
    {
        // 5058/5061 carry their result in ReturnCode; their other %%n values are message-table strings, not errors.
        var text = record.EventId is 5058 or 5061
            ? record.GetData("ReturnCode") ?? ""
            : string.Join(" ", record.Data.Where(d => !IsBinary(d)).Select(d => d.Value));
        var codes = ErrorCodeScanner.Scan(text, ErrorNameTable.Embedded).Select(c => c.Code).ToList();
        if (record.EventId is not (7023 or 7024) && record.Data.FirstOrDefault(IsBinary).Value is { Length: 8 } hex
            && Convert.FromHexString(hex) is var bytes && BinaryPrimitives.ReadUInt32LittleEndian(bytes) is var number and >= 0x80000000
            && !codes.Any(c => c.Bits == number))
            codes.Add(ErrorCode.FromHresult(number));
        return codes;
    }

    private static bool IsBinary(EvtxDataItem item) =>
        item.Name.Equals("Binary", StringComparison.OrdinalIgnoreCase) && item.Value.Length % 2 == 0 && item.Value.All(Uri.IsHexDigit);

    /// <summary>
    /// The service key name a 7023/7024 is about, in any language: the binary data (the key name in UTF-16), the
    /// English display name, or the display name the SYSTEM hive gives the service.
    /// </summary>
    private static string? ServiceOf(EvtxRecord record, MachineState state)
    {
        if (record.EventId is not (7023 or 7024)) return null;
        if (record.Data.FirstOrDefault(IsBinary).Value is { Length: >= 4 } hex)
        {
            var name = Encoding.Unicode.GetString(Convert.FromHexString(hex[..(hex.Length / 4 * 4)])).TrimEnd('\0').Trim();
            if (IisServices.ContainsKey(name)) return IisServices.Keys.First(k => k.Equals(name, StringComparison.OrdinalIgnoreCase));
        }
        var shown = record.Data.FirstOrDefault().Value?.Trim() ?? "";
        foreach (var (key, names) in IisServices)
            if (key.Equals(shown, StringComparison.OrdinalIgnoreCase) || names.Any(n => n.Equals(shown, StringComparison.OrdinalIgnoreCase)))
                return key;
        foreach (var (key, display) in state.ServiceDisplayNames)
            if (IisServices.ContainsKey(key) && display.Equals(shown, StringComparison.OrdinalIgnoreCase))
                return IisServices.Keys.First(k => k.Equals(key, StringComparison.OrdinalIgnoreCase));
        return null;
    }

    private static bool IsRelevant(EvtxRecord record, string? service) => record.EventId switch
    {
        // An IIS service, whatever the server's language, or any service that failed with a crypto error.
        7023 or 7024 => service is not null || Codes(record).Any(c => c.Facility == 9),
        5057 or 5059 or 5172 or 5173 => record.Provider?.Contains("WAS", StringComparison.OrdinalIgnoreCase) == true,
        >= 36868 and <= 36888 => string.Equals(record.Provider, "Schannel", StringComparison.OrdinalIgnoreCase),
        15021 or 15300 => record.Provider?.Contains("Http", StringComparison.OrdinalIgnoreCase) == true,
        5058 or 5061 => record.GetData("ReturnCode") is { } code && code.Trim() is not ("0" or "0x0"),
        _ => false,
    };

    private static string Describe(EvtxRecord record, string? service) => record.EventId switch
    {
        7023 or 7024 => $"service {record.Data.FirstOrDefault().Value}" + (service is null || service.Equals(record.Data.FirstOrDefault().Value, StringComparison.OrdinalIgnoreCase) ? "" : $" ({service})") + " terminated with an error",
        15021 => "HTTP.sys could not load an SSL binding",
        5057 => $"WAS disabled application pool {Value(record, 0)}: its identity is not valid (the password cannot be read or is wrong)",
        5059 => $"WAS disabled application pool {Value(record, 0)}: a worker process failed to start",
        5172 or 5173 => $"WAS could not read configuration ({Value(record, 0)}, line {Value(record, 1)}): {Value(record, 2)}",
        5058 or 5061 => KeyOperationText(record),
        _ => "Schannel could not use the server credential",
    };

    /// <summary>"Read persisted key from file on key shop-key (file …) by CONTOSO\WEB01$ (PID 6700) failed".</summary>
    private static string KeyOperationText(EvtxRecord record)
    {
        var operation = KeyDoctor.Machine.Audit.KeyOperationReport.Decode(record.GetData("Operation")) ?? "key operation";
        var file = record.GetData("KeyFilePath") is { Length: > 0 } path ? $" (file {path})" : "";
        var domain = record.GetData("SubjectDomainName");
        var user = record.GetData("SubjectUserName");
        var account = user is null ? "" : string.IsNullOrEmpty(domain) || domain == "-" ? $" by {user}" : $@" by {domain}\{user}";
        var pid = record.GetData("ClientProcessId") is { Length: > 0 } client ? $" (process {client})" : "";
        return $"{operation} on key {record.GetData("KeyName") ?? "?"}{file}{account}{pid} failed";
    }

    private static string Value(EvtxRecord record, int index) =>
        record.Data.Where(d => !IsBinary(d)).Skip(index).FirstOrDefault().Value is { Length: > 0 } value ? value : "?";

    /// <summary>An event's fix is its linked finding's; the commands show the same events on the server, in both shells.</summary>
    private static Fix EventFix(ScannedEvent scanned, FieldNote? note)
    {
        var channel = scanned.Log.EndsWith(".Evt", StringComparison.OrdinalIgnoreCase)
            ? Formats.Evt.EvtReader.ChannelOf(scanned.Log)
            : Path.GetFileNameWithoutExtension(scanned.Log.Replace('\\', '/'));
        var id = scanned.Record.EventId.ToString(CultureInfo.InvariantCulture);
        return new Fix((note?.Advice ?? "Fix the finding this event is linked to; the event itself needs no action.") +
                       " The same events on the server: wevtutil (Vista and later) lists the newest first.")
        {
            Commands = [ShellCommandFor(channel, id)],
        };
    }

    private static Commands.ShellCommand ShellCommandFor(string channel, string id) =>
        Commands.ShellCommand.Run("wevtutil", "qe", channel, $"/q:*[System[(EventID={id})]]", "/c:20", "/rd:true", "/f:text");

    private static string Hex(ErrorCode code) => $"0x{code.Bits:X8}";
}

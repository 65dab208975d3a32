using System.Globalization;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Tests.Evtx;

/// <summary>
/// Record-by-record comparison with Debian's evtxexport (libevtx), run on the fixture in the test itself so
/// the reference is always the installed tool's own output: record id, written time, event id, level,
/// computer, provider, user SID, and every EventData value, after normalising renderings that legitimately
/// differ (libevtx pads hex to 16 digits and prints 9 fractional digits of time).
/// </summary>
public class EvtxReferenceComparisonTests
{
    /// <summary>
    /// Every fixture; the number is how many records evtxexport 20181227 prints. It leaves out records whose
    /// size copy is damaged (HelloForBusiness, LanguagePackSetup, bad_chunk_magic: we read them, as evtx-rs
    /// does) and stops a file at the first record it cannot parse (the CAPI2 logs, the WEC log), so each of
    /// its records is matched to ours by record id. libevtx lists only substituted values as "strings"; the
    /// CAPI2 events carry their UserData as literal XML inside a BinXml value, so there only the header and
    /// System fields are compared (their content is checked in EvtxContentTests).
    /// </summary>
    [Theory]
    [InlineData("security.evtx", 2261)]
    [InlineData("system.evtx", 1881)]
    [InlineData("Security_with_size_t.evtx", 636)]
    [InlineData("security_bad_string_cache.evtx", 2261)]
    [InlineData("sample-with-irregular-bool-values.evtx", 3028)]
    [InlineData("2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx", 1910)]
    [InlineData("2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", 1774)]
    [InlineData("2-vss_7-System.evtx", 1160)]
    [InlineData("2-system-Microsoft-Windows-LiveId%4Operational.evtx", 399)]
    [InlineData("Application_no_crc32.evtx", 17)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx", 1146)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 24, false)]
    [InlineData("E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 89, false)]
    [InlineData("Microsoft-Windows-HelloForBusiness%4Operational.evtx", 5)]
    [InlineData("Microsoft-Windows-LanguagePackSetup%4Operational.evtx", 16)]
    [InlineData("sample_with_a_bad_chunk_magic.evtx", 267)]
    [InlineData("sample-with-zero-data-size-event.evtx", 335)]
    [InlineData("post-Security.evtx", 126)]
    [InlineData("sysmon.evtx", 358)]
    [InlineData("Security_short_selected.evtx", 7)]
    [InlineData("new-user-security.evtx", 4)]
    [InlineData("cc0-4656-4663-4658-object-access.evtx", 7)]
    [InlineData("cc0-4663-object-access.evtx", 2)]
    public void EveryRecordMatchesEvtxexport(string fixture, int evtxexportRecords, bool compareValues = true)
    {
        var path = Fixtures.Path("evtx/" + fixture);
        var reference = EvtxexportReference.Export(path);
        using var reader = EvtxReader.Open(path);
        var ours = new Dictionary<ulong, Queue<EvtxRecord>>();
        foreach (var item in reader.ReadRecords())
            if (item.Record is { } r)
                (ours.TryGetValue(r.RecordId, out var q) ? q : ours[r.RecordId] = new Queue<EvtxRecord>()).Enqueue(r);

        Assert.Equal(evtxexportRecords, reference.Count);
        foreach (var theirs in reference)
        {
            var where = $"{fixture} record {theirs.RecordId}";
            Assert.True(ours.TryGetValue(theirs.RecordId, out var candidates) && candidates.Count > 0, $"{where}: not read by us");
            var mine = candidates.Dequeue();
            Assert.True(theirs.Written == mine.WrittenTime, $"{where}: written {mine.WrittenTime:o} vs {theirs.Written:o}");
            Assert.True(theirs.EventId == mine.EventId, $"{where}: event id {mine.EventId} vs {theirs.EventId}");
            Assert.True(theirs.Level == (mine.Level ?? 0), $"{where}: level {mine.Level} vs {theirs.Level}");
            Assert.True(theirs.Computer == (mine.Computer ?? ""), $"{where}: computer {mine.Computer} vs {theirs.Computer}");
            // libevtx names the classic event source (Provider/@EventSourceName) when there is one.
            Assert.True(theirs.Source == (mine.EventSourceName ?? mine.Provider ?? ""), $"{where}: provider {mine.Provider} vs {theirs.Source}");
            Assert.True(theirs.UserSid == mine.UserId, $"{where}: user {mine.UserId} vs {theirs.UserSid}");

            if (!compareValues) continue;
            // libevtx lists the values that are not null; empty values are left out on both sides.
            var mineValues = mine.Data.Select(d => Normalize(d.Value)).Where(v => v.Length > 0).ToList();
            var theirValues = theirs.Strings.Select(Normalize).Where(v => v.Length > 0).ToList();
            Assert.True(theirValues.Count == mineValues.Count,
                $"{where}: {mineValues.Count} values [{string.Join(" | ", mineValues)}] vs {theirValues.Count} [{string.Join(" | ", theirValues)}]");
            for (var j = 0; j < mineValues.Count; j++)
                Assert.True(theirValues[j] == mineValues[j],
                    $"{where} value {j + 1}: '{mineValues[j]}' vs evtxexport '{theirValues[j]}'");
        }
    }

    /// <summary>
    /// Same value, different rendering: hex width (libevtx pads to 16 digits) and SizeT (libevtx prints it
    /// in decimal, Windows and we in hex) compare as numbers; GUID case; time precision; line breaks.
    /// </summary>
    private static string Normalize(string value)
    {
        value = value.Replace("\r\n", "\n").Replace('\r', '\n').Trim('\n', '\t', ' ');
        if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
            return hex.ToString(CultureInfo.InvariantCulture);
        if (value.Length >= 20 && value[4] == '-' && value[10] == 'T' && value.EndsWith('Z')
            && DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var time))
            return time.ToString("o", CultureInfo.InvariantCulture);
        return value.StartsWith('{') && value.EndsWith('}') ? value.ToUpperInvariant() : value;
    }
}

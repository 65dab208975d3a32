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
    [Theory]
    [InlineData("evtx/security.evtx", 2261)]
    [InlineData("evtx/system.evtx", 1881)]
    public void EveryRecordMatchesEvtxexport(string fixture, int expectedRecords)
    {
        var path = Fixtures.Path(fixture);
        var reference = EvtxexportReference.Export(path);
        using var reader = EvtxReader.Open(path);
        var ours = reader.ReadRecords().Select(r => r.Record ?? throw new Xunit.Sdk.XunitException(r.Error!.ToString())).ToList();

        Assert.Equal(expectedRecords, reference.Count);
        Assert.Equal(reference.Count, ours.Count);
        var valuesCompared = 0;
        for (var i = 0; i < ours.Count; i++)
        {
            var (mine, theirs) = (ours[i], reference[i]);
            var where = $"{fixture} record {theirs.RecordId}";
            Assert.True(theirs.RecordId == mine.RecordId, $"{where}: record id {mine.RecordId}");
            Assert.True(theirs.Written == mine.WrittenTime, $"{where}: written {mine.WrittenTime:o} vs {theirs.Written:o}");
            Assert.True(theirs.EventId == mine.EventId, $"{where}: event id {mine.EventId} vs {theirs.EventId}");
            Assert.True(theirs.Level == (mine.Level ?? 0), $"{where}: level {mine.Level} vs {theirs.Level}");
            Assert.True(theirs.Computer == mine.Computer, $"{where}: computer {mine.Computer} vs {theirs.Computer}");
            // libevtx names the classic event source (Provider/@EventSourceName) when there is one.
            Assert.True(theirs.Source == (mine.EventSourceName ?? mine.Provider), $"{where}: provider {mine.Provider} vs {theirs.Source}");
            Assert.True(theirs.UserSid == mine.UserId, $"{where}: user {mine.UserId} vs {theirs.UserSid}");

            // libevtx lists the values that are not null; an empty string still counts, a null does not.
            var mineValues = mine.Data.Select(d => d.Value).Where(v => v.Length > 0).ToList();
            var theirValues = theirs.Strings.Where(v => v.Length > 0).ToList();
            Assert.True(theirValues.Count == mineValues.Count,
                $"{where}: {mineValues.Count} values [{string.Join(" | ", mineValues)}] vs {theirValues.Count} [{string.Join(" | ", theirValues)}]");
            for (var j = 0; j < mineValues.Count; j++)
            {
                Assert.True(Normalize(theirValues[j]) == Normalize(mineValues[j]),
                    $"{where} value {j + 1}: '{mineValues[j]}' vs evtxexport '{theirValues[j]}'");
                valuesCompared++;
            }
        }
        Assert.True(valuesCompared > 5000, $"only {valuesCompared} values compared");
    }

    /// <summary>Same value, different rendering: hex width and case, GUID case, time precision, line breaks.</summary>
    private static string Normalize(string value)
    {
        value = value.Replace("\r\n", "\n").TrimEnd('\n', '\r', '\t', ' ');
        if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
            return "0x" + hex.ToString("x", CultureInfo.InvariantCulture);
        if (value.Length >= 20 && value[4] == '-' && value[10] == 'T' && value.EndsWith('Z')
            && DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var time))
            return time.ToString("o", CultureInfo.InvariantCulture);
        return value.StartsWith('{') && value.EndsWith('}') ? value.ToUpperInvariant() : value;
    }
}

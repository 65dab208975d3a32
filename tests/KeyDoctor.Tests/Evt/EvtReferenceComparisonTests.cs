using KeyDoctor.Formats.Evt;

namespace KeyDoctor.Tests.Evt;

/// <summary>
/// Record-by-record comparison of the real Windows XP System log with Debian's evtexport (libevt), run in the
/// test so the reference is the installed tool's own output.
/// </summary>
public class EvtReferenceComparisonTests
{
    [Fact]
    public void EveryEventOfTheXpSystemLogMatchesEvtexport()
    {
        var path = Fixtures.Path("evt/SysEvent.Evt");
        var reference = EvtexportReference.Export(path);
        using var reader = EvtReader.Open(path);
        var items = reader.ReadRecords().ToList();

        Assert.Equal(6063, reference.Count);
        Assert.All(items, i => Assert.Null(i.Error));
        var ours = items.Select(i => i.Record!).ToList();
        Assert.Equal(reference.Count, ours.Count);
        Assert.True(reader.Statistics.ReachedEndOfFile);
        Assert.True(reader.Statistics.CrossedWrap, "the fixture's ring wraps; a record is split at the end of the file");
        for (var i = 0; i < reference.Count; i++)
        {
            var (theirs, mine) = (reference[i], ours[i]);
            var where = $"event {theirs.Number} (#{i})";
            Assert.True(theirs.Number == mine.RecordNumber, $"{where}: number {mine.RecordNumber}");
            Assert.True(theirs.Created == mine.TimeGenerated, $"{where}: generated {mine.TimeGenerated:o} vs {theirs.Created:o}");
            Assert.True(theirs.Written == mine.TimeWritten, $"{where}: written {mine.TimeWritten:o} vs {theirs.Written:o}");
            Assert.True(theirs.Identifier == mine.EventIdentifier, $"{where}: identifier 0x{mine.EventIdentifier:x8} vs 0x{theirs.Identifier:x8}");
            Assert.True(theirs.Type == (int)mine.EventType, $"{where}: type {mine.EventType} vs {theirs.Type}");
            Assert.True(theirs.Category == mine.Category, $"{where}: category {mine.Category} vs {theirs.Category}");
            Assert.True(theirs.Source == mine.SourceName, $"{where}: source '{mine.SourceName}' vs '{theirs.Source}'");
            Assert.True(theirs.Computer == mine.ComputerName, $"{where}: computer '{mine.ComputerName}' vs '{theirs.Computer}'");
            Assert.True(theirs.UserSid == mine.UserSid, $"{where}: user {mine.UserSid} vs {theirs.UserSid}");
            var mineStrings = mine.Strings;
            Assert.True(theirs.Strings.Count == mineStrings.Count,
                $"{where}: {mineStrings.Count} strings [{string.Join(" | ", mineStrings)}] vs {theirs.Strings.Count} [{string.Join(" | ", theirs.Strings)}]");
            for (var j = 0; j < mineStrings.Count; j++)
                Assert.True(theirs.Strings[j] == mineStrings[j], $"{where} string {j + 1}: '{mineStrings[j]}' vs evtexport '{theirs.Strings[j]}'");
        }
    }
}

using System.Buffers.Binary;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Evt;

namespace KeyDoctor.Tests.Evt;

/// <summary>Damaged and wrapped logs: what can be read is read, the rest is reported with its offset, nothing throws or hangs.</summary>
public class EvtRobustnessTests
{
    private static readonly DateTime Start = new(2005, 3, 1, 8, 0, 0, DateTimeKind.Utc);

    private static List<EvtRecordToWrite> Records(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new EvtRecordToWrite
        {
            RecordNumber = (uint)(100 + i),
            TimeGenerated = Start.AddMinutes(i),
            EventIdentifier = 0xC0001B70, // Service Control Manager 7024
            EventType = EvtEventType.Error,
            SourceName = "Service Control Manager",
            ComputerName = "WEB01",
            UserSid = i % 2 == 0 ? "S-1-5-18" : null,
            Strings = ["IIS Admin Service", $"%%{2148073494 + i}"],
            Data = i % 3 == 0 ? [1, 2, 3, 4, 5] : [],
        })];

    private static List<EvtReadResult> Read(byte[] file, out EvtReader reader)
    {
        reader = new EvtReader(new MemoryStream(file));
        return reader.ReadRecords().ToList();
    }

    [Fact]
    public void AWrittenLogReadsBackWithEveryField()
    {
        var records = Records(20);
        var items = Read(EvtWriter.Write(records, 8192), out var reader);
        Assert.All(items, i => Assert.Null(i.Error));
        Assert.Equal(records.Select(r => r.RecordNumber), items.Select(i => i.Record!.RecordNumber));
        var first = items[0].Record!;
        Assert.Equal(7024, first.EventId);
        Assert.Equal(0xC000, first.Qualifiers);
        Assert.Equal("Service Control Manager", first.SourceName);
        Assert.Equal("WEB01", first.ComputerName);
        Assert.Equal("S-1-5-18", first.UserSid);
        Assert.Equal(["IIS Admin Service", "%%2148073494"], first.Strings);
        Assert.Equal([1, 2, 3, 4, 5], first.Data);
        Assert.Null(items[1].Record!.UserSid);
        Assert.True(reader.Statistics.ReachedEndOfFile);
        Assert.False(reader.Statistics.CrossedWrap);
    }

    [Fact]
    public void AWrappedRingIsReadOldestFirstAcrossTheEndOfTheFile()
    {
        var records = Records(20);
        var size = 8192;
        // Start the oldest record 300 bytes before the end: the second or third record is split at the end.
        var items = Read(EvtWriter.Write(records, size, firstRecordOffset: size - 300), out var reader);
        Assert.All(items, i => Assert.Null(i.Error));
        Assert.Equal(records.Select(r => r.RecordNumber), items.Select(i => i.Record!.RecordNumber));
        Assert.True(reader.Statistics.CrossedWrap);
        Assert.True(reader.Header.HasWrapped);
        Assert.Equal(["IIS Admin Service", "%%2148073513"], items[^1].Record!.Strings);
    }

    [Fact]
    public void ADirtyHeaderWithAStaleEndIsReadToTheEndOfFileRecord()
    {
        var records = Records(12);
        var items = Read(EvtWriter.Write(records, 8192, firstRecordOffset: 4096, dirty: true), out var reader);
        Assert.True(reader.Header.IsDirty);
        Assert.Equal(12, items.Count(i => i.Record is not null));
        Assert.Equal(112u, reader.EndOfFile!.NextRecordNumber);
    }

    [Fact]
    public void AHeaderWhoseFirstOffsetIsStaleFallsBackToTheEndOfFileRecord()
    {
        var file = EvtWriter.Write(Records(12), 8192, firstRecordOffset: 1024, dirty: true);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 512); // points at zeroes
        var items = Read(file, out _);
        Assert.Equal(12, items.Count(i => i.Record is not null));
    }

    [Fact]
    public void ARecordWhoseSizeLiesIsCutAtTheNextRecordAndTheRestIsRead()
    {
        var records = Records(10);
        var file = EvtWriter.Write(records, 8192);
        var third = Offsets(file)[2];
        var size = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(third));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(third), size + 200); // the size lies, the copy does not
        var items = Read(file, out var reader);
        Assert.All(items, i => Assert.Null(i.Error));
        Assert.Equal(records.Select(r => r.RecordNumber), items.Select(i => i.Record!.RecordNumber));
        Assert.Contains("declared size", items[2].Record!.Damage);
        Assert.Equal(1, reader.Statistics.DamagedRecords);
    }

    [Fact]
    public void AnImpossibleSizeIsAnErrorWithItsOffsetAndTheNextRecordIsFound()
    {
        var file = EvtWriter.Write(Records(10), 8192);
        var fourth = Offsets(file)[3];
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(fourth), 0x7FFFFFF0);
        var items = Read(file, out _);
        var error = Assert.Single(items, i => i.IsError).Error!;
        Assert.Equal(fourth, error.FileOffset);
        Assert.Equal(103u, error.RecordNumber);
        Assert.Equal(9, items.Count(i => i.Record is not null));
        Assert.Equal(104u, items[4].Record!.RecordNumber);
    }

    [Fact]
    public void ATruncatedFileGivesTheRecordsBeforeTheCut()
    {
        var file = EvtWriter.Write(Records(20), 16384);
        var cut = file.AsSpan(0, Offsets(file)[7] + 30).ToArray();
        var items = Read(cut, out var reader);
        Assert.Equal(7, items.Count(i => i.Record is not null));
        Assert.False(reader.Statistics.ReachedEndOfFile);
    }

    [Fact]
    public void StringsThatRunPastTheRecordAreKeptAsFarAsTheyGo()
    {
        var file = EvtWriter.Write(Records(3), 8192);
        var first = Offsets(file)[0];
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(first + 26), 9); // claims 9 strings, has 2
        var record = Read(file, out _)[0].Record!;
        Assert.Equal("IIS Admin Service", record.Strings[0]);
        Assert.Contains("strings are missing", record.Damage);
    }

    [Fact]
    public void NotAnEvtFileThrowsWithTheOffset()
    {
        var ex = Assert.Throws<MalformedDataException>(() => new EvtReader(new MemoryStream(new byte[100])));
        Assert.Equal("evt", ex.Format);
        Assert.Contains("LfLe", ex.Message);
        Assert.Throws<MalformedDataException>(() => new EvtReader(new MemoryStream(new byte[10])));
    }

    [Fact]
    public void RandomDamageNeverThrowsNorHangs()
    {
        var clean = File.ReadAllBytes(Fixtures.Path("evt/SysEvent.Evt"));
        var random = new Random(25);
        for (var round = 0; round < 40; round++)
        {
            var file = clean.AsSpan(0, random.Next(48, clean.Length)).ToArray();
            for (var i = 0; i < 50; i++) file[random.Next(48, file.Length)] = (byte)random.Next(256);
            using var reader = new EvtReader(new MemoryStream(file));
            var count = reader.ReadRecords().Count();
            Assert.True(count <= 20000);
        }
    }

    [Fact]
    public void ARecordMapsOntoTheEvtxEventAbstraction()
    {
        var file = EvtWriter.Write(Records(2), 4096);
        using var reader = new EvtReader(new MemoryStream(file));
        var record = reader.ReadEvents(EvtReader.ChannelOf(@"C:\WINDOWS\system32\config\SysEvent.Evt")).First();
        Assert.Equal(7024, record.EventId);
        Assert.Equal(0xC000, record.Qualifiers);
        Assert.Equal(2, record.Level);
        Assert.Equal("System", record.Channel);
        Assert.Equal("Service Control Manager", record.Provider);
        Assert.Equal(100ul, record.RecordId);
        Assert.Equal(Start, record.TimeCreated);
        Assert.Equal(["IIS Admin Service", "%%2148073494", "0102030405"], record.Data.Select(d => d.Value));
        Assert.Equal("Binary", record.Data[2].Name);
        var xml = record.RenderXml();
        Assert.Contains("<EventID Qualifiers=\"49152\">7024</EventID>", xml);
        Assert.Contains("<Data>IIS Admin Service</Data>", xml);
    }

    private static List<int> Offsets(byte[] file)
    {
        var offsets = new List<int>();
        for (var at = EvtFileHeader.Size; at + 8 <= file.Length;)
        {
            if (!file.AsSpan(at + 4, 4).SequenceEqual("LfLe"u8)) break;
            offsets.Add(at);
            at += (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
        }
        return offsets;
    }
}

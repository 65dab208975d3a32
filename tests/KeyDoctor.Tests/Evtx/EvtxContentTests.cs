using System.Buffers.Binary;
using System.Text;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Tests.Evtx;

/// <summary>What the seeds' evidence looks like once read: exact values from the real samples.</summary>
public class EvtxContentTests
{
    private static List<EvtxRecord> Read(string fixture, EvtxReadOptions? options = null)
    {
        using var reader = EvtxReader.Open(Fixtures.Path("evtx/" + fixture));
        return [.. reader.ReadRecords(options).Where(i => !i.IsError).Select(i => i.Record!)];
    }

    [Fact]
    public void SecurityKeyOperations5061And5058()
    {
        var records = Read("security.evtx");
        var e5061 = records.Where(r => r.EventId == 5061).ToList();
        Assert.Equal(102, e5061.Count);
        Assert.Equal(102, records.Count(r => r.EventId == 5058));
        Assert.All(e5061, r => Assert.Equal("IIS Express Development Certificate Container", r.GetData("KeyName")));
        var first = e5061[0];
        Assert.Equal("Microsoft Software Key Storage Provider", first.GetData("ProviderName"));
        Assert.Equal("Microsoft-Windows-Security-Auditing", first.Provider);
        Assert.Equal("{54849625-5478-4994-A5BA-3E3B0328C30D}", first.ProviderGuid);
        Assert.Equal("Security", first.Channel);
        Assert.Equal(920ul, first.RecordId);
        Assert.Equal(new DateTime(2016, 7, 16, 0, 44, 6, DateTimeKind.Utc).AddTicks(601915), first.TimeCreated);
        Assert.Equal("0x3e7", first.GetData("SubjectLogonId")); // HexInt64
        Assert.Equal("0x0", first.GetData("ReturnCode")); // HexInt32
        Assert.Equal(0x8020000000000000ul, first.Keywords);
    }

    [Fact]
    public void ServiceControlManager7023IsShapedLike7024()
    {
        var e7023 = Read("system.evtx").Where(r => r.EventId == 7023).ToList();
        Assert.Equal(12, e7023.Count);
        Assert.All(e7023, r => Assert.Equal("Service Control Manager", r.Provider));
        Assert.All(e7023, r => Assert.Equal(["param1", "param2", "Binary"], r.Data.Select(d => d.Name)));
        var first = e7023[0];
        Assert.Equal(40ul, first.RecordId);
        Assert.Equal("Spooler", first.GetData("param1"));
        Assert.Equal("%%2147942414", first.GetData("param2"));
        Assert.Equal(49152, first.Qualifiers);
        Assert.Equal("Service Control Manager", first.EventSourceName);
        Assert.Equal("{555908d1-a6d7-4695-8e1e-26931d2012f4}", first.ProviderGuid);
        Assert.Equal(2, first.Level);
    }

    [Fact]
    public void ObjectAccess4663HasTheObjectName()
    {
        var records = Read("cc0-4663-object-access.evtx");
        Assert.Equal([4663, 4663], records.Select(r => r.EventId));
        var r = records[0];
        Assert.Equal(@"\Device\HarddiskVolume4\Windows\System32\lsass.exe", r.GetData("ObjectName"));
        Assert.Equal("Process", r.GetData("ObjectType"));
        Assert.Equal("0x10", r.GetData("AccessMask"));
        Assert.Equal(@"C:\Windows\System32\Taskmgr.exe", r.GetData("ProcessName"));
        Assert.Equal("S-1-5-21-1089590679-3038349081-645448463-500", r.GetData("SubjectUserSid"));
        Assert.Equal("AD01.kdmo.lan", r.Computer);

        var ids = Read("cc0-4656-4663-4658-object-access.evtx").Select(x => x.EventId).ToList();
        Assert.Contains(4656, ids);
        Assert.Contains(4658, ids);
        Assert.Contains(4663, ids);
    }

    [Fact]
    public void SidGuidAndFileTimeValues()
    {
        var logon = Read("security.evtx").Single(r => r.RecordId == 2);
        Assert.Equal(4624, logon.EventId);
        Assert.Equal("S-1-0-0", logon.GetData("SubjectUserSid"));
        Assert.Equal("S-1-5-18", logon.GetData("TargetUserSid"));
        Assert.Equal("{00000000-0000-0000-0000-000000000000}", logon.GetData("LogonGuid"));

        var kernel = Read("system.evtx").Single(r => r.RecordId == 3);
        Assert.Equal("Microsoft-Windows-Kernel-General", kernel.Provider);
        Assert.Equal("S-1-5-18", kernel.UserId);
        Assert.Equal("2017-07-12T17:16:05.4992599Z", kernel.Data[6].Value); // FILETIME
    }

    [Fact]
    public void SizeTRendersAsHex()
    {
        var logon = Read("Security_with_size_t.evtx").Single(r => r.RecordId == 2);
        Assert.Equal(4624, logon.EventId);
        Assert.Equal("0x4", logon.Data[16].Value); // evtxexport prints the same SizeT as "4"
    }

    [Fact]
    public void StringArrayFillsOneElementPerItem()
    {
        var record = Read("system.evtx")[0];
        Assert.Equal(6009, record.EventId);
        Assert.Equal(["10.00.", "15063", "", "Multiprocessor Free", "0"], record.Data.Where(d => d.Name == "Data").Select(d => d.Value));
        var xml = record.RenderXml();
        Assert.Equal(5, xml.Split("<Data").Length - 1);
        Assert.Contains("<Data>Multiprocessor Free</Data>", xml);
        Assert.Contains("<EventID Qualifiers=\"32768\">6009</EventID>", xml);
    }

    [Fact]
    public void NestedBinXmlAndEntityReferences()
    {
        var records = Read("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx");
        var first = records[0];
        Assert.Equal(80, first.EventId);
        Assert.Equal("Setup.exe", first.GetData("ProcessName"));
        Assert.Equal("{1CB1FE4B-D685-48FC-A3FA-42893E4C1717}", first.GetData("TaskId"));
        Assert.Contains("<EventAuxInfo ProcessName=\"Setup.exe\"/>", first.RenderXml());

        // Quotes inside CAPI2 data are stored as entity references (&quot;) and stay escaped in XML.
        var withEntity = records.First(r => r.RenderXml().Contains("eTag=\"&quot;ea9ee7b1bc43d21:0&quot;\""));
        Assert.Equal("\"ea9ee7b1bc43d21:0\"", withEntity.GetData("eTag"));
    }

    [Fact]
    public void HeaderFlagsAndChecksums()
    {
        using (var system = EvtxReader.Open(Fixtures.Path("evtx/system.evtx")))
        {
            Assert.Equal(3, system.Header.ChunkCount); // the dirty header lies...
            _ = system.ReadRecords().Count();
            Assert.Equal(15, system.Statistics.ChunksRead); // ...there are 15 chunks
            Assert.True(system.Header.ChecksumValid);
            Assert.True(system.Header.IsDirty);
        }
        using (var noCrc = EvtxReader.Open(Fixtures.Path("evtx/Application_no_crc32.evtx")))
        {
            Assert.Equal((3, 2), (noCrc.Header.MajorVersion, noCrc.Header.MinorVersion));
            Assert.True(noCrc.Header.HasNoChecksums);
            Assert.Equal(17, noCrc.ReadRecords().Count());
            Assert.Equal(0, noCrc.Statistics.ChunkHeaderChecksumErrors + noCrc.Statistics.ChunkDataChecksumErrors);
        }
        using (var post = EvtxReader.Open(Fixtures.Path("evtx/post-Security.evtx")))
            Assert.Equal(0x1b970000u, post.Header.Flags);
        using (var badCache = EvtxReader.Open(Fixtures.Path("evtx/security_bad_string_cache.evtx")))
        {
            Assert.Equal(2261, badCache.ReadRecords().Count(i => !i.IsError));
            Assert.Equal(1, badCache.Statistics.ChunkHeaderChecksumErrors);
        }
    }

    [Fact]
    public void IdFilterSkipsOtherRecordsBeforeRenderingThem()
    {
        using var reader = EvtxReader.Open(Fixtures.Path("evtx/security.evtx"));
        var hits = reader.ReadRecords(new EvtxReadOptions { EventIds = new HashSet<int> { 5061, 5058 } }).ToList();
        Assert.Equal(204, hits.Count);
        Assert.All(hits, h => Assert.Contains(h.Record!.EventId, new[] { 5061, 5058 }));
        Assert.Equal(2261 - 204, reader.Statistics.RecordsFilteredOut);
    }

    [Fact]
    public void IrregularBooleanValuesAreRead()
    {
        var records = Read("sample-with-irregular-bool-values.evtx");
        Assert.Equal(3028, records.Count);
        Assert.Contains(records, r => r.Data.Any(d => d.Value is "true"));
    }

    [Fact]
    public void ProcessingInstructionCharAndEntityReferencesAndCData()
    {
        // A hand-made record body: PI target + data, then an element with text, a character reference,
        // an entity reference and a CDATA section, names stored inline as in real chunks.
        var chunk = new byte[65536];
        var w = new Writer(chunk, 512);
        w.Bytes(0x0F, 0x01, 0x01, 0x00);
        w.Bytes(0x0A); w.InlineName("xml-stylesheet");
        w.Bytes(0x0B); w.Counted("type=\"text/xsl\"");
        w.Bytes(0x01); w.U32(0); w.InlineName("Event");
        w.Bytes(0x02);
        w.Bytes(0x05, 0x01); w.Counted("hi");
        w.Bytes(0x08); w.U16(0x41);
        w.Bytes(0x09); w.InlineName("amp");
        w.Bytes(0x07); w.Counted("x<y");
        w.Bytes(0x04, 0x00);

        var context = new ChunkContext(chunk, 0);
        var nodes = new BinXmlParser(context, 512, w.Position, inTemplate: false, depth: 0).ParseFragment();
        var sink = new XmlRenderSink();
        BinXmlEvaluator.Walk(context, nodes, [], sink);
        Assert.Equal("<?xml-stylesheet type=\"text/xsl\"?>\n<Event>hi&#65;&amp;<![CDATA[x<y]]></Event>", sink.ToString());
    }

    [Theory]
    [InlineData((byte)BinXmlValueType.SystemTime, "E8070500030015000A0009000800F401", "2024-05-21T10:09:08.500Z")]
    [InlineData((byte)BinXmlValueType.FileTime, "400563EB66ABDA01", "2024-05-21T10:09:08.5000000Z")]
    [InlineData((byte)BinXmlValueType.Sid, "010500000000000515000000A1B2C3D4E5F60718293A4B5CE8030000", "S-1-5-21-3569595041-403175141-1548433961-1000")]
    [InlineData((byte)BinXmlValueType.Guid, "4BFEB11C85D6FC48A3FA42893E4C1717", "{1CB1FE4B-D685-48FC-A3FA-42893E4C1717}")]
    [InlineData((byte)BinXmlValueType.Bool, "02000000", "true")]
    [InlineData((byte)BinXmlValueType.Int32, "FEFFFFFF", "-2")]
    [InlineData((byte)BinXmlValueType.HexInt32, "06000980", "0x80090006")]
    [InlineData((byte)BinXmlValueType.SizeT, "E703000000000000", "0x3e7")]
    [InlineData((byte)BinXmlValueType.Binary, "0A0B", "0A0B")]
    [InlineData((byte)BinXmlValueType.AnsiString, "4B65793A8000", "Key:€")]
    [InlineData((byte)BinXmlValueType.AnsiString, "4B65793A0041", "Key:")]
    [InlineData((byte)BinXmlValueType.UInt16, "3412", "4660")]
    [InlineData((byte)BinXmlValueType.UInt64, "0100000000000080", "9223372036854775809")]
    [InlineData((byte)BinXmlValueType.Int64, "FEFFFF", "16777214")]
    [InlineData((byte)0x81, "41000000420043000000", "A,BC")]
    [InlineData((byte)0x88, "0100000002000000", "1,2")]
    public void ValueTypesRenderLikeWindows(byte typeCode, string hex, string expected)
    {
        var type = (BinXmlValueType)typeCode;
        var bytes = Convert.FromHexString(hex);
        var chunk = new byte[64];
        bytes.CopyTo(chunk, 8);
        var value = new BinXmlValue(type, 8, bytes.Length);
        Assert.Equal(expected, BinXmlValues.Render(chunk, value));
        // The output path formats into a buffer instead: the same text.
        var buffer = new char[128];
        Assert.True(BinXmlValues.TryFormat(chunk, value, buffer, out var written));
        Assert.Equal(expected, new string(buffer, 0, written));
    }

    /// <summary>Writes BinXml bytes for the hand-made record above.</summary>
    private sealed class Writer(byte[] buffer, int start)
    {
        public int Position { get; private set; } = start;

        public void Bytes(params byte[] bytes)
        {
            bytes.CopyTo(buffer, Position);
            Position += bytes.Length;
        }

        public void U16(ushort v)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(Position), v);
            Position += 2;
        }

        public void U32(uint v)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(Position), v);
            Position += 4;
        }

        public void Counted(string text)
        {
            U16((ushort)text.Length);
            Bytes(Encoding.Unicode.GetBytes(text));
        }

        /// <summary>A name reference pointing just after itself: the name follows inline.</summary>
        public void InlineName(string name)
        {
            U32((uint)(Position + 4));
            U32(0); // next name in the hash bucket
            U16(0); // hash (not checked by readers)
            Counted(name);
            U16(0);
        }
    }
}

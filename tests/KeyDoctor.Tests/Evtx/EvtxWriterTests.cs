using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Tests.Evtx;

/// <summary>
/// The writer's files are real EVTX: our reader, Debian's evtxexport (libevtx) and python3-evtx all read them
/// with the values that were written.
/// </summary>
public class EvtxWriterTests
{
    private static readonly DateTime T0 = new(2024, 5, 21, 10, 9, 8, DateTimeKind.Utc);

    /// <summary>The seeds' evidence, one event of each kind, using every value type the writer offers.</summary>
    public static List<EventToWrite> SeedEvents()
    {
        var scm = new Guid("555908d1-a6d7-4695-8e1e-26931d2012f4");
        var security = new Guid("54849625-5478-4994-a5ba-3e3b0328c30d");
        EventToWrite Security(ulong id, int eventId, ushort task, params EventDataValue[] data) => new()
        {
            Provider = "Microsoft-Windows-Security-Auditing", ProviderGuid = security, EventId = eventId, Level = 0,
            Task = task, Keywords = 0x8020000000000000, TimeCreated = T0.AddSeconds(id), RecordId = id,
            Computer = "WEB01.contoso.local", Channel = "Security", ProcessId = 612, ThreadId = 1700, Version = 1,
            Data = data,
        };
        var subject = new[]
        {
            EventDataValue.Sid("SubjectUserSid", "S-1-5-21-3569595041-403175141-1548433961-1000"),
            EventDataValue.String("SubjectUserName", "admin"),
            EventDataValue.String("SubjectDomainName", "CONTOSO"),
            EventDataValue.HexInt64("SubjectLogonId", 0x6007a),
        };
        return
        [
            new()
            {
                Provider = "Service Control Manager", ProviderGuid = scm, EventSourceName = "Service Control Manager",
                EventId = 7024, Qualifiers = 49152, Level = 2, Keywords = 0x8080000000000000, TimeCreated = T0,
                RecordId = 1, Computer = "WEB01.contoso.local", Channel = "System", ProcessId = 640, ThreadId = 700,
                Data =
                [
                    EventDataValue.String("param1", "IIS Admin Service"),
                    EventDataValue.String("param2", "%%2148073478"),
                    EventDataValue.Binary("Binary", [0x49, 0x00, 0x49, 0x00, 0x53, 0x00, 0x41, 0x00, 0x44, 0x00, 0x4D, 0x00, 0x49, 0x00, 0x4E, 0x00, 0x00, 0x00]),
                ],
            },
            new()
            {
                Provider = "Schannel", ProviderGuid = new Guid("1f678132-5938-4686-9fdc-c8ff68f15c85"), EventId = 36870,
                Level = 2, Keywords = 0x8000000000000000, TimeCreated = T0.AddMinutes(1), RecordId = 2,
                Computer = "WEB01.contoso.local", Channel = "System", UserSid = "S-1-5-18", ProcessId = 700, ThreadId = 2200,
                Data = [EventDataValue.HexInt32("ErrorCode", 0x8009030D), EventDataValue.UInt32("ErrorState", 10001)],
            },
            new()
            {
                Provider = "Schannel", ProviderGuid = new Guid("1f678132-5938-4686-9fdc-c8ff68f15c85"), EventId = 36869,
                Level = 2, TimeCreated = T0.AddMinutes(2), RecordId = 3, Computer = "WEB01.contoso.local", Channel = "System",
                UserSid = "S-1-5-18",
                Data = [EventDataValue.HexInt32("ErrorCode", 0x8009030D), EventDataValue.UInt32("ErrorState", 10001)],
            },
            new()
            {
                Provider = "Schannel", ProviderGuid = new Guid("1f678132-5938-4686-9fdc-c8ff68f15c85"), EventId = 36871,
                Level = 2, TimeCreated = T0.AddMinutes(3), RecordId = 4, Computer = "WEB01.contoso.local", Channel = "System",
                UserSid = "S-1-5-18",
                Data = [EventDataValue.String("Type", "server"), EventDataValue.UInt32("ErrorState", 10013)],
            },
            new()
            {
                Provider = "Microsoft-Windows-HttpEvent", EventSourceName = "HTTP", EventId = 15021, Qualifiers = 49152,
                Level = 2, Keywords = 0x80000000000000, TimeCreated = T0.AddMinutes(4), RecordId = 5,
                Computer = "WEB01.contoso.local", Channel = "System",
                Data =
                [
                    EventDataValue.String("DeviceObject", @"\Device\Http\ReqQueue"),
                    EventDataValue.String("Endpoint", "0.0.0.0:443"),
                    EventDataValue.Binary("Binary", [0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00]),
                ],
            },
            Security(6, 5061, 12290, [.. subject,
                EventDataValue.String("ProviderName", "Microsoft Software Key Storage Provider"),
                EventDataValue.String("AlgorithmName", "RSA"),
                EventDataValue.String("KeyName", "IIS Express Development Certificate Container"),
                EventDataValue.String("KeyType", "%%2499"),
                EventDataValue.String("Operation", "%%2480"),
                EventDataValue.HexInt32("ReturnCode", 0x80090016)]),
            Security(7, 5058, 12292, [.. subject,
                EventDataValue.String("ProviderName", "Microsoft Software Key Storage Provider"),
                EventDataValue.String("AlgorithmName", "UNKNOWN"),
                EventDataValue.String("KeyName", "IIS Express Development Certificate Container"),
                EventDataValue.String("KeyType", "%%2499"),
                EventDataValue.String("KeyFilePath", @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\d6d986f09a1ee04e24c949879fdb506c_7e0c3b2b-1b2a-4f42-9d49-5cfd9c1b2a11"),
                EventDataValue.String("Operation", "%%2458"),
                EventDataValue.HexInt32("ReturnCode", 0x2)]),
            Security(8, 4656, 12800, [.. subject,
                EventDataValue.String("ObjectServer", "Security"),
                EventDataValue.String("ObjectType", "File"),
                EventDataValue.String("ObjectName", @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\d6d986f09a1ee04e24c949879fdb506c_7e0c3b2b-1b2a-4f42-9d49-5cfd9c1b2a11"),
                EventDataValue.HexInt64("HandleId", 0x0),
                EventDataValue.Guid("TransactionId", Guid.Empty),
                EventDataValue.HexInt32("AccessMask", 0x120089),
                EventDataValue.HexInt64("ProcessId", 0x1e20),
                EventDataValue.String("ProcessName", @"C:\Windows\System32\inetsrv\w3wp.exe")]),
            Security(9, 4663, 12800, [.. subject,
                EventDataValue.String("ObjectServer", "Security"),
                EventDataValue.String("ObjectType", "File"),
                EventDataValue.String("ObjectName", @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\d6d986f09a1ee04e24c949879fdb506c_7e0c3b2b-1b2a-4f42-9d49-5cfd9c1b2a11"),
                EventDataValue.HexInt64("HandleId", 0x274),
                EventDataValue.String("AccessList", "%%4416"),
                EventDataValue.HexInt32("AccessMask", 0x1),
                EventDataValue.HexInt64("ProcessId", 0x1e20),
                EventDataValue.String("ProcessName", @"C:\Windows\System32\inetsrv\w3wp.exe"),
                EventDataValue.FileTime("AccessTime", T0.AddTicks(1234560)),
                EventDataValue.UInt64("Sequence", 42)]),
        ];
    }

    /// <summary>How each written value reads back in Windows rendering.</summary>
    private static string Expected(EventDataValue v) => v.Kind switch
    {
        EventValueKind.String => (string)v.Value,
        EventValueKind.UInt32 => ((uint)v.Value).ToString(CultureInfo.InvariantCulture),
        EventValueKind.UInt64 => ((ulong)v.Value).ToString(CultureInfo.InvariantCulture),
        EventValueKind.HexInt32 => "0x" + ((uint)v.Value).ToString("x", CultureInfo.InvariantCulture),
        EventValueKind.HexInt64 => "0x" + ((ulong)v.Value).ToString("x", CultureInfo.InvariantCulture),
        EventValueKind.Guid => ((Guid)v.Value).ToString("B").ToUpperInvariant(),
        EventValueKind.Sid => v.Name == "SubjectUserSid" ? "S-1-5-21-3569595041-403175141-1548433961-1000" : "?",
        EventValueKind.FileTime => ((DateTime)v.Value).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        _ => Convert.ToHexString((byte[])v.Value),
    };

    private static string WriteToTemp(IEnumerable<EventToWrite> events)
    {
        var path = Path.Combine(Path.GetTempPath(), $"keydoctor-writer-{Guid.NewGuid():N}.evtx");
        using var file = File.Create(path);
        EvtxWriter.Write(file, events);
        return path;
    }

    [Fact]
    public void OurReaderReadsEveryFieldBack()
    {
        var events = SeedEvents();
        var stream = new MemoryStream();
        EvtxWriter.Write(stream, events);
        stream.Position = 0;
        using var reader = new EvtxReader(stream);
        Assert.True(reader.Header.ChecksumValid);
        Assert.Equal(1, reader.Header.ChunkCount);
        var records = reader.ReadRecords().Select(r => r.Record ?? throw new Xunit.Sdk.XunitException(r.Error!.ToString())).ToList();
        Assert.Equal(0, reader.Statistics.ChunkHeaderChecksumErrors + reader.Statistics.ChunkDataChecksumErrors);
        Assert.Equal(events.Count, records.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var (written, read) = (events[i], records[i]);
            Assert.Equal(written.RecordId, read.RecordId);
            Assert.Equal(written.TimeCreated, read.TimeCreated);
            Assert.Equal(written.TimeCreated, read.WrittenTime);
            Assert.Equal(written.EventId, read.EventId);
            Assert.Equal(written.Qualifiers, read.Qualifiers);
            Assert.Equal(written.Level, read.Level);
            Assert.Equal(written.Task, read.Task);
            Assert.Equal(written.Opcode, read.Opcode);
            Assert.Equal(written.Version, read.Version);
            Assert.Equal(written.Keywords, read.Keywords);
            Assert.Equal(written.Provider, read.Provider);
            Assert.Equal(written.ProviderGuid?.ToString("B").ToUpperInvariant(), read.ProviderGuid);
            Assert.Equal(written.EventSourceName, read.EventSourceName);
            Assert.Equal(written.Channel, read.Channel);
            Assert.Equal(written.Computer, read.Computer);
            Assert.Equal(written.UserSid, read.UserId);
            Assert.Equal(written.ProcessId, read.ProcessId);
            Assert.Equal(written.ThreadId, read.ThreadId);
            Assert.Equal(written.Data.Select(d => (d.Name, Expected(d))), read.Data.Select(d => (d.Name, d.Value)));
        }
        var xml = records[0].RenderXml();
        Assert.Contains("<EventID Qualifiers=\"49152\">7024</EventID>", xml);
        Assert.Contains("<Security/>", xml); // no SID: the optional UserID attribute is left out
        Assert.DoesNotContain("Qualifiers", records[1].RenderXml());
    }

    [Fact]
    public void ManyEventsFillSeveralChunksAndReuseTemplates()
    {
        var seeds = SeedEvents();
        var events = Enumerable.Range(0, 3000).Select(i => seeds[i % seeds.Count] with
        {
            RecordId = (ulong)(i + 1),
            TimeCreated = T0.AddSeconds(i),
        }).ToList();
        var stream = new MemoryStream();
        EvtxWriter.Write(stream, events);
        stream.Position = 0;
        using var reader = new EvtxReader(stream);
        var records = reader.ReadRecords().ToList();
        Assert.All(records, r => Assert.False(r.IsError));
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => (ulong)i), records.Select(r => r.Record!.RecordId));
        Assert.True(reader.Header.ChunkCount > 1);
        Assert.Equal(reader.Header.ChunkCount, reader.Statistics.ChunksRead);
        Assert.Equal(0, reader.Statistics.ChunkHeaderChecksumErrors + reader.Statistics.ChunkDataChecksumErrors);
        Assert.Equal(3001ul, reader.Header.NextRecordId);
        // Later records of a shape only reference the definition: much smaller than the first of the chunk.
        var size = (int i) => (int)((i + 1 < records.Count ? records[i + 1].Record!.FileOffset : 0) - records[i].Record!.FileOffset);
        Assert.True(size(seeds.Count) < size(0) / 2, $"{size(seeds.Count)} vs {size(0)}");
    }

    [Fact]
    public void NameHashMatchesTheStoredHashes()
    {
        // Hashes read from security.evtx's string table names.
        Assert.Equal(EvtxWriter.NameHash("Event"), StoredHash("Event"));
        Assert.Equal(EvtxWriter.NameHash("EventData"), StoredHash("EventData"));
    }

    private static ushort StoredHash(string name)
    {
        var file = Fixtures.Bytes("evtx/security.evtx").AsSpan(4096, 65536);
        for (var bucket = 0; bucket < 64; bucket++)
        {
            var offset = BitConverter.ToInt32(file[(128 + (4 * bucket))..]);
            for (var guard = 0; offset != 0 && guard < 100; guard++)
            {
                var count = BitConverter.ToUInt16(file[(offset + 6)..]);
                var text = System.Text.Encoding.Unicode.GetString(file.Slice(offset + 8, 2 * count));
                if (text == name) return BitConverter.ToUInt16(file[(offset + 4)..]);
                offset = BitConverter.ToInt32(file[offset..]);
            }
        }
        throw new Xunit.Sdk.XunitException($"{name} not in the string table");
    }

    [Fact]
    public void EvtxexportReadsTheWrittenFile()
    {
        var events = SeedEvents();
        var path = WriteToTemp(events);
        try
        {
            var reference = EvtxexportReference.Export(path);
            Assert.Equal(events.Count, reference.Count);
            for (var i = 0; i < events.Count; i++)
            {
                var (e, r) = (events[i], reference[i]);
                Assert.Equal(e.RecordId, r.RecordId);
                Assert.Equal(e.TimeCreated, r.Written);
                Assert.Equal(e.EventId, r.EventId);
                Assert.Equal(e.Level, r.Level);
                Assert.Equal(e.Computer, r.Computer);
                Assert.Equal(e.EventSourceName ?? e.Provider, r.Source);
                Assert.Equal(e.UserSid, r.UserSid);
                Assert.Equal(e.Data.Select(d => Plain(Expected(d))), r.Strings.Select(s => Plain(s)));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PythonEvtxReadsTheWrittenFile()
    {
        var events = SeedEvents();
        var path = WriteToTemp(events);
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("/usr/bin/evtx_dump.py");
            psi.ArgumentList.Add(path);
            using var process = Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEnd();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, "evtx_dump.py failed: " + stderr);

            XNamespace ns = "http://schemas.microsoft.com/win/2004/08/events/event";
            // evtx_dump.py declares XML 1.1, which System.Xml does not accept; the body is plain 1.0.
            var body = output.StartsWith("<?xml", StringComparison.Ordinal) ? output[(output.IndexOf("?>", StringComparison.Ordinal) + 2)..] : output;
            var parsed = XDocument.Parse(body).Root!.Elements(ns + "Event").ToList();
            Assert.Equal(events.Count, parsed.Count);
            for (var i = 0; i < events.Count; i++)
            {
                var (e, x) = (events[i], parsed[i]);
                var system = x.Element(ns + "System")!;
                Assert.Equal(e.EventId.ToString(CultureInfo.InvariantCulture), system.Element(ns + "EventID")!.Value);
                Assert.Equal(e.RecordId.ToString(CultureInfo.InvariantCulture), system.Element(ns + "EventRecordID")!.Value);
                Assert.Equal(e.Provider, system.Element(ns + "Provider")!.Attribute("Name")!.Value);
                Assert.Equal(e.Computer, system.Element(ns + "Computer")!.Value);
                Assert.Equal(e.Channel, system.Element(ns + "Channel")!.Value);
                var data = x.Element(ns + "EventData")!.Elements(ns + "Data").ToList();
                Assert.Equal(e.Data.Select(d => d.Name), data.Select(d => d.Attribute("Name")!.Value));
                // python-evtx prints binary values in base64, and converts FILETIME through a float (±1 µs).
                Assert.Equal(e.Data.Select(d => Plain(d.Kind == EventValueKind.Binary ? Convert.ToBase64String((byte[])d.Value) : Expected(d), "fff")),
                    data.Select(d => Plain(d.Value, "fff")));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>libevtx pads hex and prints 9 fractional digits; python-evtx prints times with a space.</summary>
    private static string Plain(string value, string fraction = "ffffff")
    {
        value = value.Trim();
        if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
            return hex.ToString(CultureInfo.InvariantCulture);
        if (value.Length >= 19 && value[4] == '-' && value[7] == '-' && (value[10] is 'T' or ' ')
            && DateTime.TryParse(value.TrimEnd('Z'), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
            return t.ToString("yyyy-MM-dd HH:mm:ss." + fraction, CultureInfo.InvariantCulture);
        return value.StartsWith('{') ? value.ToUpperInvariant() : value;
    }
}

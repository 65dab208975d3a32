using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using KeyDoctor.Cli;
using KeyDoctor.Cli.Commands;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Tests.Procmon;

/// <summary>
/// `trace --json` writes each event with <see cref="TraceEventWriter"/> (not the serializer) and decodes a capture's
/// events on all cores: the bytes and the order must be what the serializer and one thread give.
/// </summary>
public class TraceOutputTests
{
    private static readonly string[] Awkward =
    [
        "", "plain", @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\c2319c42_x", "quote \" and <tag> & 'apos' +",
        "tab\tnewline\r\nbell\u0007 nul\0 del\u007F", "café ß", "emoji 😀 here", "lone \uD800 surrogate", "\uDC00 low first",
        "U+2028\u2028 U+FEFF\uFEFF", new string('\\', 20_000), new string('a', 16 * 1024) + "é",
    ];

    [Fact]
    public void JsonStringsEscapeEveryCharacterAsTheWriterDoes()
    {
        var texts = Awkward.Concat(Enumerable.Range(0, 128).Select(c => $"x{(char)c}y{(char)c}")).ToList();
        foreach (var (strings, encoder) in new[] { (JsonStrings.Relaxed, JavaScriptEncoder.UnsafeRelaxedJsonEscaping), (JsonStrings.Default, null) })
        {
            foreach (var text in texts)
            {
                var expected = Write(new JsonWriterOptions { Encoder = encoder }, w => w.WriteStringValue(text));
                var actual = Write(new JsonWriterOptions { Encoder = encoder }, w => strings.WriteValue(w, text));
                Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(actual));
                if (strings.TryEncode(text) is { } encoded) Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(encoded));
            }
        }
    }

    [Fact]
    public void TheEventWriterWritesTheSerializersBytesForEveryFixtureEvent()
    {
        var events = new List<ProcmonEvent>();
        foreach (var capture in ProcmonFixtures.Captures)
        {
            using (var pml = PmlReader.Open(ProcmonFixtures.Path(capture + ".pml"))) events.AddRange(pml.ReadEvents());
            using (var csv = ProcmonCsvReader.Open(ProcmonFixtures.Path(capture + ".csv"))) events.AddRange(csv.ReadEvents());
        }
        var process = new ProcmonProcess { Name = "w3wp.exe", ProcessId = 4 };
        events.AddRange(Awkward.Select((text, i) => new ProcmonEvent
        {
            Process = process with { Name = text },
            Operation = text,
            Path = text,
            Result = text,
            Detail = text,
            Time = i % 2 == 0 ? null : new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(i),
        }));
        Assert.True(events.Count > 1000, $"only {events.Count} events");
        foreach (var e in events)
        {
            var expected = JsonSerializer.SerializeToUtf8Bytes(
                new TraceEventJson(e.Time, e.Process.Name, e.Process.ProcessId, e.ThreadId, e.Operation, e.Path, e.Result, e.Detail),
                TraceJsonContext.Lines.TraceEventJson);
            var actual = Write(TraceEventWriter.Options, w => TraceEventWriter.Write(w, e.Columns));
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(actual));
        }
    }

    [Fact]
    public void BatchesDecodedInParallelComeOutInCaptureOrderAndStopAtTheCorruptEvent()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kd-order-{Guid.NewGuid():N}.pml");
        try
        {
            var processes = Enumerable.Range(0, 3).Select(i => new ProcmonProcess { Index = i, ProcessId = (uint)(100 + i), Name = $"p{i}.exe" }).ToList();
            var start = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
            using (var file = File.Create(path))
                PmlWriter.Write(file, "WEB01", processes, Enumerable.Range(0, 5000).Select(i => new PmlEventToWrite
                {
                    ProcessIndex = i % 3, Time = start.AddTicks(i), Class = ProcmonEventClass.Registry, Operation = 0,
                    Path = $@"HKLM\SOFTWARE\Key{i}", StackDepth = i % 5,
                }));
            List<string> Read(int workers, int batchSize)
            {
                using var reader = new PmlReader(File.OpenRead(path)) { MaxDegreeOfParallelism = workers };
                return [.. reader.ReadBatches(b => b, batchSize).SelectMany(b => b.Events.Select(e => $"{e.Sequence} {e.Path}"))];
            }
            var expected = Enumerable.Range(0, 5000).Select(i => $@"{i} HKLM\SOFTWARE\Key{i}").ToList();
            Assert.Equal(expected, Read(1, 1024));
            Assert.Equal(expected, Read(4, 7));
            Assert.Equal(expected, Read(3, 1024));

            var bytes = File.ReadAllBytes(path);
            using (var reader = new PmlReader(new MemoryStream(bytes)))
            {
                var at = BitConverter.ToUInt32(bytes, (int)reader.Header.EventOffsetsOffset + (2500 * 5));
                BitConverter.GetBytes(77u).CopyTo(bytes, at + 8); // event class 77
            }
            File.WriteAllBytes(path, bytes);
            using (var reader = new PmlReader(File.OpenRead(path)) { MaxDegreeOfParallelism = 4 })
            {
                var batches = reader.ReadBatches(b => b, 7).ToList();
                Assert.Equal(2500, batches.Sum(b => b.Events.Count));
                Assert.Equal(Enumerable.Range(0, 2500).Select(i => (long)i), batches.SelectMany(b => b.Events).Select(e => e.Sequence));
                Assert.Null(batches[..^1].FirstOrDefault(b => b.Error is not null));
                Assert.Contains("event 2500", batches[^1].Error!.Message);
                var seen = 0;
                Assert.Throws<MalformedDataException>(() => { foreach (var _ in reader.ReadEvents()) seen++; });
                Assert.Equal(2500, seen);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ColumnBatchesHoldEachEventsColumnsFromAMappedFileAsFromAStream()
    {
        foreach (var capture in ProcmonFixtures.Captures)
        {
            var path = ProcmonFixtures.Path(capture + ".pml");
            List<ProcmonEventColumns> expected;
            using (var read = new PmlReader(new MemoryStream(File.ReadAllBytes(path)))) expected = [.. read.ReadEvents().Select(e => e.Columns)];
            using var mapped = PmlReader.Open(path);
            var columns = mapped.ReadColumnBatches(b => b.Events.ToArray(), 100).SelectMany(b => b).ToList();
            Assert.True(expected.Count > 1000, $"{capture}: only {expected.Count} events");
            Assert.Equal(expected, columns);
        }
    }

    private static byte[] Write(JsonWriterOptions options, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, options with { SkipValidation = true })) write(writer);
        return buffer.WrittenSpan.ToArray();
    }
}

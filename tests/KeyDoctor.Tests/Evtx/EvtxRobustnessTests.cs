using KeyDoctor.Formats;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Tests.Evtx;

/// <summary>
/// Damaged copies of real logs (in memory) never crash the reader: the file header may be rejected with
/// <see cref="MalformedDataException"/>; everything after it is reported as error items. Each run has a time
/// limit so a hang fails the test.
/// </summary>
public class EvtxRobustnessTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("security.evtx", 4)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 4)]
    [InlineData("system.evtx", 3)]
    public void TruncatedCopiesNeverThrowAnythingElse(string fixture, int chunks)
    {
        var original = Prefix(fixture, chunks);
        var random = new Random(1);
        var lengths = new List<int> { 0, 7, 127, 128, 4095, 4096, 4096 + 511, 4096 + 65535 };
        for (var i = 0; i < 60; i++) lengths.Add(random.Next(original.Length));
        RunWithLimit(() =>
        {
            foreach (var length in lengths) ReadEverything(original.AsSpan(0, length).ToArray());
        });
    }

    [Theory]
    [InlineData("security.evtx", 3, 11)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 3, 12)]
    [InlineData("system.evtx", 3, 13)]
    [InlineData("Security_with_size_t.evtx", 2, 14)]
    public void BitFlippedCopiesNeverThrowAnythingElse(string fixture, int chunks, int seed)
    {
        var original = Prefix(fixture, chunks);
        var random = new Random(seed);
        RunWithLimit(() =>
        {
            for (var run = 0; run < 150; run++)
            {
                var copy = (byte[])original.Clone();
                var flips = 1 + random.Next(16);
                for (var f = 0; f < flips; f++)
                {
                    // Mostly inside chunks (records, names, templates), sometimes in headers.
                    var at = random.Next(10) == 0 ? random.Next(128) : 4096 + random.Next(copy.Length - 4096);
                    copy[at] ^= (byte)(1 << random.Next(8));
                }
                ReadEverything(copy);
            }
        });
    }

    [Fact]
    public void RandomBytesInRecordAreaAreErrorsNotCrashes()
    {
        var original = Prefix("security.evtx", 1);
        var random = new Random(99);
        RunWithLimit(() =>
        {
            for (var run = 0; run < 100; run++)
            {
                var copy = (byte[])original.Clone();
                var start = 4096 + 512 + random.Next(60000);
                random.NextBytes(copy.AsSpan(start, Math.Min(64 + random.Next(2000), copy.Length - start)));
                ReadEverything(copy);
            }
        });
    }

    private static byte[] Prefix(string fixture, int chunks)
    {
        var bytes = Fixtures.Bytes("evtx/" + fixture);
        return bytes.AsSpan(0, Math.Min(bytes.Length, 4096 + (chunks * 65536))).ToArray();
    }

    private static void ReadEverything(byte[] data)
    {
        EvtxReader reader;
        try
        {
            reader = new EvtxReader(new MemoryStream(data));
        }
        catch (MalformedDataException)
        {
            return; // not an EVTX file any more: a clear, typed rejection
        }
        using (reader)
        {
            foreach (var item in reader.ReadRecords(new EvtxReadOptions { MaxDegreeOfParallelism = 1 }))
            {
                if (item.Record is not { } record) continue;
                try
                {
                    _ = record.RenderXml();
                }
                catch (MalformedDataException)
                {
                }
            }
        }
    }

    private static void RunWithLimit(Action action)
    {
        var task = Task.Run(action);
        Assert.True(task.Wait(Limit), $"reading did not finish within {Limit.TotalSeconds} s (hang?)");
        task.GetAwaiter().GetResult();
    }
}

using System.Buffers.Binary;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Bench;

/// <summary>
/// `evtx-corpus DIR [files] [fixtures/evtx]`: a folder of event logs for the whole-process `events` measurement,
/// built at run time (never committed) from the real logs in ../shared/fixtures/evtx. File i is fixture i mod 24
/// with its chunks repeated or cut to 1..7 chunks (a fixed pattern, one file in nine a single chunk) (chunks are independent, so each file is a valid log with its
/// header's chunk count and CRC fixed); the damaged fixtures stay damaged. 727 files come to about 170 MiB, the
/// size of the public corpus the issue measured on, which is not available on this machine.
/// </summary>
public static class EvtxCorpus
{
    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: evtx-corpus DIR [files=727] [fixtures/evtx]");
            return 2;
        }
        var target = args[0];
        var count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 727;
        var source = args.Length > 2 ? args[2] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/fixtures/evtx"));
        var fixtures = Directory.GetFiles(source, "*.evtx").Order(StringComparer.Ordinal).ToArray();
        Directory.CreateDirectory(target);
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var fixture = fixtures[i % fixtures.Length];
            var chunks = i % 9 == 0 ? 1 : 1 + (i * 5 + i / fixtures.Length) % 7;
            var path = Path.Combine(target, $"{i:D4}-{Path.GetFileName(fixture)}");
            total += Write(fixture, chunks, path);
        }
        Console.WriteLine($"{count} files, {total / 1048576.0:F1} MiB in {target}");
        return 0;
    }

    /// <summary><paramref name="fixture"/>'s chunks, repeated or cut to <paramref name="chunkCount"/>; header fixed.</summary>
    private static long Write(string fixture, int chunkCount, string path)
    {
        var bytes = File.ReadAllBytes(fixture);
        var header = bytes.AsSpan(0, 4096).ToArray();
        var chunks = new List<byte[]>();
        for (var offset = 4096; offset + 65536 <= bytes.Length; offset += 65536)
            if (bytes.AsSpan(offset, 65536).ContainsAnyExcept((byte)0)) chunks.Add(bytes.AsSpan(offset, 65536).ToArray());
        if (chunks.Count == 0) return 0;
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)(chunkCount - 1));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(42), (ushort)chunkCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(124), Crc32.Compute(header.AsSpan(0, 120)));
        using var output = File.Create(path);
        output.Write(header);
        for (var c = 0; c < chunkCount; c++) output.Write(chunks[c % chunks.Count]);
        return output.Length;
    }
}

using System.Buffers.Binary;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Fuzz.Targets;

/// <summary>A whole EVTX file: header, every chunk, every record, its fields and its rendered XML.</summary>
public sealed class EvtxFileTarget : FuzzTarget
{
    public override string Name => "evtx";
    public override string Description => "EVTX file: file header, chunks, records, BinXml templates and XML rendering";
    public override int SuiteMutants => 600;

    public override IEnumerable<Seed> Seeds() =>
        // The header and two chunks keep each execution fast; the chunk target covers single chunks.
        FixtureFiles.Folder("evtx", "*.evtx").Select(s => s with { Data = s.Data[..Math.Min(s.Data.Length, EvtxFileHeader.Size + (2 * EvtxChunkHeader.ChunkSize))] });

    public override void Run(byte[] input) => ReadAll(input);

    internal static void ReadAll(byte[] file)
    {
        using var reader = new EvtxReader(new MemoryStream(file, writable: false));
        foreach (var item in reader.ReadRecords(new EvtxReadOptions { MaxDegreeOfParallelism = 1 }))
        {
            if (item.Record is not { } record) continue;
            Consume.All(record);
            _ = record.RenderXml();
        }
    }
}

/// <summary>One chunk behind a fixed, valid file header: the fuzzer spends its effort on records and templates.</summary>
public sealed class EvtxChunkTarget : FuzzTarget
{
    public override string Name => "evtx-chunk";
    public override string Description => "one EVTX chunk (records, names, template definitions and instances, substitution values)";
    public override int SuiteMutants => 2000;

    public override IEnumerable<Seed> Seeds()
    {
        foreach (var seed in FixtureFiles.Folder("evtx", "*.evtx"))
        {
            // The first chunk of every sample, and the second where there is one (templates reused across records).
            for (var chunk = 0; chunk < 2; chunk++)
            {
                var start = EvtxFileHeader.Size + (chunk * EvtxChunkHeader.ChunkSize);
                if (seed.Data.Length < start + EvtxChunkHeader.ChunkSize) break;
                var data = seed.Data.AsSpan(start, EvtxChunkHeader.ChunkSize);
                if (!EvtxChunkHeader.HasSignature(data)) continue;
                // Trailing zeros are padding the wrapper restores: shorter seeds make afl faster.
                var used = data.LastIndexOfAnyExcept((byte)0) + 1;
                yield return new Seed($"{seed.Name}#chunk{chunk}", data[..used].ToArray());
            }
        }
    }

    public override void Run(byte[] input)
    {
        var file = new byte[EvtxFileHeader.Size + EvtxChunkHeader.ChunkSize];
        Header.CopyTo(file, 0);
        input.AsSpan(0, Math.Min(input.Length, EvtxChunkHeader.ChunkSize)).CopyTo(file.AsSpan(EvtxFileHeader.Size));
        EvtxFileTarget.ReadAll(file);
    }

    // The fuzzing budget covers the chunk, not the fixed 68 KiB frame around it.
    public override long AllocationBudget(int inputLength) => base.AllocationBudget(EvtxFileHeader.Size + EvtxChunkHeader.ChunkSize);

    private static readonly byte[] Header = BuildHeader();

    private static byte[] BuildHeader()
    {
        var header = new byte[EvtxFileHeader.Size];
        "ElfFile\0"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), 1); // next record id
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(32), 128); // header size
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(36), 1); // minor version
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(38), 3); // major version
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(40), 4096); // header block size
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(42), 1); // chunk count
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(124), Crc32.Compute(header.AsSpan(0, 120)));
        return header;
    }
}

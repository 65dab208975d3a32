using KeyDoctor.Formats;
using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Tests.Fuzz;

/// <summary>
/// Issue 26 item 5: a crafted chunk whose records each rendered to 1.5 million characters (157 MiB for 64 KiB). The
/// expansion limits turn those records into errors at their own offsets, and stop the chunk once its budget is spent.
/// </summary>
public class EvtxExpansionTests
{
    [Fact]
    public void RecordsThatExpandPastTheLimitAreErrorsAtTheirOffsets()
    {
        var chunk = File.ReadAllBytes(Path.Combine(Fixtures.RepoRoot, "tests", "KeyDoctor.Fuzz", "Regressions", "evtx-chunk", "record-expansion-157mib"));
        var file = new byte[EvtxFileHeader.Size + EvtxChunkHeader.ChunkSize];
        Fixtures.Bytes("evtx/security.evtx").AsSpan(0, EvtxFileHeader.Size).CopyTo(file);
        chunk.AsSpan(0, Math.Min(chunk.Length, EvtxChunkHeader.ChunkSize)).CopyTo(file.AsSpan(EvtxFileHeader.Size));

        using var reader = new EvtxReader(new MemoryStream(file));
        var errors = reader.ReadRecords(new EvtxReadOptions { MaxDegreeOfParallelism = 1 })
            .Where(r => r.IsError && r.Error!.FileOffset >= EvtxFileHeader.Size).Select(r => r.Error!).ToList();

        var expanded = errors.Where(e => e.Reason.Contains($"record expands to more than {ReaderLimits.EvtxMaxRecordExpansion} characters (ReaderLimits.EvtxMaxRecordExpansion)")).ToList();
        Assert.True(expanded.Count >= 2);
        Assert.Equal(expanded.Count, expanded.Select(e => e.FileOffset).Distinct().Count()); // each at its own record
        Assert.All(expanded, e => Assert.NotEqual(EvtxFileHeader.Size, e.FileOffset));
        Assert.Contains(errors, e => e.Reason.EndsWith("(ReaderLimits.EvtxMaxChunkExpansion); rest of the chunk skipped", StringComparison.Ordinal));
    }
}

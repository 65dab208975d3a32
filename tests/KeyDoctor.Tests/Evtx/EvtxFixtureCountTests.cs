using KeyDoctor.Formats.Evtx;

namespace KeyDoctor.Tests.Evtx;

/// <summary>
/// Record counts, "ok + errors", for every real sample. The first group is the published table in
/// ../shared/fixtures/SOURCES.md (from omerbenamram/evtx tests/test_full_samples.rs); the rest are the
/// counts evtxinfo/evtxexport give for the same files.
/// </summary>
public class EvtxFixtureCountTests
{
    [Theory]
    // Published (SOURCES.md).
    [InlineData("sample-with-irregular-bool-values.evtx", 3028, 0)]
    [InlineData("2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx", 1910, 4)]
    [InlineData("2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", 1774, 2)]
    [InlineData("2-vss_7-System.evtx", 1160, 0)]
    [InlineData("sample_with_a_bad_chunk_magic.evtx", 270, 2)]
    [InlineData("Microsoft-Windows-HelloForBusiness%4Operational.evtx", 6, 0)]
    [InlineData("Microsoft-Windows-LanguagePackSetup%4Operational.evtx", 17, 0)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx", 1146, 0)]
    [InlineData("E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 459, 0)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 340, 0)]
    [InlineData("Application_no_crc32.evtx", 17, 0)]
    [InlineData("post-Security.evtx", 126, 0)]
    // The record with data size 0 is one error; evtx-rs counts 336 items for this file.
    [InlineData("sample-with-zero-data-size-event.evtx", 335, 1)]
    // Same counts as evtxinfo.
    [InlineData("security.evtx", 2261, 0)]
    [InlineData("security_bad_string_cache.evtx", 2261, 0)]
    [InlineData("system.evtx", 1881, 0)]
    [InlineData("Security_with_size_t.evtx", 636, 0)]
    [InlineData("sysmon.evtx", 358, 0)]
    [InlineData("2-system-Microsoft-Windows-LiveId%4Operational.evtx", 399, 0)]
    [InlineData("Security_short_selected.evtx", 7, 0)]
    [InlineData("new-user-security.evtx", 4, 0)]
    [InlineData("cc0-4656-4663-4658-object-access.evtx", 7, 0)]
    [InlineData("cc0-4663-object-access.evtx", 2, 0)]
    // evtxexport stops at its first unparsable record here; we read the one record in full.
    [InlineData("MSExchange_Management_wec.evtx", 1, 0)]
    public void ReadsThePublishedCounts(string fixture, int ok, int errors)
    {
        var (actualOk, actualErrors) = Count(fixture, parallel: 2);
        Assert.Equal((ok, errors), (actualOk, actualErrors));
        // One core or two, the same result in the same order.
        Assert.Equal((ok, errors), Count(fixture, parallel: 1));
    }

    [Fact]
    public void EveryFixtureIsCovered()
    {
        var tested = typeof(EvtxFixtureCountTests).GetMethod(nameof(ReadsThePublishedCounts))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).First()[0]).ToHashSet();
        foreach (var file in Directory.GetFiles(Fixtures.Path("evtx"), "*.evtx"))
            Assert.Contains(Path.GetFileName(file), tested);
    }

    [Fact]
    public void ErrorsCarryTheirOffsetAndTheRestIsRead()
    {
        using var reader = EvtxReader.Open(Fixtures.Path("evtx/sample_with_a_bad_chunk_magic.evtx"));
        var items = reader.ReadRecords().ToList();
        var errors = items.Where(i => i.IsError).Select(i => i.Error!).ToList();
        // Slots 6 and 10 (inside the header's 16 chunks) hold data without a chunk signature.
        Assert.Equal([4096 + (6 * 65536L), 4096 + (10 * 65536L)], errors.Select(e => e.FileOffset));
        Assert.All(errors, e => Assert.Contains("no chunk signature", e.Reason));
        Assert.Equal(2, reader.Statistics.ChunksSkipped);
        Assert.Equal(4, reader.Statistics.ChunksRead);
        Assert.True(items.FindIndex(i => i.IsError) < items.FindLastIndex(i => !i.IsError), "records after the bad chunk are read");
    }

    [Fact]
    public void ZeroSizeRecordIsAnErrorWithItsOffset()
    {
        using var reader = EvtxReader.Open(Fixtures.Path("evtx/sample-with-zero-data-size-event.evtx"));
        var error = Assert.Single(reader.ReadRecords(), i => i.IsError).Error!;
        Assert.Equal(4096 + 0x820, error.FileOffset);
        Assert.Equal(3ul, error.RecordId);
        Assert.Contains("size 0", error.Reason);
    }

    [Fact]
    public void BadRecordsInsideAChunkAreReportedAndTheChunkGoesOn()
    {
        using var reader = EvtxReader.Open(Fixtures.Path("evtx/2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx"));
        var errors = reader.ReadRecords().Where(i => i.IsError).Select(i => i.Error!).ToList();
        // Two records whose substitution values overrun the record, each followed by overwritten space.
        Assert.Equal([6335011ul, null, 6914519ul, null], errors.Select(e => e.RecordId));
        Assert.Contains("runs past the end of the record", errors[0].Reason);
        Assert.Contains("bad record signature", errors[1].Reason);
        Assert.Equal(2, reader.Statistics.ChunkDataChecksumErrors);
    }

    private static (int Ok, int Errors) Count(string fixture, int parallel)
    {
        using var reader = EvtxReader.Open(Fixtures.Path("evtx/" + fixture));
        int ok = 0, errors = 0;
        foreach (var item in reader.ReadRecords(new EvtxReadOptions { MaxDegreeOfParallelism = parallel }))
            if (item.IsError) errors++;
            else ok++;
        Assert.Equal(ok, reader.Statistics.RecordsRead);
        Assert.Equal(errors, reader.Statistics.RecordErrors);
        return (ok, errors);
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

public class HiveRecoveryTests
{
    private const string AudioKey = @"ControlSet001\Control\Class\{4d36e96c-e325-11ce-bfc1-08002be10318}\0013";

    [Fact]
    public void SystemBIsReplayedFromBothNewFormatLogsInMemory()
    {
        var path = Fixtures.Path("hives/regipy/SYSTEM_B");
        var fileHashBefore = SHA256.HashData(File.ReadAllBytes(path));
        var hive = RegistryHive.Open(path);

        Assert.True(hive.WasDirty);
        Assert.Equal((1622u, 1621u), (hive.OriginalBaseBlock.PrimarySequenceNumber, hive.OriginalBaseBlock.SecondarySequenceNumber));
        var recovery = Assert.IsType<LogRecovery>(hive.Recovery);
        Assert.Null(recovery.StopReason);
        Assert.Equal(24, recovery.AppliedEntries.Count);
        Assert.Equal(Enumerable.Range(2107, 24).Select(n => (uint)n), recovery.AppliedEntries.Select(e => e.SequenceNumber));
        Assert.Equal(4, recovery.AppliedEntries.Count(e => e.Log == "SYSTEM_B.LOG1"));
        Assert.Equal(20, recovery.AppliedEntries.Count(e => e.Log == "SYSTEM_B.LOG2"));

        // After replay the sequence numbers agree with the last applied entry and the checksum is valid again.
        Assert.Equal((2130u, 2130u), (hive.BaseBlock.PrimarySequenceNumber, hive.BaseBlock.SecondarySequenceNumber));
        Assert.True(hive.BaseBlock.IsChecksumValid);
        Assert.False(hive.BaseBlock.IsDirty);
        Assert.Equal(0xC02000u, hive.BaseBlock.HiveBinsDataSize); // grown by entry 2121, as Windows grew it

        // Byte for byte the hive yarp (by the author of the REGF specification) recovers from the same three files.
        Assert.Equal("734095bf043ea72300feb8bc380a585d8a9c925cdd5ffc190ca5ff6bc5a7c231",
            Convert.ToHexStringLower(SHA256.HashData(hive.Bytes.Span)));

        // The files themselves are untouched.
        Assert.Equal(fileHashBefore, SHA256.HashData(File.ReadAllBytes(path)));
    }

    [Fact]
    public void AKeyThatOnlyTheLogsHoldAppearsAfterReplay()
    {
        var path = Fixtures.Path("hives/regipy/SYSTEM_B");
        var before = RegistryHive.Open(path, replayLogs: false);
        Assert.Null(before.OpenKey(AudioKey));
        Assert.Contains(before.Problems, p => p.Reason.Contains("dirty", StringComparison.Ordinal));

        var after = RegistryHive.Open(path);
        var key = after.OpenKey(AudioKey);
        Assert.NotNull(key);
        Assert.Equal("NVIDIA High Definition Audio", key.GetValue("DriverDesc")?.AsString());
        Assert.Equal("NVIDIA Corporation", key.GetValue("providername")?.AsString());
        Assert.DoesNotContain(after.Problems, p => !p.Reason.StartsWith("first applied log entry", StringComparison.Ordinal));
    }

    [Fact]
    public void ReplayStopsBeforeAnEntryWhoseHashIsWrong()
    {
        var hive = Fixtures.Bytes("hives/regipy/SYSTEM_B");
        var log1 = TransactionLog.Parse(Fixtures.Bytes("hives/regipy/SYSTEM_B.LOG1"), "LOG1");
        var log2Bytes = Fixtures.Bytes("hives/regipy/SYSTEM_B.LOG2");
        var third = TransactionLog.Parse(log2Bytes, "LOG2").Entries[2]; // sequence 2113
        log2Bytes[third.LogOffset + 100] ^= 0x40;
        var log2 = TransactionLog.Parse(log2Bytes, "LOG2");
        Assert.False(log2.Entries[2].HashesValid);
        Assert.True(log2.Entries[1].HashesValid);

        var recovered = RegistryHive.Load(hive, [log1, log2]);
        var recovery = recovered.Recovery!;
        Assert.Equal(2112u, recovery.FinalSequenceNumber);
        Assert.Equal(6, recovery.AppliedEntries.Count);
        Assert.Contains("wrong Marvin32 hash", recovery.StopReason);
    }

    [Fact]
    public void DirtyHiveWithoutLogsIsReadAndReportedAsDirty()
    {
        var hive = RegistryHive.Open(Fixtures.Path("hives/ez/SECURITY"));
        Assert.True(hive.WasDirty);
        Assert.Null(hive.Recovery);
        Assert.Equal((347u, 346u), (hive.BaseBlock.PrimarySequenceNumber, hive.BaseBlock.SecondarySequenceNumber));
        Assert.Contains(hive.Problems, p => p.Offset == 4 && p.Reason.Contains("dirty", StringComparison.Ordinal));
        Assert.NotNull(hive.OpenKey(@"Policy\Secrets"));
    }

    [Fact]
    public void OldFormatLogPagesAreAppliedWhenTimestampsMatch()
    {
        // An old-format (DIRT) log built from a clean hive: one 512-byte page rewritten, sequence numbers bumped.
        var clean = Fixtures.Bytes("hives/regipy/SAM");
        var primary = (byte[])clean.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(primary.AsSpan(4), 62); // primary 62, secondary 61: dirty
        BinaryPrimitives.WriteUInt32LittleEndian(primary.AsSpan(8), 61);
        BinaryPrimitives.WriteUInt32LittleEndian(primary.AsSpan(508), BaseBlock.ComputeChecksum(primary));

        var hive = RegistryHive.Load(clean);
        var root = (HiveKey)hive.Root;
        var binsSize = (int)hive.BaseBlock.HiveBinsDataSize;
        var log = new byte[1024 + 512 + 512];
        clean.AsSpan(0, 512).CopyTo(log);
        BinaryPrimitives.WriteUInt32LittleEndian(log.AsSpan(4), 62);
        BinaryPrimitives.WriteUInt32LittleEndian(log.AsSpan(8), 62);
        BinaryPrimitives.WriteUInt32LittleEndian(log.AsSpan(28), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(log.AsSpan(508), BaseBlock.ComputeChecksum(log));
        "DIRT"u8.CopyTo(log.AsSpan(512));
        var page = (int)(root.CellOffset / 512); // the page holding the root key node
        log[516 + page / 8] |= (byte)(1 << (page % 8));
        var pagesStart = (516 + binsSize / 512 / 8 + 511) / 512 * 512;
        Array.Resize(ref log, pagesStart + 512);
        clean.AsSpan(4096 + page * 512, 512).CopyTo(log.AsSpan(pagesStart));
        // The logged page renames the root key's first letter so the replay is visible.
        var nameAt = pagesStart + (int)(root.CellOffset % 512) + 4 + 76;
        log[nameAt] = (byte)'X';

        var parsed = TransactionLog.Parse(log, "SAM.LOG");
        Assert.Equal(TransactionLogFormat.Old, parsed.LogFormat);
        Assert.Single(parsed.OldFormatPages);
        var recovered = RegistryHive.Load(primary, [parsed]);
        Assert.Equal(1, recovered.Recovery!.OldFormatPagesApplied);
        Assert.StartsWith("X", recovered.Root.Name, StringComparison.Ordinal);
        Assert.False(recovered.BaseBlock.IsDirty);
        Assert.StartsWith("C", hive.Root.Name, StringComparison.Ordinal);
    }
}

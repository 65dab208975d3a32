using System.Buffers.Binary;
using System.Text;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Fuzz.Targets;

internal static class RegistryWalk
{
    /// <summary>Every key and value as `keydoctor reg` would show them, and the problems the hive reported.</summary>
    public static void All(RegistryKey root)
    {
        foreach (var key in root.DescendantsAndSelf())
        {
            _ = key.Path;
            _ = key.LastWritten;
            _ = key.ClassName;
            if (key is HiveKey hiveKey) Consume.All(hiveKey.Security);
            foreach (var value in key.Values)
            {
                _ = value.Name;
                _ = value.AsString();
                _ = value.AsMultiString();
                _ = value.AsNumber();
            }
        }
    }

    /// <summary>A small hive written by KeyDoctor's own writer: every cell kind the reader knows, deterministic.</summary>
    public static byte[] SmallHive()
    {
        var root = new WritableKey("ROOT");
        var crypto = root.Add("Microsoft").Add("Cryptography");
        crypto.SetString("MachineGuid", "e0b7f6a2-9d41-4c38-8a1e-3f5b6c7d8e90");
        crypto.Set("Binary", RegistryValueType.Binary, Enumerable.Range(0, 40_000).Select(i => (byte)i).ToArray()); // big data
        crypto.Set("Number", RegistryValueType.DWordLittleEndian, [1, 2, 3, 4]);
        crypto.SetString("Multi", "a\0b\0", RegistryValueType.MultiString);
        var certificates = root.Add("SystemCertificates").Add("MY").Add("Certificates");
        for (var i = 0; i < 30; i++) certificates.Add($"{i:X40}").Set("Blob", RegistryValueType.Binary, [(byte)i, 0, 0, 0]);
        return RegfWriter.Write(root, "fuzz", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
    }
}

public sealed class RegfTarget : FuzzTarget
{
    public override string Name => "regf";
    public override string Description => "registry hive (regf): base block, hive bins, key/value/security cells, subkey lists, big data";
    public override int SuiteMutants => 1500;

    public override IEnumerable<Seed> Seeds()
    {
        yield return new Seed("RegfWriter small hive", RegistryWalk.SmallHive());
        foreach (var seed in FixtureFiles.Folder("hives/ez")) yield return seed with { Data = Cap(seed.Data) };
        foreach (var name in new[] { "SECURITY", "SAM", "NTUSER.DAT", "corrupted_system_hive" })
            yield return new Seed("hives/regipy/" + name, Cap(FixtureFiles.Bytes("hives/regipy/" + name)));
    }

    // Hives are hundreds of KB to MB: the first 128 KiB hold the base block, the root and many keys.
    private static byte[] Cap(byte[] data) => data[..Math.Min(data.Length, 128 * 1024)];

    public override void Run(byte[] input)
    {
        var hive = RegistryHive.Load(input);
        RegistryWalk.All(hive.Root);
        Consume.All(hive.Problems);
        Consume.All(hive.Recovery);
    }
}

/// <summary>A transaction log replayed into a fixed small dirty hive (the log is the input).</summary>
public sealed class RegfLogTarget : FuzzTarget
{
    public override string Name => "regf-log";
    public override string Description => "registry transaction log (.LOG1/.LOG2, old and new format) and its replay into a dirty hive";
    public override int SuiteMutants => 1500;

    private static readonly byte[] DirtyHive = MakeDirty(RegistryWalk.SmallHive());

    public override IEnumerable<Seed> Seeds()
    {
        yield return new Seed("built: new-format log, two entries", NewFormatLog());
        yield return new Seed("built: old-format log", OldFormatLog());
        foreach (var name in new[] { "SYSTEM_B.LOG1", "SYSTEM_B.LOG2" })
            yield return new Seed("hives/regipy/" + name, FixtureFiles.Prefix("hives/regipy/" + name, 64 * 1024));
    }

    public override void Run(byte[] input)
    {
        var log = TransactionLog.Parse(input, "fuzz.LOG1");
        Consume.All(log.Problems);
        var hive = RegistryHive.Load(DirtyHive, [log]);
        RegistryWalk.All(hive.Root);
        Consume.All(hive.Recovery);
    }

    // The replay copies the hive it repairs.
    public override long AllocationBudget(int inputLength) => base.AllocationBudget(inputLength + (4 * DirtyHive.Length));

    /// <summary>Two HvLE entries (sequence 0 and 1) that rewrite the first page of the hive bins, with valid hashes.</summary>
    private static byte[] NewFormatLog()
    {
        var log = new List<byte>(LogBaseBlock(6));
        for (uint sequence = 0; sequence < 2; sequence++)
        {
            var entry = new byte[40 + 8 + 4096 + 464]; // a multiple of 512
            "HvLE"u8.CopyTo(entry);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(4), (uint)entry.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(12), sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(16), (uint)(DirtyHive.Length - 4096));
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(20), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(40), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(44), 4096);
            DirtyHive.AsSpan(4096, 4096).CopyTo(entry.AsSpan(48));
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(24), Marvin32.Compute(entry.AsSpan(40), Marvin32.RegistryLogSeed));
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(32), Marvin32.Compute(entry.AsSpan(0, 32), Marvin32.RegistryLogSeed));
            log.AddRange(entry);
        }
        return [.. log];
    }

    /// <summary>An old-format (.LOG) log: "DIRT", a bitmap marking the first two sectors, and the sectors.</summary>
    private static byte[] OldFormatLog()
    {
        var log = new byte[512 + 512 + 1024];
        LogBaseBlock(1).CopyTo(log, 0);
        "DIRT"u8.CopyTo(log.AsSpan(512));
        log[516] = 0b11;
        DirtyHive.AsSpan(4096, 1024).CopyTo(log.AsSpan(1024));
        return log;
    }

    private static byte[] LogBaseBlock(uint fileType)
    {
        var block = DirtyHive[..512];
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(28), fileType);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(508), BaseBlock.ComputeChecksum(block));
        return block;
    }

    /// <summary>Sequence numbers 2 and 0 with a valid checksum: dirty, so every log entry from sequence 0 on applies.</summary>
    private static byte[] MakeDirty(byte[] hive)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(hive.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(hive.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(hive.AsSpan(508), BaseBlock.ComputeChecksum(hive));
        return hive;
    }
}

public sealed class RegExportTarget : FuzzTarget, ITokenDictionary
{
    public override string Name => "reg";
    public override string Description => ".reg export (REGEDIT4 and version 5, UTF-16 or UTF-8): keys, values, continuations, deletions";
    public override int SuiteMutants => 2000;

    public override IEnumerable<Seed> Seeds()
    {
        yield return FixtureFiles.Seed("fuzz-findings/certs/cert-entry-bad-validity.bin");
        var export = new StringWriter();
        RegExportWriter.Write(export, RegistryHive.Load(RegistryWalk.SmallHive()).Root, @"HKEY_LOCAL_MACHINE\SOFTWARE");
        yield return new Seed("RegExportWriter (UTF-16)", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(export.ToString())]);
        yield return new Seed("RegExportWriter (UTF-8)", Encoding.UTF8.GetBytes(export.ToString()));
        yield return new Seed("REGEDIT4", Encoding.Latin1.GetBytes(
            "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\\SslBindingInfo\\0.0.0.0:443]\r\n" +
            "\"SslCertHash\"=hex:01,02,03,\\\r\n  04,05\r\n\"DefaultSslCertCheckMode\"=dword:00000000\r\n\"x\"=-\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Gone]\r\n" +
            "@=\"default \\\"quoted\\\" \\\\ value\"\r\n\"e\"=hex(2):25,00,00,00\r\n\"m\"=hex(7):61,00,00,00,00,00\r\n\"q\"=hex(b):01,00,00,00,00,00,00,00\r\n"));
    }

    public IReadOnlyList<byte[]> Tokens { get; } = new[]
    {
        "\r\n[HKEY_LOCAL_MACHINE\\", "]\r\n", "\"=hex:", "=dword:", "=hex(2):", "=hex(7):", "=hex(b):", ",\\\r\n  ", "\"=-", "[-", "@=",
        "\\\"", "\\\\", "ffffffff", "REGEDIT4", "Windows Registry Editor Version 5.00",
    }.Select(Encoding.UTF8.GetBytes).ToList();

    public override void Run(byte[] input)
    {
        var export = RegExportReader.Parse(input);
        Consume.All(export.Problems);
        Consume.All(export.DeletedKeys);
        RegistryWalk.All(export.Root);
    }
}

using KeyDoctor.Formats;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

/// <summary>Truncated and bit-flipped copies of real hives and logs: a typed error or problems as data, nothing else.</summary>
public class HiveRobustnessTests
{
    [Fact]
    public void TruncatedCopiesNeverCrash()
    {
        var sam = Fixtures.Bytes("hives/regipy/SAM");
        var lengths = new List<int> { 0, 3, 100, 511, 512, 4095, 4096, 4100, 4128, 8191, 8192 };
        for (var length = 8192; length < sam.Length; length += 3001) lengths.Add(length);
        foreach (var length in lengths) ReadEverything(sam[..length]);
    }

    [Fact]
    public void BitFlippedCopiesNeverCrash()
    {
        var sam = Fixtures.Bytes("hives/regipy/SAM");
        var random = new Random(20240601);
        // The used part of SAM is its first 0x9000 bytes: flip there, where records are.
        for (var i = 0; i < 3000; i++)
        {
            var copy = (byte[])sam.Clone();
            for (var flips = 0; flips < 1 + i % 4; flips++)
                copy[random.Next(0, 0x9000)] ^= (byte)(1 << random.Next(8));
            ReadEverything(copy);
        }
    }

    [Fact]
    public void BitFlippedLogsNeverCrash()
    {
        var hive = Fixtures.Bytes("hives/regipy/SYSTEM_B");
        var log1 = Fixtures.Bytes("hives/regipy/SYSTEM_B.LOG1");
        var random = new Random(7);
        for (var i = 0; i < 12; i++)
        {
            var copy = (byte[])log1.Clone();
            copy[random.Next(0, 60000)] ^= 0xFF;
            try
            {
                var log = TransactionLog.Parse(copy, "LOG1");
                var recovered = RegistryHive.Load(hive, [log]);
                Assert.NotNull(recovered.Recovery);
            }
            catch (MalformedDataException) { }
        }
    }

    internal static void ReadEverything(byte[] data)
    {
        RegistryHive hive;
        try { hive = RegistryHive.Load(data); }
        catch (MalformedDataException) { return; }
        var count = 0;
        foreach (var key in hive.Root.DescendantsAndSelf())
        {
            if (++count > 100_000) Assert.Fail("runaway enumeration");
            _ = key.Name + key.Path + key.ClassName + key.LastWritten;
            _ = ((HiveKey)key).Security;
            foreach (var value in key.Values) _ = value.Decode();
            _ = key.GetValue("F");
            _ = key.OpenSubkey("Domains");
        }
        _ = hive.Problems;
    }
}

using System.Buffers.Binary;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

public class DamagedHiveTests
{
    [Fact]
    public void NotAHiveIsATypedErrorAtOffsetZero()
    {
        var error = Assert.Throws<MalformedDataException>(() => RegistryHive.Open(Fixtures.Path("hives/ez/NotAHive")));
        Assert.Equal(0, error.Offset);
        Assert.Equal("regf", error.Format);
    }

    [Fact]
    public void CorruptedSystemHiveReadsWhatCanBeReadAndReportsTheRest()
    {
        var hive = RegistryHive.Open(Fixtures.Path("hives/regipy/corrupted_system_hive"));
        var keys = hive.Root.DescendantsAndSelf().ToList();
        Assert.Equal(1687, keys.Count);
        Assert.Equal(5625, keys.Sum(k => k.Values.Count));
        Assert.Equal(233, hive.Problems.Count);
        // libregf stops at the first damaged bin, so it cannot reach the root's subkey list (hive bin offset
        // 0x1c7b28) and reads nothing; mapping every bin that is intact reaches it.
        Assert.Equal("ControlSet001,ControlSet003,LastKnownGoodRecovery,MountedDevices,Select,Setup,WPA",
            string.Join(",", hive.Root.Subkeys.Select(k => k.Name)));
        Assert.Contains(hive.Problems, p => p.Location == "0x1811C8" && p.Reason.Contains("damaged region", StringComparison.Ordinal));
        Assert.Contains(hive.Problems, p => p.Reason.StartsWith("no valid hive bin here", StringComparison.Ordinal));
        Assert.Equal("GINEVRA", hive.OpenKey(@"ControlSet001\Control\ComputerName\ComputerName")?.GetValue("ComputerName")?.AsString());
    }

    [Fact]
    public void BadHiveBinSignatureIsReportedAndTheBinStillRead()
    {
        var path = Fixtures.Path("hives/ez/SAMBadHBinHeader");
        var hive = RegistryHive.Open(path);
        var problem = Assert.Single(hive.Problems);
        Assert.Equal(0x2000, problem.Offset);
        Assert.Contains("signature", problem.Reason, StringComparison.Ordinal);

        // With the signature repaired, libregf reads the file: every key and value must match what it prints.
        var repaired = File.ReadAllBytes(path);
        Assert.Equal("gbin"u8.ToArray(), repaired.AsSpan(0x2000, 4).ToArray());
        "hbin"u8.CopyTo(repaired.AsSpan(0x2000));
        var temp = Path.Combine(Path.GetTempPath(), $"keydoctor-{Guid.NewGuid():N}-SAM");
        try
        {
            File.WriteAllBytes(temp, repaired);
            var reference = RegfExportOutput.Parse(RegfExportOutput.Run(temp));
            var keys = hive.Root.DescendantsAndSelf().ToList();
            Assert.Equal(68, reference.Count);
            Assert.Equal(reference.Select(k => k.Path), keys.Select(k => hive.Root.Name + (k.Path.Length == 0 ? "" : "\\" + k.Path)));
            Assert.Equal(reference.Sum(k => k.Values.Count), keys.Sum(k => k.Values.Count));
        }
        finally { File.Delete(temp); }
    }

    [Fact]
    public void RootWithoutTheHiveEntryFlagIsReportedButRead()
    {
        var hive = RegistryHive.Open(Fixtures.Path("hives/ez/SECURITYNoRoot"));
        var problem = Assert.Single(hive.Problems);
        Assert.Contains("HIVE_ENTRY", problem.Reason, StringComparison.Ordinal);
        Assert.Equal("ROOT", hive.Root.Name);
        Assert.Equal("NOKIA Lumia 520/3056.40000.1349.2001",
            hive.OpenKey(@"Internet Explorer\Custom Headers\HTTP")?.GetValue("x-att-deviceid")?.AsString());
    }

    [Fact]
    public void ChildNamedLikeTheRootIsFoundFirst()
    {
        // ez/SAM_DUPENAME: the root key is "SAM" and so is its only child.
        var hive = RegistryHive.Open(Fixtures.Path("hives/ez/SAM_DUPENAME"));
        Assert.Empty(hive.Problems);
        Assert.Equal("SAM", hive.Root.Name);
        Assert.Equal(@"SAM", hive.OpenKey("SAM")!.Path);
        Assert.NotNull(hive.OpenKey(@"SAM\Domains\Account\Users\Names\Administrator"));
        Assert.Equal(112, hive.Root.DescendantsAndSelf().Count());
    }

    [Fact]
    public void LsaClassNamesOfTheBootKeyAreRead()
    {
        var hive = RegistryHive.Open(Fixtures.Path("hives/regipy/SYSTEM"));
        var lsa = hive.OpenKey(@"ControlSet001\Control\Lsa")!;
        var classes = new[] { "JD", "Skew1", "GBG", "Data" }.Select(n => lsa.OpenSubkey(n)!.ClassName!).ToArray();
        Assert.Equal(new[] { "67cd88ed", "8df2db5b", "e770d1f4", "b6cf2e27" }, classes);
        // The boot key those class names give (impacket secretsdump printed the same for this hive).
        var scrambled = Convert.FromHexString(string.Concat(classes));
        int[] permutation = [8, 5, 4, 2, 11, 9, 13, 3, 0, 6, 1, 12, 14, 10, 15, 7];
        Assert.Equal("e7f28d88f470cfed67dbcdb62ed1275b", Convert.ToHexStringLower(permutation.Select(i => scrambled[i]).ToArray()));
    }

    [Fact]
    public void SubkeyListPointingBackToAnAncestorIsACycleNotAHang()
    {
        var data = Fixtures.Bytes("hives/regipy/SAM");
        var hive = RegistryHive.Load((byte[])data.Clone());
        var child = (HiveKey)hive.Root.Subkeys[0];
        // Point the first entry of the child's subkey list at the root.
        var listOffset = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4096 + (int)child.CellOffset + 4 + 28));
        var firstEntry = 4096 + (int)listOffset + 4 + 4;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(firstEntry), ((HiveKey)hive.Root).CellOffset);
        var damaged = RegistryHive.Load(data);
        var keys = damaged.Root.DescendantsAndSelf().ToList();
        Assert.True(keys.Count < hive.Root.DescendantsAndSelf().Count());
        Assert.Contains(damaged.Problems, p => p.Reason.Contains("cycle", StringComparison.Ordinal));
    }
}

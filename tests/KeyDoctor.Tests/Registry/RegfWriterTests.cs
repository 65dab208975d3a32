using System.Text;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

public class RegfWriterTests
{
    private static WritableKey SystemWithBootKey()
    {
        var root = new WritableKey("ROOT");
        root.Add("Select").SetDWord("Current", 1).SetDWord("Default", 1);
        var lsa = root.Add(@"ControlSet001\Control\Lsa");
        foreach (var (name, cls) in new[] { ("JD", "67cd88ed"), ("Skew1", "8df2db5b"), ("GBG", "e770d1f4"), ("Data", "b6cf2e27") })
            lsa.Add(name).Class = cls;
        var values = root.Add(@"ControlSet001\Services\KeyDoctor\Values");
        values.SetString("", "default value")
            .SetString("Text", "caf\u00e9 \u4e2d\u6587")
            .SetString("Expand", "%SystemRoot%\\x", RegistryValueType.ExpandString)
            .Set("Multi", RegistryValueType.MultiString, Encoding.Unicode.GetBytes("a\0bc\0\0"))
            .SetDWord("Number", 0xDEADBEEF)
            .Set("BigEndian", RegistryValueType.DWordBigEndian, [0, 0, 1, 0])
            .Set("Quad", RegistryValueType.QWordLittleEndian, BitConverter.GetBytes(0x0123456789ABCDEFUL))
            .Set("Small", RegistryValueType.Binary, [0xFF])
            .Set("Empty", RegistryValueType.None, [])
            .Set("Big", RegistryValueType.Binary, Enumerable.Range(0, 40_000).Select(i => (byte)(i * 7)).ToArray())
            .Set("Unicode\u00df\u4e2d", RegistryValueType.String, Encoding.Unicode.GetBytes("x\0"));
        values.Add("\u4e2d\u6587 key").Class = "\u00fcber";
        var many = root.Add(@"ControlSet001\Enum\Many");
        for (var i = 1199; i >= 0; i--) many.Add($"Device{i:D4}").SetDWord("Index", (uint)i);
        return root;
    }

    [Fact]
    public void WrittenHiveIsReadByRegfexportAndByTheReader()
    {
        var bytes = RegfWriter.Write(SystemWithBootKey(), "SYSTEM");
        var hive = RegistryHive.Load(bytes);
        Assert.True(hive.BaseBlock.IsChecksumValid);
        Assert.False(hive.BaseBlock.IsDirty);
        var registry = new WindowsRegistry(null, hive);
        Assert.Equal("ControlSet001", registry.CurrentControlSetName);
        Assert.Equal(new LsaClassNames("67cd88ed", "8df2db5b", "e770d1f4", "b6cf2e27"), registry.LsaClassNames);
        var values = hive.OpenKey(@"ControlSet001\Services\KeyDoctor\Values")!;
        Assert.Equal(40_000, values.GetValue("big")!.Data.Length);
        Assert.Equal(0xDEADBEEFUL, values.GetValue("Number")!.AsNumber());
        Assert.Equal(0x100UL, values.GetValue("BigEndian")!.AsNumber());
        Assert.Equal("caf\u00e9 \u4e2d\u6587", values.GetValue("Text")!.AsString());
        Assert.Equal("\u00fcber", values.OpenSubkey("\u4e2d\u6587 KEY")!.ClassName);
        Assert.Equal(1200, hive.OpenKey(@"ControlSet001\Enum\Many")!.Subkeys.Count);
        Assert.Equal(777UL, hive.OpenKey(@"ControlSet001\Enum\Many\device0777")!.GetValue("index")!.AsNumber());
        Assert.Empty(hive.Problems);
        Assert.NotNull(((HiveKey)hive.Root).Security);

        var path = Path.Combine(Path.GetTempPath(), $"keydoctor-{Guid.NewGuid():N}-SYSTEM");
        try
        {
            File.WriteAllBytes(path, bytes);
            // 1 small inline value (0xFF) is libregf's known zero-printing difference.
            RegfExportComparisonTests.AssertMatchesRegfexport(path, expectedKeys: 1215, expectedValues: 1213, smallInline: 1);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RewritingTheRealSystemHiveKeepsEveryKeyAndValue()
    {
        var original = RegistryHive.Open(Fixtures.Path("hives/regipy/SYSTEM"));
        var rewritten = RegistryHive.Load(RegfWriter.Write(original.Root));
        Assert.Empty(rewritten.Problems);
        var a = original.Root.DescendantsAndSelf().ToList();
        var b = rewritten.Root.DescendantsAndSelf().ToList();
        Assert.Equal(30756, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Path, b[i].Path);
            Assert.Equal(a[i].ClassName, b[i].ClassName);
            Assert.Equal(a[i].LastWritten, b[i].LastWritten);
            var va = a[i].Values;
            var vb = b[i].Values;
            Assert.Equal(va.Count, vb.Count);
            for (var v = 0; v < va.Count; v++)
                Assert.True(va[v].Name == vb[v].Name && va[v].Type == vb[v].Type && va[v].Data.Span.SequenceEqual(vb[v].Data.Span), $"{a[i].Path} [{va[v].Name}]");
        }
    }
}

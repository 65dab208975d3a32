using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

public class RegExportTests
{
    private const string Regedit5 = "Windows Registry Editor Version 5.00\r\n\r\n" +
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n" +
        "\"MachineGuid\"=\"6c4f5d0a-2f41-4a57-9d25-1a3c2b1e9f00\"\r\n" +
        "@=\"default \\\"quoted\\\" C:\\\\path\\\\\"\r\n" +
        "\"Count\"=dword:0000002a\r\n" +
        "\"Path\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,\\\r\n" +
        "  00,25,00,00,00\r\n" +
        "\"List\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n" +
        "\"Big\"=hex(b):ff,ff,ff,ff,ff,ff,ff,7f\r\n" +
        "\"Blob\"=hex:01,02,\\\r\n" +
        "    03\r\n" +
        "\"Nothing\"=hex(0):\r\n" +
        "\"DevProp\"=hex(ffff0011):ff\r\n" +
        "\"Removed\"=\"x\"\r\n" +
        "\"Removed\"=-\r\n" +
        "; a comment\r\n" +
        "\r\n" +
        "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Gone]\r\n" +
        "\r\n" +
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n" +
        "\"Later\"=\"merged\"\r\n" +
        "\"Bad\"=dword:xyz\r\n" +
        "garbage line\r\n";

    [Fact]
    public void Regedit5UnicodeExportIsReadWithEveryValueForm()
    {
        var file = RegExportReader.Parse(RegExportWriter.ToFileBytes(Regedit5), "test.reg");
        Assert.Equal(RegExportVersion.Regedit5, file.Version);
        var key = file.OpenKey(@"HKLM\SOFTWARE\Microsoft\Cryptography")!;
        Assert.Equal("Cryptography", key.Name);
        Assert.Equal(@"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography", key.Path);
        Assert.Equal("6c4f5d0a-2f41-4a57-9d25-1a3c2b1e9f00", key.GetValue("machineguid")!.AsString());
        Assert.Equal("default \"quoted\" C:\\path\\", key.GetValue("")!.AsString());
        Assert.Equal(42UL, key.GetValue("Count")!.AsNumber());
        var path = key.GetValue("Path")!;
        Assert.Equal(RegistryValueType.ExpandString, path.Type);
        Assert.Equal("%SystemRoot%", path.AsString());
        Assert.Equal(new[] { "a", "bc" }, key.GetValue("List")!.AsMultiString());
        Assert.Equal((ulong)long.MaxValue, key.GetValue("Big")!.AsNumber());
        Assert.Equal(new byte[] { 1, 2, 3 }, key.GetValue("Blob")!.Data.ToArray());
        Assert.Equal(RegistryValueType.None, key.GetValue("Nothing")!.Type);
        Assert.Equal(0xFFFF0011u, (uint)key.GetValue("DevProp")!.Type);
        Assert.Null(key.GetValue("Removed"));
        Assert.Equal("merged", key.GetValue("Later")!.AsString());
        Assert.Equal(new[] { @"HKEY_LOCAL_MACHINE\SOFTWARE\Gone" }, file.DeletedKeys);
        Assert.Equal(new[] { "line 23", "line 24" }, file.Problems.Select(p => p.Location));
        Assert.Equal(["MachineGuid", "", "Count", "Path", "List", "Big", "Blob", "Nothing", "DevProp", "Later"], key.Values.Select(v => v.Name).ToArray());

        var software = file.Subtree(@"HKEY_LOCAL_MACHINE\SOFTWARE")!;
        Assert.Equal("", software.Root.Path);
        Assert.Equal(@"Microsoft\Cryptography", software.OpenKey(@"Microsoft\Cryptography")!.Path);
    }

    [Fact]
    public void Regedit4AnsiExportConvertsStringsToUtf16()
    {
        var text = "REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software\\Test]\r\n\"Name\"=\"caf\u00e9\"\r\n" +
                   "\"Expand\"=hex(2):25,54,45,4d,50,25,00\r\n\"Multi\"=hex(7):61,00,e9,00,00\r\n";
        var bytes = CodePagesEncodingProvider.Instance.GetEncoding(1252)!.GetBytes(text);
        Assert.Contains((byte)0xE9, bytes);
        var file = RegExportReader.Parse(bytes);
        Assert.Equal(RegExportVersion.Regedit4, file.Version);
        var key = file.OpenKey(@"HKCU\Software\Test")!;
        Assert.Equal("caf\u00e9", key.GetValue("Name")!.AsString());
        var expand = key.GetValue("Expand")!;
        Assert.Equal("%TEMP%", expand.AsString());
        Assert.Equal(Encoding.Unicode.GetBytes("%TEMP%\0"), expand.Data.ToArray());
        Assert.Equal(new[] { "a", "\u00e9" }, key.GetValue("Multi")!.AsMultiString());
        Assert.Empty(file.Problems);
    }

    [Fact]
    public void TextThatIsNotAnExportIsATypedError()
    {
        var error = Assert.Throws<MalformedDataException>(() => RegExportReader.ParseText("hello\r\n[HKLM\\X]"));
        Assert.Equal("reg", error.Format);
        Assert.False(RegExportReader.LooksLikeExport(Fixtures.Bytes("hives/regipy/SAM")));
        Assert.True(RegExportReader.LooksLikeExport(RegExportWriter.ToFileBytes(Regedit5)));
    }

    [Theory]
    [InlineData(@"ControlSet001\Control\Lsa")]
    [InlineData(@"ControlSet001\Control")]
    [InlineData(@"ControlSet001\Enum")]
    public void HiveAndItsExportGiveTheSameAnswers(string subtree)
    {
        var hive = RegistryHive.Open(Fixtures.Path("hives/regipy/SYSTEM"));
        var key = hive.OpenKey(subtree)!;
        var exportPath = @"HKEY_LOCAL_MACHINE\SYSTEM\" + subtree;
        var file = RegExportReader.Parse(RegExportWriter.ToFileBytes(RegExportWriter.ToText(key, exportPath)));
        Assert.Empty(file.Problems);
        var system = file.Subtree(@"HKEY_LOCAL_MACHINE\SYSTEM")!;

        var fromHive = key.DescendantsAndSelf().ToList();
        var fromExport = system.OpenKey(subtree)!.DescendantsAndSelf().ToList();
        Assert.Equal(fromHive.Count, fromExport.Count);
        Assert.True(fromHive.Count > 0);
        for (var i = 0; i < fromHive.Count; i++)
        {
            Assert.Equal(fromHive[i].Path, fromExport[i].Path);
            var a = fromHive[i].Values;
            var b = fromExport[i].Values;
            Assert.Equal(a.Count, b.Count);
            for (var v = 0; v < a.Count; v++)
            {
                Assert.Equal(a[v].Name, b[v].Name);
                Assert.Equal(a[v].Type, b[v].Type);
                Assert.True(a[v].Data.Span.SequenceEqual(b[v].Data.Span), $"{fromHive[i].Path} [{a[v].Name}]");
            }
            // Lookups by path and name answer the same through either source.
            Assert.Equal(hive.OpenKey(fromHive[i].Path)?.Name, system.OpenKey(fromHive[i].Path)?.Name);
        }
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using KeyDoctor.Cli.Json;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

/// <summary>`reg dump --json` writes lines with <see cref="RegistryValueLineWriter"/>, not the serializer: same bytes.</summary>
public class RegistryValueLineWriterTests
{
    [Theory]
    [InlineData("hives/regipy/SYSTEM")]
    [InlineData("hives/regipy/NTUSER.DAT")]
    [InlineData("hives/regipy/SAM")]
    [InlineData("hives/regipy/SECURITY")]
    [InlineData("hives/regipy/corrupted_system_hive")]
    public void EveryValueOfAHiveIsWrittenAsTheSerializerWritesIt(string fixture) =>
        AssertWrittenAsTheSerializerWritesIt(RegistryHive.Open(Fixtures.Path(fixture)).Root, minimumValues: 10);

    /// <summary>
    /// Names and data the fast path must hand to the writer or escape itself: Latin-1 ("compressed") names beyond ASCII,
    /// UTF-16 names, quotes, control characters, HTML characters, surrogate pairs, empty names, odd-length strings.
    /// </summary>
    [Fact]
    public void NamesAndTextThatNeedEscapingAreWrittenAsTheSerializerWritesThem()
    {
        var root = new WritableKey("ROOT");
        string[] names = ["plain", "caf\u00e9", "\u4e2d\u6587", "quote\"d", "tab\tand\u0001", "<html>&'+`", "emoji \U0001F511", "", "back\\slash?"];
        foreach (var name in names)
        {
            var key = root.Add("Top").Add(name.Length == 0 ? "empty" : name.Replace("\\", "/"));
            key.SetString(name, name)
                .Set(name + " multi", RegistryValueType.MultiString, Encoding.Unicode.GetBytes(name + "\0second\0\0"))
                .SetDWord(name + " dword", 7)
                .Set(name + " odd", RegistryValueType.String, [0x41, 0, 0x42])
                .Set(name + " short dword", RegistryValueType.DWordLittleEndian, [1, 2])
                .Set(name + " type 0x1234", (RegistryValueType)0x1234, [0xAB]);
            key.Add("child \u00e9").Add("grandchild \u4e2d").SetString("", "deep");
        }
        var hive = RegistryHive.Load(RegfWriter.Write(root, "NAMES"));
        Assert.Empty(hive.Problems);
        AssertWrittenAsTheSerializerWritesIt(hive.Root, minimumValues: names.Length * 7);
        // A .reg export's keys are not hive cells: the writer's other path, same bytes.
        var export = RegExportReader.ParseText(RegExportWriter.ToText(hive.Root, @"HKEY_LOCAL_MACHINE\NAMES"), "names.reg");
        AssertWrittenAsTheSerializerWritesIt(export.Root, minimumValues: names.Length * 7);
    }

    private static void AssertWrittenAsTheSerializerWritesIt(RegistryKey root, int minimumValues)
    {
        var expected = new ArrayBufferWriter<byte>();
        using var actual = new KeyDoctor.Cli.PooledBufferWriter(1024);
        using var serializer = new Utf8JsonWriter(expected, KeyDoctor.Cli.JsonOutput.Compact);
        var direct = new RegistryValueLineWriter();
        var values = 0;
        foreach (var key in root.DescendantsAndSelf())
        {
            foreach (var value in key.Values)
            {
                JsonSerializer.Serialize(serializer, new RegistryValueLine(key.Path, value.Name, value.Type.ToRegName(), value), KeyDoctorJson.Default.RegistryValueLine);
                serializer.Flush();
                serializer.Reset();
                expected.Write("\n"u8);
                values++;
            }
            direct.WriteKey(actual, key);
        }
        Assert.True(values >= minimumValues, $"only {values} values");
        var lines = Encoding.UTF8.GetString(actual.WrittenSpan).Split('\n');
        var wanted = Encoding.UTF8.GetString(expected.WrittenSpan).Split('\n');
        Assert.Equal(wanted.Length, lines.Length);
        for (var i = 0; i < lines.Length; i++) Assert.Equal(wanted[i], lines[i]);
        Assert.True(expected.WrittenSpan.SequenceEqual(actual.WrittenSpan));
    }
}

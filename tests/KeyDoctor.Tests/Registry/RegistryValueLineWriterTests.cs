using System.Buffers;
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
    public void EveryValueOfAHiveIsWrittenAsTheSerializerWritesIt(string fixture)
    {
        var hive = RegistryHive.Open(Fixtures.Path(fixture));
        var expected = new ArrayBufferWriter<byte>();
        var actual = new ArrayBufferWriter<byte>();
        using var serializer = new Utf8JsonWriter(expected, KeyDoctor.Cli.JsonOutput.Compact);
        using var direct = new Utf8JsonWriter(actual, RegistryValueLineWriter.Options);
        var values = 0;
        foreach (var key in hive.Root.DescendantsAndSelf())
        {
            foreach (var value in key.Values)
            {
                JsonSerializer.Serialize(serializer, new RegistryValueLine(key.Path, value.Name, value.Type.ToRegName(), value), KeyDoctor.Cli.Json.KeyDoctorJson.Default.RegistryValueLine);
                serializer.Flush();
                serializer.Reset();
                expected.Write("\n"u8);
                values++;
            }
            RegistryValueLineWriter.WriteKey(direct, actual, key.Path, key.Values);
        }
        Assert.True(values > 10, $"only {values} values");
        var lines = System.Text.Encoding.UTF8.GetString(actual.WrittenSpan).Split('\n');
        var wanted = System.Text.Encoding.UTF8.GetString(expected.WrittenSpan).Split('\n');
        Assert.Equal(wanted.Length, lines.Length);
        for (var i = 0; i < lines.Length; i++) Assert.Equal(wanted[i], lines[i]);
        Assert.True(expected.WrittenSpan.SequenceEqual(actual.WrittenSpan));
    }
}

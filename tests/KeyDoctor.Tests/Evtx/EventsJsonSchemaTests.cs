using System.Buffers;
using System.Text.Json;
using KeyDoctor.Cli.Json;

namespace KeyDoctor.Tests.Evtx;

/// <summary>`events --json` is written by a hand-made hot path; <see cref="EventLine"/> is its documented schema.</summary>
public sealed class EventsJsonSchemaTests
{
    [Theory]
    [InlineData("evtx/security.evtx")]
    [InlineData("evtx/sysmon.evtx")]
    public void EveryLineReadsBackThroughTheSchemaRecordUnchanged(string fixture)
    {
        var result = Cli.Run("events", Fixtures.Path(fixture), "--json", "--xml");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            var parsed = JsonSerializer.Deserialize(line, KeyDoctorJson.Default.EventLine)!;
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer, EventJsonWriter.Options))
                JsonSerializer.Serialize(writer, parsed, KeyDoctorJson.Default.EventLine);
            Assert.Equal(line, System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }
}

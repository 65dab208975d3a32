using System.Text.Json;

namespace KeyDoctor.Tests.Evt;

/// <summary>`keydoctor events` reads legacy .Evt logs like .evtx ones: a file, or an image root's Windows\System32\config.</summary>
public class EventsCommandEvtTests
{
    [Fact]
    public void JsonLinesCarryTheRecordFieldsAndStrings()
    {
        var result = Cli.Run("events", Fixtures.Path("evt/SysEvent.Evt"), "--json", "--id", "7036");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2487, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var e = first.RootElement;
        Assert.Equal(2315, e.GetProperty("recordId").GetInt32());
        Assert.Equal(7036, e.GetProperty("eventId").GetInt32());
        Assert.Equal("0x40001B7C", e.GetProperty("eventIdentifier").GetString());
        Assert.Equal("Service Control Manager", e.GetProperty("provider").GetString());
        Assert.Equal("System", e.GetProperty("channel").GetString());
        Assert.Equal("WKS-WINXP32BIT", e.GetProperty("computer").GetString());
        Assert.Equal("2011-08-13T16:54:54Z", e.GetProperty("timeCreated").GetString());
        Assert.Equal(["IMAPI CD-Burning COM Service", "running"], e.GetProperty("strings").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("2487 shown; 6063 records read in 1 file(s), 0 records in error", result.Stderr);
    }

    [Fact]
    public void TextLinesAndFiltersWorkOnAnImageRoot()
    {
        var root = Directory.CreateTempSubdirectory("kd-evt-");
        try
        {
            var config = Directory.CreateDirectory(Path.Combine(root.FullName, "WINDOWS", "system32", "config"));
            File.Copy(Fixtures.Path("evt/SysEvent.Evt"), Path.Combine(config.FullName, "SysEvent.Evt"));
            var result = Cli.Run("events", root.FullName, "--provider", "service control manager", "--since", "2011-08-13T16:55:00Z", "--until", "2011-08-13T16:55:01Z");
            Assert.Equal(0, result.ExitCode);
            Assert.Equal("2011-08-13 16:55:00.000Z   7036  Service Control Manager  #2316  Data=IMAPI CD-Burning COM Service; Data=stopped\n", result.Stdout);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void ANonEvtFileNamedEvtIsAnInputError()
    {
        var file = Path.GetTempFileName() + ".Evt";
        File.WriteAllBytes(file, new byte[200]);
        try
        {
            var result = Cli.Run("events", file);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("not a legacy event log", result.Stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

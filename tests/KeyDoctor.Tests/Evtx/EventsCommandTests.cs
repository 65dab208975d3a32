using System.Text.Json;
using KeyDoctor.Cli.Commands;

namespace KeyDoctor.Tests.Evtx;

public class EventsCommandTests
{
    private static readonly string System = Fixtures.Path("evtx/system.evtx");

    [Fact]
    public void JsonLinesOneEventPerLineWithTheRequiredFields()
    {
        var result = Cli.Run("events", System, "--id", "7023", "--json");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, lines.Length);
        using var doc = JsonDocument.Parse(lines[0]);
        var e = doc.RootElement;
        Assert.Equal(40, e.GetProperty("recordId").GetInt64());
        Assert.Equal("2017-07-12T17:16:28.4641401Z", e.GetProperty("timeCreated").GetString());
        Assert.Equal(7023, e.GetProperty("eventId").GetInt32());
        Assert.Equal("Service Control Manager", e.GetProperty("provider").GetString());
        Assert.Equal(2, e.GetProperty("level").GetInt32());
        Assert.Equal("WIN-P4SIAA0SQCO", e.GetProperty("computer").GetString());
        Assert.Equal("Spooler", e.GetProperty("data").GetProperty("param1").GetString());
        Assert.Equal("%%2147942414", e.GetProperty("data").GetProperty("param2").GetString());
        Assert.False(e.TryGetProperty("xml", out _));
        // The summary goes to stderr, so stdout stays pure JSON Lines.
        Assert.Contains("12 shown; 1881 records read in 1 file(s), 0 records in error, 0 chunks skipped", result.Stderr);
    }

    [Fact]
    public void XmlOnRequestAndRepeatedNamesBecomeArrays()
    {
        var result = Cli.Run("events", System, "--id", "6009", "--json", "--xml");
        var first = result.Stdout.Split('\n')[0];
        using var doc = JsonDocument.Parse(first);
        var e = doc.RootElement;
        Assert.StartsWith("<Event xmlns=", e.GetProperty("xml").GetString());
        Assert.Equal(["10.00.", "15063", "", "Multiprocessor Free", "0"],
            e.GetProperty("data").GetProperty("Data").EnumerateArray().Select(x => x.GetString()));
    }

    [Fact]
    public void TextLinesAndFilters()
    {
        var result = Cli.Run("events", Fixtures.Path("evtx/security.evtx"), "--id", "5061", "--provider", "microsoft-windows-security-auditing",
            "--since", "2016-07-16T00:44:00Z", "--until", "2016-07-16T00:45:00Z");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Contains("KeyName=IIS Express Development Certificate Container", l));
        Assert.StartsWith("2016-07-16 00:44:06.060Z   5061  Microsoft-Windows-Security-Auditing  #920  SubjectUserSid=S-1-5-18", lines[0]);

        var none = Cli.Run("events", Fixtures.Path("evtx/security.evtx"), "--provider", "Schannel", "--json");
        Assert.Equal(0, none.ExitCode);
        Assert.Equal("", none.Stdout);
    }

    [Fact]
    public void FolderAndImageRootAreSearched()
    {
        var root = Directory.CreateTempSubdirectory("keydoctor-image-");
        try
        {
            var logs = Directory.CreateDirectory(Path.Combine(root.FullName, "WINDOWS", "system32", "WINEVT", "logs"));
            File.Copy(System, Path.Combine(logs.FullName, "System.evtx"));
            File.Copy(Fixtures.Path("evtx/cc0-4663-object-access.evtx"), Path.Combine(logs.FullName, "Security.EVTX"));
            File.WriteAllText(Path.Combine(logs.FullName, "notes.evtx"), "not a log");

            var result = Cli.Run("events", root.FullName, "--id", "4663,7023", "--json");
            Assert.Equal(0, result.ExitCode);
            var events = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(2, events.Count(e => e.GetProperty("eventId").GetInt32() == 4663));
            Assert.Equal(12, events.Count(e => e.GetProperty("eventId").GetInt32() == 7023));
            Assert.All(events, e => Assert.StartsWith(logs.FullName, e.GetProperty("file").GetString()));
            Assert.Contains("skipped", result.Stderr); // the file that is not EVTX is named on stderr
            Assert.Contains("records read in 2 file(s)", result.Stderr);

            Assert.Equal(14, Cli.Run("events", logs.FullName, "--id", "4663,7023").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void FindsTheSeedEvidenceInAWrittenImage()
    {
        // A demo image built with EvtxWriter: the seeds' events, read back through the command.
        var root = Directory.CreateTempSubdirectory("keydoctor-demo-");
        try
        {
            var logs = Directory.CreateDirectory(Path.Combine(root.FullName, "Windows", "System32", "winevt", "Logs"));
            using (var file = File.Create(Path.Combine(logs.FullName, "System.evtx")))
                KeyDoctor.Formats.Evtx.EvtxWriter.Write(file, EvtxWriterTests.SeedEvents());

            var result = Cli.Run("events", root.FullName, "--id", "7024,36870", "--json");
            Assert.Equal(0, result.ExitCode);
            var events = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal([7024, 36870], events.Select(e => e.GetProperty("eventId").GetInt32()));
            Assert.Equal("IIS Admin Service", events[0].GetProperty("data").GetProperty("param1").GetString());
            Assert.Equal("%%2148073478", events[0].GetProperty("data").GetProperty("param2").GetString());
            Assert.Equal("0x8009030d", events[1].GetProperty("data").GetProperty("ErrorCode").GetString());
            Assert.Equal("S-1-5-18", events[1].GetProperty("userId").GetString());

            var text = Cli.Run("events", root.FullName, "--provider", "schannel");
            Assert.Equal(3, text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void CorruptFilesReportErrorsAndStillExitZero()
    {
        var result = Cli.Run("events", Fixtures.Path("evtx/sample_with_a_bad_chunk_magic.evtx"), "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(270, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("2 records in error, 2 chunks skipped", result.Stderr);
    }

    [Theory]
    [InlineData("no/such/file.evtx")]
    [InlineData("SOURCES.md")]
    public void UnreadableInputIsExitTwoWithOneLine(string input)
    {
        var path = input == "SOURCES.md" ? Fixtures.Path(input) : input;
        var result = Cli.Run("events", path);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Equal("", result.Stdout);
    }

    [Theory]
    [InlineData("--id", "70x24")]
    [InlineData("--since", "yesterday")]
    public void BadOptionsAreUsageErrors(string option, string value)
    {
        var result = Cli.Run("events", System, option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(option, result.Stderr);
    }

    [Fact]
    public void RelativeAndAbsoluteTimes()
    {
        var now = new DateTime(2024, 5, 21, 12, 0, 0, DateTimeKind.Utc);
        Assert.Equal(now.AddDays(-7), EventsCommand.ParseTime("7d", "--since", now));
        Assert.Equal(now.AddHours(-12), EventsCommand.ParseTime("12h", "--since", now));
        Assert.Equal(now.AddMinutes(-30), EventsCommand.ParseTime("30m", "--since", now));
        Assert.Equal(now.AddDays(-14), EventsCommand.ParseTime("2w", "--since", now));
        Assert.Equal(new DateTime(2024, 5, 1, 8, 0, 0, DateTimeKind.Utc), EventsCommand.ParseTime("2024-05-01T10:00:00+02:00", "--since", now));
        Assert.Equal(new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc), EventsCommand.ParseTime("2024-05-01T10:00:00", "--since", now));
    }
}

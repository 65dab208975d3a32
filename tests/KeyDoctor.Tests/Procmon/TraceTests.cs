using System.Text.Json;
using KeyDoctor.Diagnosis.Trace;
using KeyDoctor.Formats;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Tests.Procmon;

/// <summary>`keydoctor trace` and the key story, on the real captures and on generated seed stories.</summary>
public class TraceTests
{
    private const string OldGuid = SeedCaptures.OldGuid;
    private const string NewGuid = SeedCaptures.NewGuid;
    private static readonly string IisPrefix = SeedCaptures.IisPrefix;
    private const string MachineKeys = SeedCaptures.XpMachineKeys;

    private static string Seed002Capture(bool touchOldFile = true) => SeedCaptures.Seed002(touchOldFile: touchOldFile);

    [Fact]
    public void AWrittenCaptureReadsBack()
    {
        var path = Seed002Capture();
        try
        {
            using var reader = PmlReader.Open(path);
            var events = reader.ReadEvents().ToList();
            Assert.Equal(6, events.Count);
            Assert.Equal("RegQueryValue", events[3].Operation);
            Assert.Equal(NewGuid, events[3].ValueData);
            Assert.Equal("REG_SZ", events[3].ValueType);
            Assert.Equal("NAME NOT FOUND", events[4].Result);
            Assert.Equal("Created", events[5].OpenResult);
            Assert.Equal("Create", events[5].Disposition);
            Assert.Equal("inetinfo.exe", events[5].Process.Name);
            Assert.Equal(@"NT AUTHORITY\SYSTEM", events[5].Process.User);
            Assert.Equal(new DateTime(2005, 3, 1, 8, 0, 5, DateTimeKind.Utc), events[5].Time);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Seed002TellsTheMachineGuidStory()
    {
        var path = Seed002Capture();
        try
        {
            using var reader = PmlReader.Open(path);
            var story = KeyStoryBuilder.Build(reader.ReadEvents());
            var inetinfo = Assert.Single(story.Processes);
            Assert.Equal("inetinfo.exe", inetinfo.Process.Name);
            Assert.Equal([NewGuid], story.MachineGuids);
            Assert.Contains($"inetinfo.exe (PID 1234, NT AUTHORITY\\SYSTEM) read MachineGuid = {NewGuid}, did not find {IisPrefix[..8]}…_{NewGuid} (container \"Microsoft Internet Information Server\") (NAME NOT FOUND) and created it.", inetinfo.Sentences);
            Assert.Contains(inetinfo.Sentences, s => s.StartsWith($"{IisPrefix[..8]}…_{OldGuid} ({OldGuid} = the GUID before) is the \"Microsoft Internet Information Server\" container, used by IIS 6 metabase", StringComparison.Ordinal));

            var cli = Cli.Run("trace", path, "--keys");
            Assert.Equal(1, cli.ExitCode); // a failure (NAME NOT FOUND) is a finding
            Assert.Contains("did not find", cli.Stdout);
            var json = Cli.Run("trace", path, "--keys", "--json");
            using var document = JsonDocument.Parse(json.Stdout);
            var process = Assert.Single(document.RootElement.GetProperty("processes").EnumerateArray());
            Assert.Equal(1234, process.GetProperty("pid").GetInt32());
            Assert.Equal("NAME NOT FOUND", process.GetProperty("accesses")[0].GetProperty("result").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheSourceMachinesKeyFilesShowTheOlderFileAndNameTheContainer()
    {
        var path = Seed002Capture(touchOldFile: false);
        using var image = new Scan.ScanImage();
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        image.KeyFile("Microsoft Internet Information Server", rsa, OldGuid);
        try
        {
            var without = Cli.Run("trace", path, "--keys");
            Assert.DoesNotContain("the GUID before", without.Stdout);
            var with = Cli.Run("trace", path, "--keys", "--json", "--source", image.Root);
            using var document = JsonDocument.Parse(with.Stdout);
            var story = document.RootElement.GetProperty("processes")[0].GetProperty("story").EnumerateArray().Select(s => s.GetString()!).ToList();
            Assert.Contains(story, s => s.StartsWith($"{IisPrefix[..8]}…_{OldGuid} ({OldGuid} = the GUID before) is the \"Microsoft Internet Information Server\" container", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AccessDeniedOnAKeyFileIsSaidWithTheProcessIdentity()
    {
        var processes = new List<ProcmonProcess> { new() { Index = 0, ProcessId = 4242, Name = "w3wp.exe", User = @"IIS APPPOOL\DefaultAppPool" } };
        var file = $"{MachineKeys}\\{ContainerName.CapiPrefix("iisConfigurationKey")}_{OldGuid}";
        var events = new[] { new PmlEventToWrite { ProcessIndex = 0, Time = DateTime.UnixEpoch, Class = ProcmonEventClass.FileSystem, Operation = 20, Path = file, Status = 0xC0000022, DesiredAccess = 0x120089 } };
        var stream = new MemoryStream();
        PmlWriter.Write(stream, "WEB02", processes, events);
        stream.Position = 0;
        using var reader = new PmlReader(stream);
        var story = KeyStoryBuilder.Build(reader.ReadEvents());
        var sentence = Assert.Single(Assert.Single(story.Processes).Sentences);
        Assert.Equal($"w3wp.exe (PID 4242, IIS APPPOOL\\DefaultAppPool) was denied generic read on {ContainerName.CapiPrefix("iisConfigurationKey")[..8]}…_{OldGuid} (container \"iisConfigurationKey\").", sentence);
    }

    [Theory]
    [InlineData("LogFileUTC64Registry")]
    [InlineData("LogFileUTC32Filesystem")]
    [InlineData("LogFileUTC64Process")]
    public void KeysListsExactlyTheProcessesThatTouchedKeysInProcmonsCsv(string capture)
    {
        using var csv = ProcmonCsvReader.Open(ProcmonFixtures.Path(capture + ".csv"));
        // The rule written out here, independently of KeyStoryBuilder.Classify.
        static bool TouchesKeys(string path) =>
            path.Contains(@"\Crypto\RSA\", StringComparison.OrdinalIgnoreCase) || path.Contains(@"\Crypto\Keys", StringComparison.OrdinalIgnoreCase)
            || path.Contains(@"\Crypto\DSS", StringComparison.OrdinalIgnoreCase)
            || path.Equals(@"HKLM\SOFTWARE\Microsoft\Cryptography", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith(@"HKLM\SOFTWARE\Microsoft\Cryptography\", StringComparison.OrdinalIgnoreCase)
            || path.Contains("SystemCertificates", StringComparison.OrdinalIgnoreCase) || path.Contains("SslBindingInfo", StringComparison.OrdinalIgnoreCase);
        var expected = csv.ReadEvents().Where(e => TouchesKeys(e.Path)).Select(e => (e.Process.Name, e.Process.ProcessId)).ToHashSet();
        var result = Cli.Run("trace", ProcmonFixtures.Path(capture + ".pml"), "--keys", "--json");
        using var document = JsonDocument.Parse(result.Stdout);
        var listed = document.RootElement.GetProperty("processes").EnumerateArray()
            .Select(p => (p.GetProperty("process").GetString()!, (uint)p.GetProperty("pid").GetInt32())).ToList();
        Assert.Equal(expected.Count, listed.Count);
        Assert.Equal(expected.OrderBy(p => p), listed.OrderBy(p => p));
        if (capture == "LogFileUTC64Registry") Assert.NotEmpty(listed);
    }

    [Fact]
    public void JsonLinesMatchTheCsvExportAndFiltersNarrowThem()
    {
        var pml = ProcmonFixtures.Path("LogFileUTC64Registry.pml");
        var result = Cli.Run("trace", pml, "--json", "--result", "access denied");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        foreach (var property in new[] { "time", "process", "pid", "tid", "operation", "path", "result", "detail" })
            Assert.True(first.RootElement.TryGetProperty(property, out _), property);
        Assert.Equal("ACCESS DENIED", first.RootElement.GetProperty("result").GetString());

        var csv = Cli.Run("trace", ProcmonFixtures.Path("LogFileUTC64Registry.csv"), "--json", "--result", "ACCESS DENIED");
        var fromCsv = csv.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Length, fromCsv.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var a = JsonDocument.Parse(lines[i]);
            using var b = JsonDocument.Parse(fromCsv[i]);
            foreach (var p in new[] { "process", "pid", "operation", "path", "result" })
                Assert.Equal(b.RootElement.GetProperty(p).ToString(), a.RootElement.GetProperty(p).ToString());
        }

        var narrowed = Cli.Run("trace", pml, "--process", "EXPLORER.EXE", "--path", @"\Cryptography\MachineGuid");
        Assert.All(narrowed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.Contains("Explorer.EXE", l));
    }

    [Fact]
    public void ACorruptCaptureEndsWithTheFileAndOffsetAfterTheEventsBeforeIt()
    {
        var source = File.ReadAllBytes(ProcmonFixtures.Path("LogFileUTC64Process.pml"));
        using (var reader = new PmlReader(new MemoryStream(source)))
        {
            var header = reader.Header;
            var tenth = BitConverter.ToUInt32(source, (int)header.EventOffsetsOffset + (10 * 5));
            BitConverter.GetBytes(77u).CopyTo(source, tenth + 8); // event class 77
        }
        var path = Path.Combine(Path.GetTempPath(), $"kd-corrupt-{Guid.NewGuid():N}.pml");
        File.WriteAllBytes(path, source);
        try
        {
            var result = Cli.Run("trace", path, "--json");
            Assert.Equal(2, result.ExitCode);
            Assert.Equal(10, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.Contains($"the capture {path} is damaged at offset 0x", result.Stderr);
            Assert.Contains("10 events before it were read", result.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ATruncatedOrUnsavedCaptureIsAClearInputError()
    {
        var source = File.ReadAllBytes(ProcmonFixtures.Path("LogFileUTC64Process.pml"));
        var path = Path.Combine(Path.GetTempPath(), $"kd-cut-{Guid.NewGuid():N}.pml");
        File.WriteAllBytes(path, source.AsSpan(0, source.Length / 2).ToArray());
        try
        {
            var result = Cli.Run("trace", path);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"cannot read the capture {path}", result.Stderr);
            Assert.Contains("outside the", result.Stderr);
            var unsaved = source.AsSpan(0, 0x3A8).ToArray();
            Array.Clear(unsaved, 0x248, 16);
            var ex = Assert.Throws<MalformedDataException>(() => new PmlReader(new MemoryStream(unsaved)));
            Assert.Contains("did not finish saving", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RandomDamageNeverHangsNorCrashes()
    {
        var clean = File.ReadAllBytes(ProcmonFixtures.Path("LogFileUTC64Process.pml"));
        var random = new Random(24);
        for (var round = 0; round < 30; round++)
        {
            var bytes = (byte[])clean.Clone();
            for (var i = 0; i < 40; i++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            try
            {
                using var reader = new PmlReader(new MemoryStream(bytes));
                foreach (var _ in reader.ReadEvents()) { }
            }
            catch (MalformedDataException)
            {
            }
        }
    }
}

using KeyDoctor.Cli;
using KeyDoctor.Machine.Audit;
using KeyDoctor.Machine.Collection;
using KeyDoctor.Machine.Tools;

namespace KeyDoctor.Tests.Windows;

/// <summary>
/// The Windows-only code at its boundary: the exact argv the live host runs, asserted from a recorded transcript, and
/// what the admin reads when a tool fails (non-zero exit, access denied, missing tool): a sentence, never the tool's
/// text or a bare path alone.
/// </summary>
public sealed class WindowsBoundaryTests
{
    /// <summary>Records each program and argv; answers from a script of results (or throws, for a missing tool).</summary>
    private sealed class RecordedRunner(params Func<string, IReadOnlyList<string>, ProcessResult>[] answers) : IProcessRunner
    {
        private int _next;
        public List<string[]> Transcript { get; } = [];

        public ProcessResult Run(string program, IReadOnlyList<string> arguments)
        {
            Transcript.Add([program, .. arguments]);
            return answers[Math.Min(_next++, answers.Length - 1)](program, arguments);
        }
    }

    private static ProcessResult Ok(string program, IReadOnlyList<string> arguments) => new(0, "The operation completed successfully.\r\n", "");

    [Fact]
    public void RegSaveAndWevtutilEplRunWithTheirExactArgv()
    {
        var runner = new RecordedRunner(Ok);
        var tools = new WindowsTools(runner);
        tools.SaveRegistryHive(@"HKLM\SYSTEM", @"C:\Temp\kd\item");
        tools.ExportEventLog("Microsoft-Windows-CAPI2/Operational", @"C:\Temp\kd\item", null);
        tools.ExportEventLog("System", @"C:\Temp\kd\item", new DateTimeOffset(2026, 11, 1, 8, 30, 0, TimeSpan.Zero));

        string[][] expected =
        [
            ["reg.exe", "save", @"HKLM\SYSTEM", @"C:\Temp\kd\item", "/y"],
            ["wevtutil.exe", "epl", "Microsoft-Windows-CAPI2/Operational", @"C:\Temp\kd\item"],
            ["wevtutil.exe", "epl", "System", @"C:\Temp\kd\item", "/q:*[System[TimeCreated[@SystemTime>='2026-11-01T08:30:00.000Z']]]"],
        ];
        Assert.Equal(expected.Length, runner.Transcript.Count);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], runner.Transcript[i]);
    }

    [Fact]
    public void AuditpolReadsAndWritesTheSubcategoryWithItsExactArgv()
    {
        var subcategory = Guid.Parse("0cce921d-69ae-11d9-bed3-505054503030");
        var runner = new RecordedRunner((_, _) => new ProcessResult(0,
            "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting\r\n" +
            "WEB01,System,File System,{0CCE921D-69AE-11D9-BED3-505054503030},Success and Failure,\r\n", ""));
        var tool = new AuditPolicyTool(runner);
        var setting = tool.Read(subcategory);
        tool.Write(setting with { Failure = false });

        Assert.True(setting.Success);
        Assert.True(setting.Failure);
        Assert.Equal(["auditpol.exe", "/get", "/subcategory:{0cce921d-69ae-11d9-bed3-505054503030}", "/r"], runner.Transcript[0]);
        Assert.Equal(["auditpol.exe", "/set", "/subcategory:{0cce921d-69ae-11d9-bed3-505054503030}", "/success:enable", "/failure:disable"], runner.Transcript[1]);
    }

    [Fact]
    public void AccessDeniedNamesTheCommandWhatItPrintedAndToElevate()
    {
        var runner = new RecordedRunner((_, _) => new ProcessResult(1, "", "ERROR: A required privilege is not held by the client.\r\n"));
        var error = Assert.Throws<ToolFailedException>(() => new WindowsTools(runner).SaveRegistryHive(@"HKLM\SOFTWARE", @"C:\T\item"));

        Assert.Equal(@"reg.exe save HKLM\SOFTWARE C:\T\item /y", error.CommandLine);
        Assert.Equal(@"'reg.exe save HKLM\SOFTWARE C:\T\item /y' failed with exit code 1: ERROR: A required privilege is not held by the client. " +
                     "Run keydoctor from an elevated prompt (Run as administrator) as a member of Administrators.", error.Message);
        AssertSentence(KeyDoctorApp.Sentence(error));
    }

    [Fact]
    public void ANonZeroExitWithoutOutputStillSaysWhatToDo()
    {
        var runner = new RecordedRunner((_, _) => new ProcessResult(5, "", ""));
        var error = Assert.Throws<ToolFailedException>(() => new WindowsTools(runner).ExportEventLog("Security", @"C:\T\item", null));
        Assert.Equal("'wevtutil.exe epl Security C:\\T\\item' failed with exit code 5: (it printed nothing). " +
                     "Run the same command by hand from an elevated prompt to see why.", error.Message);
    }

    [Fact]
    public void AMissingToolIsASentenceAboutTheTool()
    {
        // The real runner on a machine without wevtutil.exe (Linux here, a stripped Windows image there).
        var error = Assert.Throws<ToolFailedException>(() =>
            new WindowsTools(SystemProcessRunner.Instance).ExportEventLog("System", Path.Combine(Path.GetTempPath(), "kd-never"), null));
        Assert.StartsWith("could not run 'wevtutil.exe epl System ", error.Message, StringComparison.Ordinal);
        Assert.Contains("could not be started", error.Message, StringComparison.Ordinal);
        Assert.Contains("System32", error.Message, StringComparison.Ordinal);
        Assert.Null(error.ToolOutput);
    }

    [Fact]
    public void ACollectionWhoseRegSaveIsDeniedRecordsTheCommandAndFailsTheCoreItems()
    {
        using var image = new TempImage();
        var runner = new RecordedRunner((_, arguments) => new ProcessResult(1, "", "ERROR: Access is denied."));
        var host = new DeniedHiveHost(image.Root, new WindowsTools(runner));
        var zip = Path.Combine(image.Root, "..", $"kd-{Guid.NewGuid():N}.zip");
        try
        {
            var manifest = new BundleCollector(host, "test").Collect(CollectionPlanner.Plan(new CollectionOptions { IncludeEventLogs = false }), zip, "snapshot");
            Assert.False(manifest.Complete);
            var failures = BundleCollector.CoreFailures(manifest);
            Assert.Equal([@"registry hive HKLM\SOFTWARE", @"registry hive HKLM\SYSTEM"], failures.Select(f => f.Description));
            Assert.All(failures, f => Assert.StartsWith("reg.exe save HKLM\\", f.Command, StringComparison.Ordinal));
            Assert.All(failures, f => Assert.Contains("Access is denied", f.Error, StringComparison.Ordinal));
            Assert.Contains(["reg.exe", "save", @"HKLM\SECURITY"], runner.Transcript.Select(t => t[..3]));
        }
        finally
        {
            File.Delete(zip);
        }
    }

    /// <summary>An image host whose hives are saved by the recorded reg.exe (as on the live server).</summary>
    private sealed class DeniedHiveHost(string root, WindowsTools tools) : ICollectionHost
    {
        private readonly ImageCollectionHost _image = new(root);
        public bool IsElevated => true;
        public string HostName => "WEB01";
        public string OsVersion => "test";
        public bool DirectoryExists(string path) => _image.DirectoryExists(path);
        public bool FileExists(string path) => _image.FileExists(path);
        public IEnumerable<string> EnumerateFiles(string directory, bool recursive) => _image.EnumerateFiles(directory, recursive);
        public Stream OpenRead(string path) => _image.OpenRead(path);
        public CollectedMetadata Describe(string path) => _image.Describe(path);
        public void SaveRegistryHive(string key, string destinationFile) => tools.SaveRegistryHive(key, destinationFile);
        public void ExportEventLog(string log, string destinationFile, DateTimeOffset? since) => tools.ExportEventLog(log, destinationFile, since);
    }

    private sealed class TempImage : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("kd-boundary-").FullName;

        public TempImage()
        {
            Directory.CreateDirectory(Path.Combine(Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys"));
            File.WriteAllText(Path.Combine(Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys/a_b"), "k");
        }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    // Every exception that can reach the top-level handler, as the system words it (a bare path, "Access is denied.").
    public static TheoryData<Exception> SystemExceptions() =>
    [
        new DirectoryNotFoundException(@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys"),
        new UnauthorizedAccessException("Access is denied."),
        new UnauthorizedAccessException(@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys"),
        new FileNotFoundException(@"C:\x\applicationHost.config"),
        new FileNotFoundException("Could not find file.", @"C:\x\applicationHost.config"),
        new IOException("The process cannot access the file because it is being used by another process."),
        new IOException(""),
        new PathTooLongException("x"),
        new System.Security.Cryptography.CryptographicException("Unknown error -1073741822."),
        new PlatformNotSupportedException("Windows Cryptography Next Generation (CNG) is not supported on this platform."),
        new FormatException("Input string was not in a correct format."),
        new NotSupportedException("x"),
        new Formats.MalformedDataException("bundle manifest", 0, "not a keydoctor-bundle manifest"),
        AuditSentences.CannotAccessSacl("read", @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys",
            new IOException(@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys")),
    ];

    [Theory]
    [MemberData(nameof(SystemExceptions))]
    public void EveryErrorReachingTheHandlerIsASentenceNotTheSystemsMessageAlone(Exception exception)
    {
        var sentence = KeyDoctorApp.Sentence(exception);
        AssertSentence(sentence);
        if (exception is not LiveMachineException) Assert.NotEqual(exception.Message.Trim(), sentence!.Trim()); // ours are sentences already
    }

    [Fact]
    public void AuditStatusWithoutItsFolderNamesTheFolderWhatFailedAndWhatToDo()
    {
        var sentence = AuditSentences.CannotAccessSacl("read", @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys",
            new DirectoryNotFoundException(@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys")).Message;
        Assert.StartsWith(@"cannot read the audit settings (SACL) of the MachineKeys folder C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys", sentence, StringComparison.Ordinal);
        Assert.Contains("check that this is a Windows server", sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownExceptionIsAnInternalErrorWithWhereToReportIt()
    {
        Assert.Null(KeyDoctorApp.Sentence(new NullReferenceException()));
    }

    private static void AssertSentence(string? sentence)
    {
        Assert.NotNull(sentence);
        Assert.EndsWith(".", sentence, StringComparison.Ordinal);
        Assert.True(sentence.Split(' ').Length >= 8, $"too short to say what failed and what to do: {sentence}");
        Assert.DoesNotContain("..", sentence, StringComparison.Ordinal);
        Assert.Matches("(Run|Check|Copy|run|check|give)", sentence);
    }
}

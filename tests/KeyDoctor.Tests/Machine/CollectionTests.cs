using System.IO.Compression;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Collection;

namespace KeyDoctor.Tests.Machine;

public sealed class CollectionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-collect-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void PlanCoversEverythingScanReadsWithTheManualCommands()
    {
        var plan = CollectionPlanner.Plan(new CollectionOptions
        {
            EventsSince = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
            Users = [new UserProfile("alice", "S-1-5-21-1-2-3-1001", @"C:\Users\alice")],
        });
        Assert.Contains(plan, s => s.Kind == CollectionStepKind.CopyFolder && s.BundlePath == WindowsPaths.MachineKeys && s.HoldsSecrets);
        Assert.Contains(plan, s => s.Command == @"reg save HKLM\SOFTWARE ""<bundle>\Windows\System32\config\SOFTWARE"" /y");
        Assert.Contains(plan, s => s.Command == @"reg save HKU\S-1-5-21-1-2-3-1001 ""<bundle>\Users\alice\NTUSER.DAT"" /y");
        Assert.Contains(plan, s => s.Command ==
            @"wevtutil epl ""Security"" ""<bundle>\Windows\System32\winevt\Logs\Security.evtx"" /q:""*[System[TimeCreated[@SystemTime>='2026-11-01T00:00:00.000Z']]]""");
        Assert.Contains(plan, s => s.BundlePath == WindowsPaths.Metabase);
        Assert.Contains(plan, s => s.BundlePath == WindowsPaths.SystemMasterKeys && s.Recursive);
    }

    [Fact]
    public void EveryProfilesKeysAndMasterKeysAreCollectedLoggedOnOrNot()
    {
        var plan = CollectionPlanner.Plan(new CollectionOptions
        {
            Users =
            [
                new UserProfile("alice", "S-1-5-21-1-2-3-1001", @"C:\Users\alice"),
                new UserProfile("bob", "S-1-5-21-1-2-3-1002", @"C:\Users\bob", HiveLoaded: false),
            ],
        });
        foreach (var user in new[] { "alice", "bob" })
            foreach (var folder in new[] { "Crypto", "Protect" })
                Assert.Contains(plan, s => s.BundlePath == $@"Users\{user}\AppData\Roaming\Microsoft\{folder}" && s.Recursive && s.HoldsSecrets);
        Assert.DoesNotContain(plan, s => s.Source == @"HKU\S-1-5-21-1-2-3-1002"); // bob's hive is not loaded: reg save cannot take it
        foreach (var account in new[] { "LocalService", "NetworkService" })
            Assert.Contains(plan, s => s.Source == $@"C:\Windows\ServiceProfiles\{account}\AppData\Roaming\Microsoft\Protect");
    }

    [Fact]
    public void SnapshotPlanLeavesOutEventLogs()
    {
        var plan = CollectionPlanner.Plan(new CollectionOptions { IncludeEventLogs = false });
        Assert.DoesNotContain(plan, s => s.Kind == CollectionStepKind.ExportEventLog);
    }

    [Fact]
    public void BundleFromAnImageReadsBackAsTheSameMachine()
    {
        var image = Path.Combine(_root, "image");
        void Put(string relative, string content)
        {
            var path = Path.Combine(image, relative.Replace('\\', '/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }
        Put(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\c2319c42033a5ca7f44e731bfd3fa2b5_g", "key");
        Put(@"Windows\System32\config\SYSTEM", "system hive");
        Put(@"windows\system32\inetsrv\config\applicationHost.config", "<configuration/>");

        var zip = Path.Combine(_root, "snapshot.zip");
        var collector = new BundleCollector(new ImageCollectionHost(image, "WEB01"), "test");
        var manifest = collector.Collect(CollectionPlanner.Plan(new CollectionOptions { IncludeEventLogs = false }), zip, "snapshot");

        Assert.Equal("snapshot", manifest.Kind);
        Assert.Contains(manifest.Problems, p => p.Path == WindowsPaths.SoftwareHive); // no SOFTWARE in this image: said, not skipped
        var key = Assert.Single(manifest.Files, f => f.Path.EndsWith("_g", StringComparison.Ordinal));
        Assert.Equal(3, key.Length);
        Assert.Equal("2c70e12b7a0646f92279f427c7b38e7334d8e5389cff167a1dc30e73f826b683", key.Sha256);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(zip));

        using var source = MachineSource.Open(zip);
        Assert.Equal("WEB01", source.Info.HostName);
        Assert.Equal("key", File.ReadAllText(source.GetLocalPath(WindowsPaths.MachineKeys + @"\c2319c42033a5ca7f44e731bfd3fa2b5_g")!));
        Assert.NotNull(source.GetFile(WindowsPaths.SystemHive));
        Assert.NotNull(source.GetFile(WindowsPaths.ApplicationHostConfig));
        using var archive = ZipFile.OpenRead(zip);
        Assert.All(archive.Entries, e => Assert.DoesNotContain("..", e.FullName));
    }

    [Fact]
    public void LockedFilesAreReportedNotSkipped()
    {
        var host = new LockingHost(Path.Combine(_root, "image"));
        Directory.CreateDirectory(Path.Combine(_root, "image", "ProgramData/Microsoft/Crypto/RSA/MachineKeys"));
        File.WriteAllText(Path.Combine(_root, "image", "ProgramData/Microsoft/Crypto/RSA/MachineKeys/locked_g"), "x");
        var manifest = new BundleCollector(host, "test").Collect(
            CollectionPlanner.Plan(new CollectionOptions { IncludeEventLogs = false }), Path.Combine(_root, "b.zip"), "snapshot");
        Assert.Contains(manifest.Problems, p => p.Path.EndsWith("locked_g", StringComparison.Ordinal) && p.Reason.Contains("being used"));
        Assert.DoesNotContain(manifest.Files, f => f.Path.EndsWith("locked_g", StringComparison.Ordinal));
    }

    private sealed class LockingHost(string root) : ICollectionHost
    {
        private readonly ImageCollectionHost _inner = new(root);
        public bool IsElevated => true;
        public string HostName => "h";
        public string OsVersion => "v";
        public bool DirectoryExists(string path) => _inner.DirectoryExists(path);
        public bool FileExists(string path) => _inner.FileExists(path);
        public IEnumerable<string> EnumerateFiles(string directory, bool recursive) => _inner.EnumerateFiles(directory, recursive);
        public Stream OpenRead(string path) =>
            path.EndsWith("locked_g", StringComparison.Ordinal)
                ? throw new IOException("The process cannot access the file because it is being used by another process.")
                : _inner.OpenRead(path);
        public CollectedMetadata Describe(string path) => _inner.Describe(path);
        public void SaveRegistryHive(string key, string destinationFile) => _inner.SaveRegistryHive(key, destinationFile);
        public void ExportEventLog(string log, string destinationFile, DateTimeOffset? since) => _inner.ExportEventLog(log, destinationFile, since);
    }
}

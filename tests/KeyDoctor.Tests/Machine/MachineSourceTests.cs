using System.IO.Compression;
using KeyDoctor.Formats;
using KeyDoctor.Machine;

namespace KeyDoctor.Tests.Machine;

public sealed class MachineSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-machine-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative.Replace('\\', '/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void AFolderWithNothingOfASystemDriveIsAnInputErrorNotAHealthyMachine()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        foreach (var command in new[] { "scan", "iis", "keys clean", "audit report" })
        {
            var result = Cli.Run([.. command.Split(' '), empty]);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal($"keydoctor: {empty} is not a Windows system drive: it holds none of Windows, ProgramData, Users, Documents and Settings, " +
                         "registry, inetpub, traces. Give the folder that holds Windows and ProgramData (the root of the copied or mounted drive), " +
                         "or a bundle from 'keydoctor collect'.", result.Stderr.Trim());
        }

        // A disk mounted one level up: the drive below is named.
        Write("mnt/D/data.txt", "x");
        Write("mnt/C/Windows/System32/config/readme.txt", "x");
        var mounted = Cli.Run("scan", Path.Combine(_root, "mnt"));
        Assert.Equal(2, mounted.ExitCode);
        Assert.Contains($"{Path.Combine(_root, "mnt", "C")} looks like one: give that folder.", mounted.Stderr);

        var machineKeys = Directory.CreateDirectory(Path.Combine(_root, "keys", "MachineKeys")).FullName;
        Assert.Contains($"For a key folder alone, use 'keydoctor keys list {machineKeys}'.", Cli.Run("scan", machineKeys).Stderr);
        Assert.Equal(2, Cli.Run("collect", "--from", empty, "-o", Path.Combine(_root, "b.zip")).ExitCode);
        Assert.False(File.Exists(Path.Combine(_root, "b.zip")));

        // Any one of the drive's folders is enough: an image of registry exports alone is scanned.
        Write("partial/registry/software.reg", "Windows Registry Editor Version 5.00\r\n");
        Assert.NotEqual(2, Cli.Run("scan", Path.Combine(_root, "partial")).ExitCode);
    }

    [Fact]
    public void AWrongKindOfPathIsOneSentenceThatSaysWhatToGive()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "folder")).FullName;
        var file = Write("file.bin", "x");
        (string[] Args, string Stderr)[] cases =
        [
            (["keys", "show", folder], $"keydoctor: {folder} is a folder, and 'keys show' reads one key file: list a folder's key files with 'keydoctor keys list {folder}'."),
            (["keys", "list", Path.Combine(_root, "nope")], $"keydoctor: there is no folder {Path.Combine(_root, "nope")}: check the path."),
            (["scan", Path.Combine(_root, "nope")], $"keydoctor: there is no image folder or bundle {Path.Combine(_root, "nope")}: check the path."),
            (["iis", Path.Combine(_root, "nope")], $"keydoctor: there is no file or folder {Path.Combine(_root, "nope")}: give an image root or one IIS configuration file."),
        ];
        foreach (var (args, stderr) in cases)
        {
            var result = Cli.Run(args);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal(stderr, result.Stderr.Trim());
        }
        Assert.Equal(1, Cli.Run("keys", "show", file).ExitCode); // a file that is no key file is a finding about it
    }

    [Fact]
    public void ImageLookupsIgnoreCaseAsWindowsDoes()
    {
        Write("programdata/microsoft/crypto/rsa/MACHINEKEYS/c2319c42033a5ca7f44e731bfd3fa2b5_guid", "x");
        using var source = MachineSource.Open(_root);
        Assert.Equal(MachineSourceKind.Image, source.Kind);
        Assert.False(source.HasSecurityMetadata);
        Assert.True(source.DirectoryExists(WindowsPaths.MachineKeys));
        var file = Assert.Single(source.EnumerateFiles(WindowsPaths.MachineKeys));
        Assert.Equal("c2319c42033a5ca7f44e731bfd3fa2b5_guid", file.Name);
        Assert.Equal(1, file.Length);
        Assert.NotNull(source.GetFile(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\C2319C42033A5CA7F44E731BFD3FA2B5_GUID"));
        Assert.Null(source.GetFile(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\missing"));
        Assert.Null(source.GetFile(@"ProgramData\..\..\etc\passwd"));
        Assert.Empty(source.EnumerateFiles(WindowsPaths.CngMachineKeys));
    }

    [Fact]
    public void ImageFilesAreOpenedReadOnly()
    {
        Write("Windows/System32/config/SOFTWARE", "hive");
        using var source = MachineSource.Open(_root);
        using var stream = source.OpenRead(WindowsPaths.SoftwareHive);
        Assert.False(stream.CanWrite);
        Assert.Throws<FileNotFoundException>(() => source.OpenRead(WindowsPaths.SystemHive));
    }

    [Fact]
    public void BundleCarriesNtfsMetadataFromItsManifest()
    {
        var zip = Path.Combine(_root, "bundle.zip");
        var manifest = new BundleManifest
        {
            CreatedUtc = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero),
            HostName = "WEB01",
            Files =
            {
                new BundleEntry(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\a_b")
                {
                    Length = 3, Attributes = NtfsAttributes.Compressed | NtfsAttributes.Archive, Sddl = "O:SYG:SYD:(A;;FA;;;SY)",
                },
            },
            Directories = { new BundleEntry(WindowsPaths.MachineKeys) { Attributes = NtfsAttributes.Encrypted } },
            Problems = { new CollectionProblem(@"Windows\System32\config\SAM", "locked") },
        };
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            using (var s = archive.CreateEntry(BundleManifest.FileName).Open()) s.Write(manifest.ToJson());
            using (var s = archive.CreateEntry("ProgramData/Microsoft/Crypto/RSA/MachineKeys/a_b").Open()) s.Write("abc"u8);
        }

        string extracted;
        using (var source = MachineSource.Open(zip))
        {
            Assert.Equal(MachineSourceKind.Bundle, source.Kind);
            Assert.True(source.HasSecurityMetadata);
            Assert.Equal("WEB01", source.Info.HostName);
            var file = Assert.Single(source.EnumerateFiles(WindowsPaths.MachineKeys));
            Assert.Equal(NtfsAttributes.Compressed | NtfsAttributes.Archive, file.Attributes);
            Assert.Equal("O:SYG:SYD:(A;;FA;;;SY)", file.Sddl);
            Assert.Equal("locked", Assert.Single(source.CollectionProblems).Reason);
            var folder = ((FolderMachineSource)source).GetDirectoryMetadata(WindowsPaths.MachineKeys);
            Assert.Equal(NtfsAttributes.Encrypted, folder!.Attributes);
            extracted = ((FolderMachineSource)source).Root;
            Assert.True(Directory.Exists(extracted));
        }
        Assert.False(Directory.Exists(extracted)); // the private temporary copy is gone
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("a/../../evil")]
    [InlineData("/etc/evil")]
    [InlineData("C:/evil")]
    public void ExtractionRefusesPathsThatLeaveTheFolder(string entryName)
    {
        var zip = Path.Combine(_root, "evil.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var s = archive.CreateEntry(entryName).Open())
            s.Write("x"u8);
        var target = Path.Combine(_root, "out");
        var ex = Assert.Throws<MalformedDataException>(() => SafeZipExtractor.Extract(zip, target));
        Assert.Equal("bundle zip", ex.Format);
        Assert.False(File.Exists(Path.Combine(_root, "evil")));
    }

    [Fact]
    public void BundleWithoutManifestIsAnInputError()
    {
        var zip = Path.Combine(_root, "plain.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var s = archive.CreateEntry("x.txt").Open())
            s.Write("x"u8);
        Assert.Throws<MalformedDataException>(() => MachineSource.Open(zip));
        Assert.Throws<MalformedDataException>(() => MachineSource.Open(Write("notzip.zip", "not a zip")));
    }
}

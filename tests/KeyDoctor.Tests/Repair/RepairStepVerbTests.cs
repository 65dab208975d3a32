using System.Security.Cryptography;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Repair;
using KeyDoctor.Tests.Certificates;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

/// <summary>The step verbs' rules: backups by name (files, registry values, certificate entries), and key files never written over one not proven bad.</summary>
public sealed class RepairStepVerbTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kd-steps-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>A registry in memory and a MachineKeys folder in the test's folder.</summary>
    private sealed class FakeMachine(string machineKeys) : IStepMachine
    {
        public Dictionary<(string, string), RegistryValueData> Values { get; } = [];
        public string? MachineGuid { get; set; } = ScanImage.Guid;
        public RegistryValueData? ReadValue(string key, string name) => Values.GetValueOrDefault((key, name));

        public void WriteValue(string key, string name, RegistryValueData? value)
        {
            if (value is null) Values.Remove((key, name));
            else Values[(key, name)] = value;
        }

        public string MachineKeysFolder(bool cng) => machineKeys;
        public string? ReadDacl(string localPath) => null;
        public void WriteDacl(string localPath, string sddl) { }
    }

    private static RegistryValueData Blob(byte[]? keyLink, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        new("Binary", Convert.ToHexString(CertificateBlobBuilder.Blob(certificate, keyLink)));

    [Fact]
    public void RestoringACertificateEntryRemovesOnlyTheKeyFileTheChangeMadeForIt()
    {
        var machineKeys = Directory.CreateDirectory(Path.Combine(_work, "MachineKeys")).FullName;
        var machine = new FakeMachine(machineKeys);
        using var certificate = CertificateBlobBuilder.CreateCertificate();
        const string key = @"HKLM\SOFTWARE\Microsoft\SystemCertificates\MY\Certificates\T";
        machine.Values[(key, "Blob")] = Blob(null, certificate); // no key link (KD2001/KD2008)
        var other = Path.Combine(machineKeys, $"{ContainerName.CapiPrefix("someone-else")}_{ScanImage.Guid}");
        File.WriteAllText(other, "another service's key");
        var folder = Path.Combine(_work, "010-KD2008");
        StepBackup.Create(folder, [], [], [@"MY\T"], machine, DateTimeOffset.UtcNow.AddSeconds(-5));

        // The import made a container and linked the certificate to it.
        var made = Path.Combine(machineKeys, $"{ContainerName.CapiPrefix("imported")}_{ScanImage.Guid}");
        File.WriteAllText(made, "imported key");
        machine.Values[(key, "Blob")] = Blob(CertificateBlobBuilder.KeyProviderInfo("imported", "Microsoft RSA SChannel Cryptographic Provider", 12, 0x20, 1), certificate);

        var done = StepBackup.Restore(folder, machine);
        Assert.False(File.Exists(made));
        Assert.True(File.Exists(other));
        Assert.Equal(Blob(null, certificate), machine.Values[(key, "Blob")]);
        Assert.Contains(done, d => d.StartsWith($"removed {made}", StringComparison.Ordinal));
    }

    [Fact]
    public void ARegistryValueIsPutBackAsItWasAndOneThatDidNotExistIsRemoved()
    {
        var machine = new FakeMachine(_work);
        machine.Values[(@"HKLM\SOFTWARE\Microsoft\Cryptography", "MachineGuid")] = new RegistryValueData("String", "41");
        var folder = Path.Combine(_work, "002-KD1001");
        StepBackup.Create(folder, [], [@"HKLM\SOFTWARE\Microsoft\Cryptography:MachineGuid", @"HKLM\SOFTWARE\X:New"], [], machine, DateTimeOffset.UtcNow);
        machine.Values[(@"HKLM\SOFTWARE\Microsoft\Cryptography", "MachineGuid")] = new RegistryValueData("String", "42");
        machine.Values[(@"HKLM\SOFTWARE\X", "New")] = new RegistryValueData("DWord", "01000000");
        StepBackup.Restore(folder, machine);
        Assert.Equal("41", machine.Values[(@"HKLM\SOFTWARE\Microsoft\Cryptography", "MachineGuid")].Data);
        Assert.False(machine.Values.ContainsKey((@"HKLM\SOFTWARE\X", "New")));
        Assert.Throws<InvalidOperationException>(() => StepBackup.Create(folder, [], [], [], machine, DateTimeOffset.UtcNow)); // one backup per folder
    }

    [Fact]
    public void ADamagedBackupRestoresNothing()
    {
        var a = Path.Combine(_work, "a");
        var b = Path.Combine(_work, "b");
        File.WriteAllText(a, "a");
        File.WriteAllText(b, "b");
        var folder = Path.Combine(_work, "backup");
        Assert.Equal(0, Cli.Run("repair", "backup", "--to", folder, "--file", a, "--file", b).ExitCode);
        File.WriteAllText(a, "a changed");
        File.WriteAllText(b, "b changed");
        var copy = Directory.GetFiles(folder, "01-b").Single();
        File.WriteAllText(copy, "tampered");
        var result = Cli.Run("repair", "restore", "--from", folder);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("damaged", result.Stderr);
        Assert.Equal("a changed", File.ReadAllText(a)); // not half restored
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
    }

    /// <summary>A healthy CryptoAPI key file for <paramref name="container"/>, as it would be named under the test GUID.</summary>
    private string KeyFile(string folder, string container)
    {
        using var image = new ScanImage();
        using var rsa = RSA.Create(1024);
        var path = image.KeyFile(container, rsa);
        var target = Path.Combine(Directory.CreateDirectory(folder).FullName, Path.GetFileName(path));
        File.Copy(path, target);
        return target;
    }

    [Fact]
    public void CopyFileNeverWritesOverAKeyFileThatIsNotProvenBad()
    {
        var source = KeyFile(Path.Combine(_work, "from"), "shop-key");
        var target = KeyFile(Path.Combine(_work, "to"), "shop-key");
        var good = File.ReadAllBytes(target);

        var refused = Cli.Run("repair", "copy-file", source, target);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("never replaces a key file that is not proven bad", refused.Stderr);
        Assert.Equal(good, File.ReadAllBytes(target));
        Assert.Equal(2, Cli.Run("repair", "copy-file", source, target, "--replace-damaged").ExitCode); // it is not damaged
        Assert.Equal(2, Cli.Run("repair", "copy-file", source, target, "--replace-sha256", new string('0', 64)).ExitCode);
        Assert.Equal(good, File.ReadAllBytes(target));

        Assert.Equal(0, Cli.Run("repair", "copy-file", source, target, "--replace-sha256", RepairFiles.Sha256(good)).ExitCode);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));

        File.WriteAllBytes(target, new byte[180]); // damaged now
        Assert.Equal(0, Cli.Run("repair", "copy-file", source, target, "--replace-damaged").ExitCode);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));

        var fresh = Path.Combine(_work, "to", Path.GetFileName(source)[..33] + ScanImage.OldGuid);
        Assert.Equal(2, Cli.Run("repair", "copy-file", source, fresh, "--sha256", new string('0', 64)).ExitCode); // not the file the plan saw
        Assert.False(File.Exists(fresh));
        Assert.Equal(0, Cli.Run("repair", "copy-file", source, fresh).ExitCode);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(fresh));

        File.WriteAllBytes(source, new byte[100]);
        Assert.Equal(2, Cli.Run("repair", "copy-file", source, Path.Combine(_work, "to", "x")).ExitCode); // never a damaged source
    }

    [Fact]
    public void SnapshotCreatesTheRunsBackupFolderOwnerOnly()
    {
        using var image = ScanImage.Healthy(out _);
        image.Build();
        var zip = Path.Combine(_work, "kd", "backup", "run 1", "before-repair.zip");
        Assert.Equal(0, Cli.Run("snapshot", "--from", image.Root, "-o", zip).ExitCode);
        Assert.True(File.Exists(zip));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(zip)!));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(zip));
        }
    }

    [Fact]
    public void CheckSaysWhetherAFindingIsGone()
    {
        using var image = RepairScenarios.ByFinding["KD2005"]();
        Assert.Equal(1, Cli.Run("repair", "check", "KD2005", "LM/W3SVC/1 5506", "--from", image.Root).ExitCode);
        Assert.Equal(0, Cli.Run("repair", "check", "KD2005", "LM/W3SVC/2 5506", "--from", image.Root).ExitCode);
        Assert.Equal(1, Cli.Run("repair", "check", "kd2005", "--subject-base64", Convert.ToBase64String("LM/W3SVC/1 5506"u8), "--from", image.Root).ExitCode);
    }
}

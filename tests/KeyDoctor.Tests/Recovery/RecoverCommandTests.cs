using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace KeyDoctor.Tests.Recovery;

/// <summary>`keydoctor recover` on an image built by <see cref="RecoveryImage"/>.</summary>
public class RecoverCommandTests
{
    private static (string Output, string PasswordFile) Paths(RecoveryImage image)
    {
        var passwordFile = Path.Combine(image.Root, "pfx-password.txt");
        File.WriteAllText(passwordFile, "Pfx-Pass-1\n");
        return (Path.Combine(image.Root, "out"), passwordFile);
    }

    [Fact]
    public void WritesPfxAndXmlOwnerOnlyAndAReportWithoutKeyMaterial()
    {
        using var image = new RecoveryImage();
        var (site, certificate) = image.AddCapiKey("iisWebSite");
        using var _ = site;
        using var config = image.AddCapiKey("NetFrameworkConfigurationKey", exportable: true, withCertificate: false).Key;
        var (output, passwordFile) = Paths(image);

        var run = Cli.Run("recover", image.Root, "--all", "-o", output, "--password-file", passwordFile, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        using var document = JsonDocument.Parse(run.Stdout);
        Assert.Equal(2, document.RootElement.GetProperty("recovered").GetInt32());
        Assert.Equal(0, document.RootElement.GetProperty("failed").GetInt32());
        Assert.True(document.RootElement.GetProperty("systemSecret").GetProperty("available").GetBoolean());

        var pfxPath = Path.Combine(output, $"iisWebSite_{certificate!.Thumbprint}.pfx");
        using var pfx = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, "Pfx-Pass-1");
        Assert.Equal(certificate.Thumbprint, pfx.Thumbprint);
        using var pfxKey = pfx.GetRSAPrivateKey()!;
        var signature = pfxKey.SignData("x"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(site.VerifyData("x"u8.ToArray(), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        var xml = File.ReadAllText(Path.Combine(output, "NetFrameworkConfigurationKey.xml"));
        Assert.StartsWith("<RSAKeyValue><Modulus>", xml);
        using var fromXml = RSA.Create();
        fromXml.FromXmlString(xml);
        Assert.Equal(config.ExportParameters(true).D, fromXml.ExportParameters(true).D);

        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in Directory.GetFiles(output))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(output));
        }

        // No key material in any report: neither the private exponent nor the prime, in any encoding.
        var d = site.ExportParameters(true);
        foreach (var text in new[] { run.Stdout, run.Stderr, File.ReadAllText(Path.Combine(output, "recovery-report.json")), File.ReadAllText(Path.Combine(output, "recovery-report.txt")) })
        {
            Assert.DoesNotContain(Convert.ToBase64String(d.D!)[..24], text);
            Assert.DoesNotContain(Convert.ToHexString(d.P!)[..24], text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Pfx-Pass-1", text);
        }
    }

    [Fact]
    public void CngEcKeyBecomesAPfxWithItsCertificate()
    {
        using var image = new RecoveryImage();
        var (ecdsa, certificate) = image.AddCngEcKey("IIS Express Development Certificate Container", exportPolicy: 0);
        using var _ = ecdsa;
        var (output, passwordFile) = Paths(image);
        var run = Cli.Run("recover", image.Root, "--thumbprint", certificate.Thumbprint, "-o", output, "--password-file", passwordFile, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        using var document = JsonDocument.Parse(run.Stdout);
        var key = Assert.Single(document.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("cng", key.GetProperty("kind").GetString());
        Assert.Equal("ECDSA_P256", key.GetProperty("algorithm").GetString());
        Assert.False(key.GetProperty("markedExportable").GetBoolean());
        Assert.Equal("DPAPI_SYSTEM machine half", key.GetProperty("masterKeyOpenedWith").GetString());
        var file = Assert.Single(key.GetProperty("files").EnumerateArray()).GetString()!;
        using var pfx = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(output, file), "Pfx-Pass-1");
        using var pfxKey = pfx.GetECDsaPrivateKey()!;
        Assert.True(ecdsa.VerifyData("x"u8.ToArray(), pfxKey.SignData("x"u8.ToArray(), HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void MismatchedHivesGiveFindingsAndTheReason()
    {
        using var image = new RecoveryImage(withHives: false);
        image.Put(@"Windows\System32\config\SYSTEM", Fixtures.Bytes("hives/regipy/SYSTEM_B"));
        image.Put(@"Windows\System32\config\SECURITY", Fixtures.Bytes("hives/regipy/SECURITY"));
        image.AddCapiKey("iisWebSite").Key.Dispose();
        var (output, passwordFile) = Paths(image);
        var run = Cli.Run("recover", image.Root, "--container", "iisWebSite", "-o", output, "--password-file", passwordFile);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("these hives do not belong together", run.Stdout);
        Assert.Contains("FAILED", run.Stdout);
        Assert.Equal(["recovery-report.json", "recovery-report.txt"], Directory.GetFiles(output).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Fact]
    public void UsageErrors()
    {
        using var image = new RecoveryImage();
        var (output, passwordFile) = Paths(image);
        Assert.Equal(2, Cli.Run("recover", image.Root, "-o", output, "--password-file", passwordFile).ExitCode); // no selection
        Assert.Equal(2, Cli.Run("recover", image.Root, "--all", "--container", "x", "-o", output, "--password-file", passwordFile).ExitCode);
        var noTerminal = Cli.Run("recover", image.Root, "--all", "-o", output);
        Assert.Equal(2, noTerminal.ExitCode);
        Assert.Contains("--password-file", noTerminal.Stderr);
        Assert.Equal(2, Cli.Run("recover", image.Root, "--all", "-o", output, "--password-file", passwordFile, "--user-sid", "S-1-5-21-1").ExitCode);
    }
    [Fact]
    public void DomainBackupKeyPvkOrJsonRecoversDomainUserKeysWithoutPrintingSecrets()
    {
        const string sid = Crypto.Dpapi.DomainKeyTests.DomainUserSid;
        var guid = Guid.Parse("ab998260-e99d-4871-8f4b-d922b2848ce6");
        using var image = new RecoveryImage();
        image.Put($@"Users\jdoe\AppData\Roaming\Microsoft\Protect\{sid}\{guid}", Fixtures.Bytes(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyFile));
        using var rsa = image.AddUserCapiKey("jdoe", sid, "jdoe-key", Convert.FromHexString(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyHex), guid);
        var (output, passwordFile) = Paths(image);
        var pvkPath = Path.Combine(image.Root, "ntds_capi_0_45cbf2fb-b468-471a-a374-3ca17b50cf3b.pvk");
        File.WriteAllBytes(pvkPath, Crypto.Dpapi.DomainKeyTests.OldBackupKeyPvk());

        var run = Cli.Run("recover", image.Root, "--container", "jdoe-key", "-o", output, "--password-file", passwordFile,
            "--domain-backup-key", pvkPath, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        using (var document = JsonDocument.Parse(run.Stdout))
        {
            Assert.Equal("45cbf2fb-b468-471a-a374-3ca17b50cf3b", document.RootElement.GetProperty("domainBackupKey").GetProperty("guid").GetString());
            var key = Assert.Single(document.RootElement.GetProperty("keys").EnumerateArray());
            Assert.True(key.GetProperty("recovered").GetBoolean());
            Assert.Equal("domain backup key 45cbf2fb-b468-471a-a374-3ca17b50cf3b", key.GetProperty("masterKeyOpenedWith").GetString());
        }
        var xml = File.ReadAllText(Path.Combine(output, "jdoe-key.xml"));
        using var fromXml = RSA.Create();
        fromXml.FromXmlString(xml);
        Assert.Equal(rsa.ExportParameters(true).D, fromXml.ExportParameters(true).D);

        // The JSON form too, as text output; neither the master key nor the backup key's primes appear anywhere.
        var output2 = Path.Combine(image.Root, "out2");
        var text = Cli.Run("recover", image.Root, "--container", "jdoe-key", "-o", output2, "--password-file", passwordFile,
            "--domain-backup-key", Fixtures.Path(Crypto.Dpapi.DomainKeyTests.OldBackupKeyJson));
        Assert.True(text.ExitCode == 0, text.Stderr + text.Stdout);
        Assert.Contains("Domain backup key: 45cbf2fb-b468-471a-a374-3ca17b50cf3b (RSA 2048 bits)", text.Stdout);
        var backupPrime = Convert.ToHexString(KeyDoctor.Crypto.KeySets.PvkFile.Read(Crypto.Dpapi.DomainKeyTests.OldBackupKeyPvk()).Parameters.P!)[..24];
        foreach (var report in new[] { run.Stdout, run.Stderr, text.Stdout, text.Stderr,
                     File.ReadAllText(Path.Combine(output, "recovery-report.json")), File.ReadAllText(Path.Combine(output2, "recovery-report.txt")) })
        {
            Assert.DoesNotContain(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyHex[..24], report, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(backupPrime, report, StringComparison.OrdinalIgnoreCase);
        }

        var badKey = Path.Combine(image.Root, "bad.pvk");
        File.WriteAllText(badKey, "not a key");
        var bad = Cli.Run("recover", image.Root, "--all", "-o", Path.Combine(image.Root, "out3"), "--password-file", passwordFile, "--domain-backup-key", badKey);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--domain-backup-key", bad.Stderr);
    }
}

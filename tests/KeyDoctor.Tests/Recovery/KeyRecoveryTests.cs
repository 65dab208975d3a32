using System.Security.Cryptography;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Recovery;

namespace KeyDoctor.Tests.Recovery;

/// <summary>The recovery chain on images built here and on the real vectors in ../shared/fixtures/keys.</summary>
public class KeyRecoveryTests
{
    private const string WikiSid = "S-1-5-21-494464150-3436831043-1864828003-1001";
    private const string WikiKeyFile = "79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    private const string NemesisCngKey = "7096db7aeb75c0d3497ecd56d355a695_f26c165b-53c8-414e-8abb-ec5f0f52df22";

    [Fact]
    public void DpapiWriterOutputOpensWithTheReaders()
    {
        var masterKey = RandomNumberGenerator.GetBytes(64);
        var preKey = RandomNumberGenerator.GetBytes(20);
        var guid = Guid.NewGuid();
        var file = MasterKeyFile.Parse(DpapiWriter.WriteMasterKeyFile(guid, masterKey, preKey, rounds: 100));
        Assert.Equal(guid, file.Guid);
        Assert.Null(file.MasterKey!.Decrypt(new byte[20]));
        Assert.Equal(masterKey, file.MasterKey!.Decrypt(preKey));

        var blob = DpapiBlob.Parse(DpapiWriter.ProtectBlob("secret text"u8, masterKey, guid, "Export Flag", "entropy"u8));
        Assert.Equal(guid, blob.MasterKeyGuid);
        Assert.Equal("Export Flag", blob.Description);
        Assert.Equal("secret text"u8.ToArray(), DpapiBlobDecryptor.Decrypt(blob, masterKey, "entropy"u8).Plaintext);
        Assert.False(DpapiBlobDecryptor.Decrypt(blob, masterKey).Success);
    }

    [Fact]
    public void ImageBuiltHereRecoversEndToEnd()
    {
        using var image = new RecoveryImage();
        var (iis, certificate) = image.AddCapiKey("iisWebSite", exportable: false);
        using var _ = iis;
        image.AddCapiKey("NetFrameworkConfigurationKey", exportable: true, withCertificate: false).Key.Dispose();
        using var source = MachineSource.Open(image.Root);

        var result = KeyRecovery.Recover(source, RecoverySelection.All);
        Assert.True(result.HasSystemSecret, result.SystemSecretFailure);
        Assert.Equal(2, result.Keys.Count);
        Assert.All(result.Keys, k => Assert.True(k.Recovered, k.Failure));

        var site = Assert.Single(result.Keys, k => k.Container == "iisWebSite");
        Assert.Equal(KeySpec.KeyExchange, site.Spec);
        Assert.False(site.MarkedExportable);
        Assert.Equal("DPAPI_SYSTEM machine half", site.MasterKeyOpenedWith);
        Assert.Equal(image.MasterKeyGuid, site.MasterKeyGuid);
        Assert.Equal(iis.ExportParameters(true).D, site.Key!.Rsa!.Value.D);
        Assert.Equal(certificate!.Thumbprint, Assert.Single(site.Certificates).Thumbprint);

        var config = Assert.Single(result.Keys, k => k.Container == "NetFrameworkConfigurationKey");
        Assert.True(config.MarkedExportable);
        Assert.Empty(config.Certificates);

        var byThumbprint = KeyRecovery.Recover(source, new RecoverySelection(Thumbprint: certificate.Thumbprint.ToLowerInvariant()));
        Assert.Equal("iisWebSite", Assert.Single(byThumbprint.Keys).Container);
        var byContainer = KeyRecovery.Recover(source, new RecoverySelection(Container: "netframeworkconfigurationkey"));
        Assert.Equal("NetFrameworkConfigurationKey", Assert.Single(byContainer.Keys).Container);
    }

    [Fact]
    public void MismatchedRegipyHivesAreReportedAndNoKeyIsRecovered()
    {
        using var image = new RecoveryImage(withHives: false);
        image.Put(@"Windows\System32\config\SYSTEM", Fixtures.Bytes("hives/regipy/SYSTEM"));
        image.Put(@"Windows\System32\config\SECURITY", Fixtures.Bytes("hives/regipy/SECURITY"));
        image.AddCapiKey("iisWebSite").Key.Dispose();
        using var source = MachineSource.Open(image.Root);
        var result = KeyRecovery.Recover(source, RecoverySelection.All);
        Assert.False(result.HasSystemSecret);
        Assert.StartsWith("these hives do not belong together", result.SystemSecretFailure);
        var key = Assert.Single(result.Keys);
        Assert.False(key.Recovered);
        Assert.Null(key.Key);
        Assert.EndsWith("DPAPI_SYSTEM is not available to open it", key.Failure);
    }

    [Fact]
    public void KeysRecoverOnAServer2003Layout()
    {
        // NT 5 keeps machine keys under All Users\Application Data and profiles under Documents and Settings.
        using var image = new RecoveryImage();
        image.AddCapiKey("iisWebSite", exportable: false).Key.Dispose();
        var modern = Path.Combine(image.Root, "ProgramData", "Microsoft");
        var legacy = Path.Combine(image.Root, "Documents and Settings", "All Users", "Application Data");
        Directory.CreateDirectory(legacy);
        Directory.Move(modern, Path.Combine(legacy, "Microsoft"));
        image.Put($@"Documents and Settings\wiki\Application Data\Microsoft\Protect\{WikiSid}\1eccdbd2-4771-4360-8b19-9d6060a061dc",
            Fixtures.Bytes("keys/mimikatz-wiki/1eccdbd2-4771-4360-8b19-9d6060a061dc"));
        image.Put($@"Documents and Settings\wiki\Application Data\Microsoft\Crypto\RSA\{WikiSid}\{WikiKeyFile}", Fixtures.Bytes("keys/mimikatz-wiki/" + WikiKeyFile));
        using var source = MachineSource.Open(image.Root);

        var result = KeyRecovery.Recover(source, RecoverySelection.All, UserCredential.FromPassword(WikiSid, "waza1234/"));
        var machine = Assert.Single(result.Keys, k => k.Container == "iisWebSite");
        Assert.True(machine.Recovered, machine.Failure);
        Assert.StartsWith(@"Documents and Settings\All Users\Application Data\Microsoft\Crypto\RSA\MachineKeys\", machine.Path);
        var user = Assert.Single(result.Keys, k => k.Container == "ffb75517-bc6c-4a40-8f8b-e2c555e30e34");
        Assert.True(user.Recovered, user.Failure);
        Assert.Equal("user password", user.MasterKeyOpenedWith);
    }

    [Fact]
    public void WikiUserKeyRecoversWithPasswordAndSid()
    {
        using var image = new RecoveryImage(withHives: false);
        image.Put($@"Users\wiki\AppData\Roaming\Microsoft\Protect\{WikiSid}\1eccdbd2-4771-4360-8b19-9d6060a061dc",
            Fixtures.Bytes("keys/mimikatz-wiki/1eccdbd2-4771-4360-8b19-9d6060a061dc"));
        image.Put($@"Users\wiki\AppData\Roaming\Microsoft\Crypto\RSA\{WikiSid}\{WikiKeyFile}", Fixtures.Bytes("keys/mimikatz-wiki/" + WikiKeyFile));
        using var source = MachineSource.Open(image.Root);

        var wrong = KeyRecovery.Recover(source, RecoverySelection.All, UserCredential.FromPassword(WikiSid, "wrong"));
        var failed = Assert.Single(wrong.Keys);
        Assert.Contains("the password does not open it", failed.Failure);

        var result = KeyRecovery.Recover(source, RecoverySelection.All, UserCredential.FromPassword(WikiSid, "waza1234/"));
        var key = Assert.Single(result.Keys);
        Assert.True(key.Recovered, key.Failure);
        Assert.Equal("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", key.Container);
        Assert.Equal(2048, key.KeyBits);
        Assert.True(key.MarkedExportable); // export flag 01000000
        Assert.Equal("user password", key.MasterKeyOpenedWith);

        var viaHash = KeyRecovery.Recover(source, RecoverySelection.All,
            UserCredential.FromHash(WikiSid, SHA1.HashData(System.Text.Encoding.Unicode.GetBytes("waza1234/"))));
        Assert.True(Assert.Single(viaHash.Keys).Recovered);
    }

    [Fact]
    public void NemesisSystemCngKeyOpensThroughTheUserHalfFromHivesWrittenHere()
    {
        using var image = new RecoveryImage(withHives: false);
        var (system, security, _) = Crypto.Lsa.LsaTestHives.Build(DpapiSystemSecret.FromHex(
            "01000000dcfd03644f501805c189e15e9367b01415dea75a4e25d96d26879ded571f5d48a6887455d28f66f5"));
        image.Put(@"Windows\System32\config\SYSTEM", system.Bytes.ToArray());
        image.Put(@"Windows\System32\config\SECURITY", security.Bytes.ToArray());
        image.Put(@"Windows\System32\Microsoft\Protect\S-1-5-18\User\fb1190c1-123d-45f8-95f4-32aee28fe2eb",
            Fixtures.Bytes("keys/nemesis/fb1190c1-123d-45f8-95f4-32aee28fe2eb"));
        image.Put($@"ProgramData\Microsoft\Crypto\SystemKeys\{NemesisCngKey}", Fixtures.Bytes("keys/nemesis/" + NemesisCngKey));
        using var source = MachineSource.Open(image.Root);
        var result = KeyRecovery.Recover(source, RecoverySelection.All);
        var key = Assert.Single(result.Keys);
        Assert.Equal("Google Chromekey1", key.Container);
        Assert.Equal("DPAPI_SYSTEM user half", key.MasterKeyOpenedWith);
        Assert.False(key.MarkedExportable); // Export Policy 0
        Assert.Equal("AES", key.Algorithm);
        Assert.StartsWith("a symmetric AES key", key.Failure);
        Assert.Null(key.Key);
    }

    [Fact]
    public void CorruptKeyFilesAreReportedAsData()
    {
        using var image = new RecoveryImage();
        image.AddCapiKey("iisWebSite").Key.Dispose();
        var file = Directory.GetFiles(Path.Combine(image.Root, "ProgramData", "Microsoft", "Crypto", "RSA", "MachineKeys")).Single();
        var bytes = File.ReadAllBytes(file);
        for (var cut = 0; cut < bytes.Length; cut += 97)
        {
            File.WriteAllBytes(file, bytes[..cut]);
            using var source = MachineSource.Open(image.Root);
            var key = Assert.Single(KeyRecovery.Recover(source, RecoverySelection.All).Keys);
            Assert.False(key.Recovered);
            Assert.NotNull(key.Failure);
        }
        var flipped = (byte[])bytes.Clone();
        flipped[^80] ^= 0x40; // inside the export flag or private key signature region
        File.WriteAllBytes(file, flipped);
        using (var source = MachineSource.Open(image.Root))
            Assert.All(KeyRecovery.Recover(source, RecoverySelection.All).Keys, k => Assert.NotNull(k.ToString()));
    }
    [Fact]
    public void DomainUserKeyRecoversWithTheDomainBackupKeyAlone()
    {
        const string sid = Crypto.Dpapi.DomainKeyTests.DomainUserSid;
        var guid = Guid.Parse("ab998260-e99d-4871-8f4b-d922b2848ce6");
        using var image = new RecoveryImage(withHives: false);
        image.Put($@"Users\jdoe\AppData\Roaming\Microsoft\Protect\{sid}\{guid}", Fixtures.Bytes(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyFile));
        using var rsa = image.AddUserCapiKey("jdoe", sid, "jdoe-signing", Convert.FromHexString(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyHex), guid);
        using var source = MachineSource.Open(image.Root);

        // No credential: the user's folders are not even searched.
        Assert.Empty(KeyRecovery.Recover(source, RecoverySelection.All).Keys);

        var backupKey = DomainBackupKey.Read(Fixtures.Bytes(Crypto.Dpapi.DomainKeyTests.OldBackupKeyJson));
        var result = KeyRecovery.Recover(source, RecoverySelection.All, domainKey: backupKey);
        var key = Assert.Single(result.Keys);
        Assert.True(key.Recovered, key.Failure);
        Assert.Equal("jdoe-signing", key.Container);
        Assert.Equal("domain backup key 45cbf2fb-b468-471a-a374-3ca17b50cf3b", key.MasterKeyOpenedWith);
        Assert.True(key.MarkedExportable);
        using var recovered = key.Key!.CreateAlgorithm() as RSA;
        Assert.Equal(rsa.ExportParameters(true).D, recovered!.ExportParameters(true).D);

        // A wrong password with the backup key still opens it; the report says which secret did.
        var both = KeyRecovery.Recover(source, RecoverySelection.All, UserCredential.FromPassword(sid, "wrong"), backupKey);
        Assert.Equal(key.MasterKeyOpenedWith, Assert.Single(both.Keys).MasterKeyOpenedWith);
    }

    [Fact]
    public void DomainKeySectionOfAnotherUserOrAnotherBackupKeyIsAFailureWithTheReason()
    {
        var guid = Guid.Parse("ab998260-e99d-4871-8f4b-d922b2848ce6");
        var backupKey = DomainBackupKey.Read(Fixtures.Bytes(Crypto.Dpapi.DomainKeyTests.OldBackupKeyJson));
        var masterKey = Convert.FromHexString(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyHex);

        // The real file copied into another user's folder: its access check names the real owner.
        const string otherSid = "S-1-5-21-937929760-3187473010-80948926-4242";
        using (var image = new RecoveryImage(withHives: false))
        {
            image.Put($@"Users\other\AppData\Roaming\Microsoft\Protect\{otherSid}\{guid}", Fixtures.Bytes(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyFile));
            image.AddUserCapiKey("other", otherSid, "c", masterKey, guid).Dispose();
            using var source = MachineSource.Open(image.Root);
            var failed = Assert.Single(KeyRecovery.Recover(source, RecoverySelection.All, domainKey: backupKey).Keys);
            Assert.False(failed.Recovered);
            Assert.Contains($"made for {Crypto.Dpapi.DomainKeyTests.DomainUserSid}, not {otherSid}", failed.Failure);
        }

        // Another domain's backup key.
        using (var image = new RecoveryImage(withHives: false))
        {
            const string sid = Crypto.Dpapi.DomainKeyTests.DomainUserSid;
            image.Put($@"Users\jdoe\AppData\Roaming\Microsoft\Protect\{sid}\{guid}", Fixtures.Bytes(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyFile));
            image.AddUserCapiKey("jdoe", sid, "c", masterKey, guid).Dispose();
            using var other = RSA.Create(2048);
            var otherKey = DomainBackupKey.Read(KeyDoctor.Crypto.KeySets.PvkFile.Write(
                new KeyDoctor.Crypto.KeySets.KeySetEntry(KeyDoctor.Crypto.KeySets.CapiKeyNumber.Exchange, other.ExportParameters(true))),
                "ntds_capi_0_11111111-2222-3333-4444-555555555555.pvk");
            using var source = MachineSource.Open(image.Root);
            var failed = Assert.Single(KeyRecovery.Recover(source, RecoverySelection.All, domainKey: otherKey).Keys);
            Assert.False(failed.Recovered);
            Assert.Contains("encrypted to backup key 45cbf2fb-b468-471a-a374-3ca17b50cf3b, not 11111111-2222-3333-4444-555555555555", failed.Failure);
        }
    }
}

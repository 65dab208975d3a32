using System.Text.Json;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Tests.Recovery;

namespace KeyDoctor.Tests.Crypto.Dpapi;

/// <summary>
/// The DPAPI inputs of the first fuzzing campaign (../shared/fixtures/fuzz-findings/dpapi, its README says what each
/// did): each is a typed <see cref="MalformedDataException"/> with the offset of the bad field in the library, and a
/// sentence naming the file, the offset and what to do through `keydoctor recover`.
/// </summary>
public sealed class DpapiFuzzFindingTests
{
    private const string Findings = "fuzz-findings/dpapi/";
    private const string WikiSid = "S-1-5-21-494464150-3436831043-1864828003-1001";
    private const string WikiMasterKey = "1eccdbd2-4771-4360-8b19-9d6060a061dc";
    private const string WikiKeyFile = "79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";

    [Fact]
    public void BackupKeyJsonWithInvalidUtf8IsMalformedDataAtTheBadByte()
    {
        var error = Assert.Throws<MalformedDataException>(() => DomainBackupKey.Read(Fixtures.Bytes(Findings + "backupkey-invalid-utf8.json")));
        Assert.Equal(8, error.Offset); // {"key":" is 8 bytes, then 0xFF
        Assert.Contains("not UTF-8", error.Reason);
    }

    [Fact]
    public void RecoverWithAnInvalidUtf8BackupKeyExitsTwoNamingTheFileOffsetAndWhatToDo()
    {
        var path = Fixtures.Path(Findings + "backupkey-invalid-utf8.json");
        using var image = new RecoveryImage(withHives: false);
        var run = Cli.Run("recover", image.Root, "--all", "-o", Path.Combine(image.Root, "out"), "--domain-backup-key", path);
        Assert.Equal(2, run.ExitCode);
        Assert.DoesNotContain("internal error", run.Stderr);
        Assert.Contains(path, run.Stderr);
        Assert.Contains("offset 0x8", run.Stderr);
        Assert.Contains("save it again as UTF-8, or give the .pvk file instead", run.Stderr);
    }

    [Fact]
    public void MasterKeyWithHashAlgorithmZeroIsMalformedDataAtTheAlgorithmField()
    {
        var file = MasterKeyFile.Parse(Fixtures.Bytes(Findings + "masterkey-hash-algorithm-0"));
        var error = Assert.Throws<MalformedDataException>(() => file.MasterKey!.Decrypt(DpapiPreKeys.FromPassword("waza1234/", WikiSid)));
        Assert.Equal(MasterKeyFile.HeaderLength + EncryptedMasterKey.HashAlgorithmOffset, error.Offset);
        Assert.Contains("hash algorithm 0x0000", error.Reason);
    }

    [Fact]
    public void MasterKeyAskingForTenMillionRoundsIsRefusedAtTheRoundsField()
    {
        var error = Assert.Throws<MalformedDataException>(() => MasterKeyFile.Parse(Fixtures.Bytes(Findings + "masterkey-rounds-10M")));
        Assert.Equal(MasterKeyFile.HeaderLength + EncryptedMasterKey.RoundsOffset, error.Offset);
        Assert.Contains("10,000,000", error.Reason);
        Assert.Contains($"{EncryptedMasterKey.MaxRounds:N0}", error.Reason);
    }

    [Fact]
    public void RealMasterKeysAreWithinTheRoundsCap()
    {
        foreach (var (file, rounds) in new[] { ("keys/mimikatz-wiki/" + WikiMasterKey, 3300), ("keys/nemesis/masterkey_system.bin", 8000),
                     ("keys/impacket/ea95eba8-ba00-4e1a-b43f-51ea30171d11", 17400), ("keys/nemesis/ab998260-e99d-4871-8f4b-d922b2848ce6", 18000) })
            Assert.Equal(rounds, MasterKeyFile.Parse(Fixtures.Bytes(file)).MasterKey!.Rounds);
    }

    [Theory]
    [InlineData("masterkey-hash-algorithm-0", "offset 0x98", "which DPAPI master keys do not use")]
    [InlineData("masterkey-rounds-10M", "offset 0x94", "is above the 100,000 KeyDoctor accepts")]
    public void RecoverReportsADamagedMasterKeyWithItsFileOffsetAndWhatToDo(string finding, string offset, string reason)
    {
        using var image = new RecoveryImage(withHives: false);
        var masterKeyPath = $@"Users\wiki\AppData\Roaming\Microsoft\Protect\{WikiSid}\{WikiMasterKey}";
        image.Put(masterKeyPath, Fixtures.Bytes(Findings + finding));
        image.Put($@"Users\wiki\AppData\Roaming\Microsoft\Crypto\RSA\{WikiSid}\{WikiKeyFile}", Fixtures.Bytes("keys/mimikatz-wiki/" + WikiKeyFile));
        var (failure, run) = RecoverOneFailure(image, "--user-sid", WikiSid, "--user-password-file", Secret(image, "waza1234/"));

        Assert.Contains(masterKeyPath, failure);
        Assert.Contains(offset, failure);
        Assert.Contains(reason, failure);
        Assert.Contains("use a backup copy", failure);
        Assert.Contains(failure, File.ReadAllText(Path.Combine(image.Root, "out", "recovery-report.txt")));
        Assert.Contains(masterKeyPath, run.Stdout);
        Assert.Contains(masterKeyPath, run.Stderr); // the closing sentence names the damaged master-key file
    }

    [Fact]
    public void PrivateKeyBlobWithAZeroPrimeIsMalformedDataNotADivisionByZero()
    {
        var error = Assert.Throws<MalformedDataException>(() => BcryptPrivateKeyBlob.Parse(Fixtures.Bytes(Findings + "privatekeyblob-divide-by-zero.bin")));
        Assert.Contains("primes do not multiply to the modulus", error.Reason);
    }

    [Fact]
    public void RecoverReportsADamagedDecryptedKeyAndWhatToDo()
    {
        using var image = new RecoveryImage();
        using var _ = image.AddCngEcKey("damaged", privateKeyBlob: Fixtures.Bytes(Findings + "privatekeyblob-divide-by-zero.bin")).Key;
        var (failure, _) = RecoverOneFailure(image);
        Assert.Contains("the private key decrypted but is damaged", failure);
        Assert.Contains("primes do not multiply to the modulus", failure);
        Assert.Contains("restore the key file from a backup, or import the certificate again from its PFX", failure);
    }

    /// <summary>
    /// Runs `recover --all --json`; one key fails because a file is damaged: the report still lists it, and the run ends
    /// as an input error (exit 2) with a sentence naming the damaged file, not an internal error.
    /// </summary>
    private static (string Failure, Cli.Result Run) RecoverOneFailure(RecoveryImage image, params string[] extra)
    {
        var output = Path.Combine(image.Root, "out");
        var json = Cli.Run(["recover", image.Root, "--all", "-o", output, "--password-file", Secret(image, "Pfx-Pass-1"), "--json", .. extra]);
        Assert.True(json.ExitCode == 2, json.Stderr + json.Stdout);
        Assert.Contains("needed for recovery are damaged", json.Stderr);
        Assert.Contains("restore them from a backup copy", json.Stderr);
        Assert.DoesNotContain("internal error", json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        var key = Assert.Single(document.RootElement.GetProperty("keys").EnumerateArray());
        Assert.False(key.GetProperty("recovered").GetBoolean());
        var failure = key.GetProperty("failure").GetString()!;
        Directory.Delete(output, recursive: true);
        var text = Cli.Run(["recover", image.Root, "--all", "-o", output, "--password-file", Secret(image, "Pfx-Pass-1"), .. extra]);
        Assert.Equal(2, text.ExitCode);
        Assert.Contains(failure, text.Stdout);
        return (failure, text);
    }

    private static string Secret(RecoveryImage image, string text)
    {
        var path = Path.Combine(image.Root, Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllText(path, text + "\n");
        return path;
    }
}

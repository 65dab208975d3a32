using System.Security.Cryptography;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Recovery;
using KeyDoctor.Tests.Recovery;

namespace KeyDoctor.Tests.Crypto.Dpapi;

/// <summary>
/// Domain users' pre-keys from the NT hash, on Nemesis' masterkey_domain.bin (user S-1-5-21-...-1103, password
/// "Qwerty12345"; the values are those the Nemesis suite asserts in test_core.py).
/// </summary>
public class NtHashPreKeyTests
{
    private const string Sid = "S-1-5-21-3821320868-1508310791-3575676346-1103";
    private const string Password = "Qwerty12345";
    private const string NtHashHex = "abd9ffb762c86b26ef4ce5c81b0dd37f";

    [Fact]
    public void NtHashAndTheThreePreKeysMatchThePublishedValues()
    {
        Assert.Equal(NtHashHex, Convert.ToHexStringLower(DpapiPreKeys.NtHash(Password)));
        var all = DpapiPreKeys.AllFromPassword(Password, Sid);
        Assert.Equal(3, all.Count);
        Assert.Equal("0a66b6fa245e40118aab0c9d71774bf540045f9c", Convert.ToHexStringLower(all[0])); // SHA-1 form
        Assert.Equal("44857a618c3d58f37823f016c2ff10a0d7b93ee7", Convert.ToHexStringLower(all[1])); // NT hash
        Assert.Equal("d3205d40d3df002fba1936ce075c0b2805fab06d", Convert.ToHexStringLower(all[2])); // stretched NT hash
        var fromHash = DpapiPreKeys.AllFromHash(Convert.FromHexString(NtHashHex), Sid);
        Assert.Equal([all[1], all[2]], fromHash);
        Assert.Throws<ArgumentException>(() => DpapiPreKeys.AllFromHash(new byte[17], Sid));
    }

    [Fact]
    public void DomainMasterKeyOpensWithTheStretchedNtHashOnly()
    {
        var file = MasterKeyFile.Parse(Fixtures.Bytes("keys/nemesis/masterkey_domain.bin"));
        var all = DpapiPreKeys.AllFromPassword(Password, Sid);
        Assert.Null(file.MasterKey!.Decrypt(all[0]));
        Assert.Null(file.MasterKey!.Decrypt(all[1]));
        var key = file.MasterKey!.Decrypt(all[2]);
        Assert.Equal(DomainKeyTests.NemesisDomainMasterKeyHex, Convert.ToHexStringLower(key!));
        Assert.Equal("17fd87f91d25a18abd9bcd66b6d9f3c6bfc16778", Convert.ToHexStringLower(SHA1.HashData(key!)));
        Assert.Null(file.MasterKey!.Decrypt(DpapiPreKeys.FromNtHashStretched(DpapiPreKeys.NtHash("Qwerty12346"), Sid)));

        // The chain to the real blobs, from the password alone.
        var blob = DpapiBlob.Parse(Fixtures.Bytes("keys/nemesis/blob_with_entropy.bin"));
        Assert.Equal(file.Guid, blob.MasterKeyGuid);
        Assert.Equal("test"u8.ToArray(), DpapiBlobDecryptor.Decrypt(blob, key!, [1, 2, 3, 4, 5]).Plaintext);
    }

    [Fact]
    public void DomainUserKeyRecoversWithPasswordOrNtHash()
    {
        var guid = Guid.Parse("ed93694f-5a6d-46e2-b821-219f2c0ecd4d");
        using var image = new RecoveryImage(withHives: false);
        image.Put($@"Users\alice\AppData\Roaming\Microsoft\Protect\{Sid}\{guid}", Fixtures.Bytes("keys/nemesis/masterkey_domain.bin"));
        using var rsa = image.AddUserCapiKey("alice", Sid, "alice-key", Convert.FromHexString(DomainKeyTests.NemesisDomainMasterKeyHex), guid);
        using var source = MachineSource.Open(image.Root);

        foreach (var credential in new[] { UserCredential.FromPassword(Sid, Password), UserCredential.FromHash(Sid, Convert.FromHexString(NtHashHex)) })
        {
            var key = Assert.Single(KeyRecovery.Recover(source, RecoverySelection.All, credential).Keys);
            Assert.True(key.Recovered, key.Failure);
            Assert.Equal("user password", key.MasterKeyOpenedWith);
            using var recovered = (RSA)key.Key!.CreateAlgorithm()!;
            Assert.Equal(rsa.ExportParameters(true).D, recovered.ExportParameters(true).D);
        }
        var wrong = Assert.Single(KeyRecovery.Recover(source, RecoverySelection.All, UserCredential.FromPassword(Sid, "qwerty12345")).Keys);
        Assert.Contains("the password does not open it", wrong.Failure);
    }
}

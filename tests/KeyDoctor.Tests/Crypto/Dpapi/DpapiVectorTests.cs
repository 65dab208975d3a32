using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Crypto;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Tests.Crypto.Dpapi;

/// <summary>Master keys and blobs from ../shared/fixtures/keys, against the values in VECTORS.md.</summary>
public class DpapiVectorTests
{
    private static readonly DpapiSystemSecret NemesisSystem = DpapiSystemSecret.FromHex(
        "01000000dcfd03644f501805c189e15e9367b01415dea75a4e25d96d26879ded571f5d48a6887455d28f66f5");

    private static readonly DpapiSystemSecret ImpacketSystem = DpapiSystemSecret.FromHex(
        "010000002bb2109db472825bfa7660fdbed62c981f08587b458dc597034d8801fc6fe3b342817caabb81a0cb");

    private const string WikiSid = "S-1-5-21-494464150-3436831043-1864828003-1001";
    private const string WikiKeyFile = "keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    private const string NemesisCngKey = "keys/nemesis/7096db7aeb75c0d3497ecd56d355a695_f26c165b-53c8-414e-8abb-ec5f0f52df22";

    private static MasterKeyFile Load(string relative) => MasterKeyFile.Parse(Fixtures.Bytes(relative));

    private static string Sha1Hex(byte[] data) => Convert.ToHexStringLower(SHA1.HashData(data));

    [Fact]
    public void MsPbkdf2AgreesWithRfc2898UpToTwoRoundsAndDiffersAfter()
    {
        var password = "pre-key"u8.ToArray();
        var salt = "salt-salt-salt-s"u8.ToArray();
        Assert.Equal(Rfc2898DeriveBytes.Pbkdf2(password, salt, 1, HashAlgorithmName.SHA512, 48),
                     MsPbkdf2.DeriveKey(password, salt, 1, HashAlgorithmName.SHA512, 48));
        Assert.Equal(Rfc2898DeriveBytes.Pbkdf2(password, salt, 2, HashAlgorithmName.SHA512, 48),
                     MsPbkdf2.DeriveKey(password, salt, 2, HashAlgorithmName.SHA512, 48));
        // From the third round on, DPAPI hashes the accumulator where RFC 2898 hashes the previous output.
        Assert.NotEqual(Rfc2898DeriveBytes.Pbkdf2(password, salt, 3, HashAlgorithmName.SHA512, 48),
                        MsPbkdf2.DeriveKey(password, salt, 3, HashAlgorithmName.SHA512, 48));
    }

    [Fact]
    public void NemesisSystemMasterKeyOpensWithTheMachineHalfOnly()
    {
        var file = Load("keys/nemesis/masterkey_system.bin");
        Assert.Equal(Guid.Parse("dd26f81a-4ed9-49fd-8b45-42723d8ae006"), file.Guid);
        Assert.Null(file.MasterKey!.Decrypt(NemesisSystem.UserKey));
        var key = file.MasterKey!.Decrypt(NemesisSystem.MachineKey);
        Assert.NotNull(key);
        Assert.Equal("b848ddc68f5250e5977bc52fd9671811ba3bc3b1", Sha1Hex(key));
    }

    [Fact]
    public void NemesisUserMasterKeyOpensWithTheUserHalf()
    {
        var key = Load("keys/nemesis/fb1190c1-123d-45f8-95f4-32aee28fe2eb").MasterKey!.Decrypt(NemesisSystem.UserKey);
        Assert.Equal("8a6f191d551750fa51324a6b8f3afc7086658888", Sha1Hex(key!));
    }

    [Fact]
    public void ImpacketSystemMasterKeyOpensWithTheUserHalf()
    {
        var key = Load("keys/impacket/ea95eba8-ba00-4e1a-b43f-51ea30171d11").MasterKey!.Decrypt(ImpacketSystem.UserKey);
        Assert.Equal("682a9b8923ff4ca7ce0ef7e4cee061f0ff942cd31c7703ec60792740b2e7d0b1" +
                     "b5115d1ff77e10b77e189e0d6e99d5b668190ecd44fa84e82e049f406e2c2a59", Convert.ToHexStringLower(key!));
    }

    [Fact]
    public void WikiUserMasterKeyOpensWithPasswordAndSid()
    {
        var file = Load("keys/mimikatz-wiki/1eccdbd2-4771-4360-8b19-9d6060a061dc");
        Assert.Null(file.MasterKey!.Decrypt(DpapiPreKeys.FromPassword("wrong", WikiSid)));
        var key = file.MasterKey!.Decrypt(DpapiPreKeys.FromPassword("waza1234/", WikiSid));
        Assert.Equal("d3fb9169447509d9a2d3d4f6fc0e84b4733a676add274094f91452b8fe4984ab" +
                     "8fe02326c8be8931122514b90f8d850205bb1a84db54fc72d1cffb521377bafc", Convert.ToHexStringLower(key!));
        var viaHash = file.MasterKey!.Decrypt(DpapiPreKeys.FromPasswordHash(SHA1.HashData(Encoding.Unicode.GetBytes("waza1234/")), WikiSid));
        Assert.Equal(key, viaHash);
    }

    [Fact]
    public void WikiCapiKeyBlobsDecrypt()
    {
        var masterKey = Convert.FromHexString(
            "d3fb9169447509d9a2d3d4f6fc0e84b4733a676add274094f91452b8fe4984ab8fe02326c8be8931122514b90f8d850205bb1a84db54fc72d1cffb521377bafc");
        var blobs = BlobsIn(Fixtures.Bytes(WikiKeyFile));
        Assert.Equal(2, blobs.Count);
        var results = blobs.Select(b => (Plain: DpapiBlobDecryptor.Decrypt(b, masterKey),
                                         WithEntropy: DpapiBlobDecryptor.Decrypt(b, masterKey, Encoding.ASCII.GetBytes("Hj1diQ6kpUx7VC4m\0")))).ToList();

        var privateKey = Assert.Single(results, r => r.Plain.Success).Plain.Plaintext!;
        Assert.Equal(1348, privateKey.Length);
        Assert.StartsWith("525341320801000000080000ff00000001000100", Convert.ToHexStringLower(privateKey));

        var exportFlag = Assert.Single(results, r => r.WithEntropy.Success).WithEntropy.Plaintext!;
        Assert.Equal("01000000", Convert.ToHexStringLower(exportFlag));
    }

    [Fact]
    public void NemesisCngKeyBlobsDecryptWithTheirEntropy()
    {
        var masterKey = Load("keys/nemesis/fb1190c1-123d-45f8-95f4-32aee28fe2eb").MasterKey!.Decrypt(NemesisSystem.UserKey)!;
        var blobs = BlobsIn(Fixtures.Bytes(NemesisCngKey));
        var properties = blobs.Select(b => DpapiBlobDecryptor.Decrypt(b, masterKey, Encoding.ASCII.GetBytes("6jnkd5J3ZdQDtrsu\0")))
            .Single(r => r.Success);
        Assert.Equal("3200000003000000000000001a000000040000004500780070006f0072007400200050006f006c00690063007900" +
                     "00000000180000000700000000000000000000000400000000010000", Convert.ToHexStringLower(properties.Plaintext!));
        var privateKey = blobs.Select(b => DpapiBlobDecryptor.Decrypt(b, masterKey, Encoding.ASCII.GetBytes("xT5rZW5qVVbrvpuA\0")))
            .Single(r => r.Success);
        Assert.Equal("4b44424d0100000020000000442ad62f22c9bc1bf2c9a67a4cfc5ac0d3b660b4e431f6b2232c8a730fbc1e21",
                     Convert.ToHexStringLower(privateKey.Plaintext!));
    }

    [Fact]
    public void WrongMasterKeyIsReportedNotThrown()
    {
        var blob = BlobsIn(Fixtures.Bytes(WikiKeyFile))[0];
        var result = DpapiBlobDecryptor.Decrypt(blob, new byte[64]);
        Assert.False(result.Success);
        Assert.Contains("signature does not match", result.Failure);
        Assert.DoesNotContain("secret", result.Failure);
    }

    [Fact]
    public void DpapiSystemOfTheWrongLengthOrVersionIsRejected()
    {
        Assert.Throws<KeyDoctor.Formats.MalformedDataException>(() => DpapiSystemSecret.Parse(new byte[40]));
        var wrongVersion = new byte[44];
        wrongVersion[0] = 2;
        Assert.Throws<KeyDoctor.Formats.MalformedDataException>(() => DpapiSystemSecret.Parse(wrongVersion));
        Assert.Equal("DPAPI_SYSTEM (secret)", NemesisSystem.ToString());
    }

    /// <summary>Every DPAPI blob inside a key file, found by its header (the key-file reader is tested elsewhere).</summary>
    private static List<DpapiBlob> BlobsIn(byte[] file)
    {
        var blobs = new List<DpapiBlob>();
        for (var i = 0; i + 20 <= file.Length; i++)
        {
            if (!DpapiBlob.StartsWithBlobHeader(file.AsSpan(i))) continue;
            blobs.Add(DpapiBlob.ParsePrefix(file.AsMemory(i), i, out var used));
            i += used - 1;
        }
        return blobs;
    }
}

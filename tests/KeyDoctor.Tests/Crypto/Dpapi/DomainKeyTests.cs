using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Crypto;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Tests.Crypto.Dpapi;

/// <summary>
/// The domain backup key and the domain-key section of master keys, on Nemesis' older-format set
/// (keys/nemesis: old_backupkey.json, ab998260-..., dpapi_blob.bin) and its newer blobs.
/// </summary>
public class DomainKeyTests
{
    public const string OldBackupKeyJson = "keys/nemesis/old_backupkey.json";
    public const string DomainMasterKeyFile = "keys/nemesis/ab998260-e99d-4871-8f4b-d922b2848ce6";
    public static readonly Guid OldBackupKeyGuid = Guid.Parse("45cbf2fb-b468-471a-a374-3ca17b50cf3b");

    /// <summary>What ab998260's domain section holds; impacket's `dpapi.py masterkey -pvk` prints the same (see the comparison test).</summary>
    public const string DomainMasterKeyHex =
        "5481855be27d3e1d59384ff7d41ea170ef77137cf92b71313a46657ab8544d51da470f85bc4339e98ca02c9ead990784c108aaac3b8485f7a767e1b6e37f92ef";

    /// <summary>The user the access check names (its 28-byte binary SID decoded).</summary>
    public const string DomainUserSid = "S-1-5-21-937929760-3187473010-80948926-2115";

    /// <summary>
    /// The plaintext master key of masterkey_domain.bin (ed93694f-...), published in the Nemesis test suite
    /// (libs/nemesis_dpapi/tests/test_core.py, SHA-1 17fd87f9...). Its backup key is not among our fixtures.
    /// </summary>
    public const string NemesisDomainMasterKeyHex =
        "36bd60cb9e7e52433169db00e93ed0a82d3c30c65d948bd8596fb32c267671020b02026b0ae03479dd18374adbdd7658f45cce6ed2a45319eff7a96c411c85f5";

    public static byte[] OldBackupKeyPvk() =>
        Convert.FromBase64String(JsonDocument.Parse(Fixtures.Bytes(OldBackupKeyJson)).RootElement.GetProperty("domain_backupkey_b64").GetString()!);

    private static DomainBackupKey OldBackupKey() => DomainBackupKey.Read(Fixtures.Bytes(OldBackupKeyJson));

    private static MasterKeyFile Load(string relative) => MasterKeyFile.Parse(Fixtures.Bytes(relative));

    [Fact]
    public void OldBackupKeyJsonIsA2048BitPvkWithItsGuid()
    {
        var pvk = OldBackupKeyPvk();
        Assert.Equal(1196, pvk.Length);
        Assert.Equal(PvkFile.Magic, BinaryPrimitives.ReadUInt32LittleEndian(pvk));
        var key = OldBackupKey();
        Assert.Equal(OldBackupKeyGuid, key.Guid);
        Assert.Equal(2048, key.KeySizeBits);
        Assert.DoesNotContain("5481855b", key.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(CapiKeyNumber.Exchange, PvkFile.Read(pvk).KeyNumber);
    }

    [Fact]
    public void PvkFileTakesItsGuidFromTheMimikatzFileNameAndBase64TextHasNone()
    {
        var pvk = OldBackupKeyPvk();
        var named = DomainBackupKey.Read(pvk, "/evidence/ntds_capi_0_45cbf2fb-b468-471a-a374-3ca17b50cf3b.pvk");
        Assert.Equal(OldBackupKeyGuid, named.Guid);
        var bare = DomainBackupKey.Read(pvk, "backup.pvk");
        Assert.Null(bare.Guid);
        var text = DomainBackupKey.Read(Encoding.ASCII.GetBytes(Convert.ToBase64String(pvk, Base64FormattingOptions.InsertLineBreaks) + "\r\n"));
        Assert.Null(text.Guid);
        // All three forms open the same master key.
        var section = Load(DomainMasterKeyFile).ReadDomainKey()!;
        foreach (var key in new[] { named, bare, text })
            Assert.Equal(DomainMasterKeyHex, Convert.ToHexStringLower(section.Decrypt(key).MasterKey!));
    }

    [Fact]
    public void DomainMasterKeyFileOpensWithTheDomainBackupKey()
    {
        var file = Load(DomainMasterKeyFile);
        Assert.Equal(Guid.Parse("ab998260-e99d-4871-8f4b-d922b2848ce6"), file.Guid);
        Assert.Equal(0u, file.Flags); // no SHA-1 pre-key bit: a domain account
        Assert.Equal(372, file.DomainKey.Length);
        var section = file.ReadDomainKey()!;
        Assert.Equal(2u, section.Version);
        Assert.Equal(OldBackupKeyGuid, section.BackupKeyGuid);
        Assert.Equal(256, section.Secret.Length);
        Assert.Equal(88, section.AccessCheck.Length);

        var opened = section.Decrypt(OldBackupKey());
        Assert.True(opened.Success, opened.ToString());
        Assert.Equal(DomainKeyFailure.None, opened.Failure);
        Assert.Equal(DomainMasterKeyHex, Convert.ToHexStringLower(opened.MasterKey!));
        Assert.Equal("d72cdafcae1fd11293488841cfd2fb062e9e4331", Convert.ToHexStringLower(SHA1.HashData(opened.MasterKey!)));
        Assert.Equal(DomainUserSid, opened.Sid);
        Assert.DoesNotContain("5481855b", opened.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void OldFormatSha1BlobIsSignedWithTheLegacyHmacAndDecryptsToThisIsATest()
    {
        var blob = DpapiBlob.Parse(Fixtures.Bytes("keys/nemesis/dpapi_blob.bin"));
        Assert.Equal(Guid.Parse("ab998260-e99d-4871-8f4b-d922b2848ce6"), blob.MasterKeyGuid);
        Assert.Equal(CryptoAlgorithms.Calg3Des, blob.CryptAlgorithm);
        Assert.Equal(CryptoAlgorithms.CalgSha1, blob.HashAlgorithm);
        var masterKey = Load(DomainMasterKeyFile).ReadDomainKey()!.Decrypt(OldBackupKey()).MasterKey!;

        // The real signature is the legacy form H(opad || H(ipad || HMAC salt) || signed data), even without entropy;
        // the RFC 2104 HMAC over the same bytes is different.
        var keyHash = SHA1.HashData(masterKey);
        Assert.Equal("b3675573ae40845dd207b1391baaf6b99dd0f19b", Convert.ToHexStringLower(blob.Signature.Span));
        Assert.Equal(blob.Signature.ToArray(),
            DpapiBlobDecryptor.Mac(HashAlgorithmName.SHA1, keyHash, blob.HmacSalt.Span, [], blob.SignedBytes(), legacy: true));
        Assert.Equal("2296144c43d61904fc394967e94270f52a03da08", Convert.ToHexStringLower(
            DpapiBlobDecryptor.Mac(HashAlgorithmName.SHA1, keyHash, blob.HmacSalt.Span, [], blob.SignedBytes(), legacy: false)));

        var result = DpapiBlobDecryptor.Decrypt(blob, masterKey);
        Assert.True(result.Success, result.Failure);
        Assert.Equal("This is a test."u8.ToArray(), result.Plaintext);
        Assert.True(result.UsedLegacyHmac);

        // With entropy it was not made with, both HMAC forms fail: a typed failure, not garbage.
        var withEntropy = DpapiBlobDecryptor.Decrypt(blob, masterKey, "entropy"u8);
        Assert.False(withEntropy.Success);
        Assert.Contains("signature does not match", withEntropy.Failure);
        // And the other real master key does not open it.
        Assert.False(DpapiBlobDecryptor.Decrypt(blob, Convert.FromHexString(NemesisDomainMasterKeyHex)).Success);
    }

    [Fact]
    public void NemesisSha512BlobsDecryptToTestWithAndOnlyWithTheirEntropy()
    {
        var masterKey = Convert.FromHexString(NemesisDomainMasterKeyHex);
        Assert.Equal(Load("keys/nemesis/masterkey_domain.bin").Guid,
            DpapiBlob.Parse(Fixtures.Bytes("keys/nemesis/blob_with_entropy.bin")).MasterKeyGuid);
        var withEntropy = DpapiBlob.Parse(Fixtures.Bytes("keys/nemesis/blob_with_entropy.bin"));
        Assert.Equal(CryptoAlgorithms.CalgSha512, withEntropy.HashAlgorithm);

        // Entropy 01 02 03 04 05, as the Nemesis suite passes it (test_core.py test_decrypt_blob_with_entropy).
        var opened = DpapiBlobDecryptor.Decrypt(withEntropy, masterKey, [1, 2, 3, 4, 5]);
        Assert.True(opened.Success, opened.Failure);
        Assert.Equal("test"u8.ToArray(), opened.Plaintext);
        Assert.False(opened.UsedLegacyHmac); // SHA-512 blobs use the RFC HMAC with entropy
        Assert.False(DpapiBlobDecryptor.Decrypt(withEntropy, masterKey).Success);
        Assert.False(DpapiBlobDecryptor.Decrypt(withEntropy, masterKey, [1, 2, 3, 4]).Success);

        var without = DpapiBlobDecryptor.Decrypt(DpapiBlob.Parse(Fixtures.Bytes("keys/nemesis/blob_without_entropy.bin")), masterKey);
        Assert.True(without.Success, without.Failure);
        Assert.Equal("test"u8.ToArray(), without.Plaintext);
    }

    [Fact]
    public void NewerDomainMasterKeyIsVersion3AndTheOldBackupKeyIsRefusedByGuid()
    {
        var section = Load("keys/nemesis/masterkey_domain.bin").ReadDomainKey()!;
        Assert.Equal(3u, section.Version);
        Assert.Equal(Guid.Parse("7efa51b1-2523-45bf-acba-2e15ecf4f1e7"), section.BackupKeyGuid);
        Assert.Equal(256, section.Secret.Length);
        Assert.Equal(144, section.AccessCheck.Length);

        var byGuid = section.Decrypt(OldBackupKey());
        Assert.False(byGuid.Success);
        Assert.Equal(DomainKeyFailure.OtherBackupKey, byGuid.Failure);

        // Without a GUID to compare, RSA itself refuses (or, with an implicit-rejection RSA, the structure does).
        var noGuid = section.Decrypt(DomainBackupKey.Read(OldBackupKeyPvk()));
        Assert.False(noGuid.Success);
        Assert.Null(noGuid.MasterKey);
        Assert.Contains(noGuid.Failure, new[] { DomainKeyFailure.WrongKey, DomainKeyFailure.MalformedSecret });
    }

    [Fact]
    public void AnotherRsaKeyIsAWrongKeyAndALocalMasterKeyHasNoDomainSection()
    {
        using var other = RSA.Create(2048);
        var pvk = PvkFile.Write(new KeySetEntry(CapiKeyNumber.Exchange, other.ExportParameters(true)));
        var result = Load(DomainMasterKeyFile).ReadDomainKey()!.Decrypt(DomainBackupKey.Read(pvk));
        Assert.False(result.Success);
        Assert.Contains(result.Failure, new[] { DomainKeyFailure.WrongKey, DomainKeyFailure.MalformedSecret });

        using var small = RSA.Create(1024);
        var smallKey = DomainBackupKey.Read(PvkFile.Write(new KeySetEntry(CapiKeyNumber.Exchange, small.ExportParameters(true))));
        Assert.Equal(DomainKeyFailure.KeySizeMismatch, Load(DomainMasterKeyFile).ReadDomainKey()!.Decrypt(smallKey).Failure);

        Assert.Null(Load("keys/nemesis/masterkey_local.bin").ReadDomainKey());
    }

    [Fact]
    public void Version3SectionBuiltPerTheLayoutOpensAndChecksItsSid()
    {
        using var rsa = RSA.Create(2048);
        var key = DomainBackupKey.Read(PvkFile.Write(new KeySetEntry(CapiKeyNumber.Exchange, rsa.ExportParameters(true))));
        var masterKey = RandomNumberGenerator.GetBytes(64);
        var section = DomainKeySection.Parse(DomainSectionWriter.Write(3, rsa, Guid.NewGuid(), masterKey, DomainUserSid));
        var opened = section.Decrypt(key);
        Assert.True(opened.Success, opened.ToString());
        Assert.Equal(masterKey, opened.MasterKey);
        Assert.Equal(DomainUserSid, opened.Sid);

        // One flipped access-check byte breaks the SHA-512 over it.
        var bytes = DomainSectionWriter.Write(3, rsa, Guid.NewGuid(), masterKey, DomainUserSid);
        bytes[^70] ^= 1;
        Assert.Equal(DomainKeyFailure.AccessCheckMismatch, DomainKeySection.Parse(bytes).Decrypt(key).Failure);
        Assert.Equal(DomainKeyFailure.UnsupportedVersion,
            DomainKeySection.Parse(DomainSectionWriter.Write(4, rsa, Guid.NewGuid(), masterKey, DomainUserSid)).Decrypt(key).Failure);
    }

    [Fact]
    public void TruncatedOrFlippedDomainSectionsAreTypedFailuresNeverAWrongKey()
    {
        var file = Load(DomainMasterKeyFile);
        var data = file.DomainKey.ToArray();
        var key = OldBackupKey();
        for (var length = 0; length < data.Length; length++)
        {
            var ex = Record.Exception(() => DomainKeySection.Parse(data[..length], file.DomainKeyOffset));
            var malformed = Assert.IsType<MalformedDataException>(ex);
            Assert.InRange(malformed.Offset, file.DomainKeyOffset, file.DomainKeyOffset + data.Length);
        }
        for (var i = 0; i < data.Length; i++)
        {
            var flipped = (byte[])data.Clone();
            flipped[i] ^= 0x01;
            DomainKeySection section;
            try { section = DomainKeySection.Parse(flipped); }
            catch (MalformedDataException) { continue; }
            var result = section.Decrypt(key);
            // Every byte is checked: the version, the GUID, RSA padding, the lengths inside, the access-check hash.
            Assert.False(result.Success, $"a flip at {i} still opened the section");
            Assert.NotEqual(DomainKeyFailure.None, result.Failure);
        }
    }

    [Fact]
    public void DamagedBackupKeyFilesAreMalformedDataWithAnOffset()
    {
        var pvk = OldBackupKeyPvk();
        for (var length = 0; length < pvk.Length; length += 7)
            Assert.IsType<MalformedDataException>(Record.Exception(() => DomainBackupKey.Read(pvk[..length])));
        foreach (var bad in new[] { "{}", "{\"key\": 5}", "{\"domain_backupkey_b64\": \"!!!\"}", "{\"key\": \"QUJD\"}", "[1,2]", "{", "not base64 at all", "   " })
            Assert.IsType<MalformedDataException>(Record.Exception(() => DomainBackupKey.Read(Encoding.UTF8.GetBytes(bad))));
        var badGuid = $"{{\"key\": \"{Convert.ToBase64String(pvk)}\", \"backup_key_guid\": \"nope\"}}";
        Assert.IsType<MalformedDataException>(Record.Exception(() => DomainBackupKey.Read(Encoding.UTF8.GetBytes(badGuid))));
        Assert.IsType<MalformedDataException>(Record.Exception(() => DomainBackupKey.Read(new byte[DomainBackupKey.MaxFileLength + 1])));

        // Flipped header bytes: refused as malformed, or read; what is read never opens the section with a wrong key.
        var section = Load(DomainMasterKeyFile).ReadDomainKey()!;
        var expected = Convert.FromHexString(DomainMasterKeyHex);
        for (var i = 0; i < 44; i++)
        {
            var flipped = (byte[])pvk.Clone();
            flipped[i] ^= 0x10;
            DomainBackupKey key;
            try { key = DomainBackupKey.Read(flipped); }
            catch (MalformedDataException) { continue; }
            var result = section.Decrypt(key);
            if (result.Success) Assert.Equal(expected, result.MasterKey);
        }
    }
}

/// <summary>
/// Writes a domain-key section the way the layout says (tests only): PKCS#1 v1.5 to <paramref name="rsa"/>,
/// little-endian, and an access check of version 1, a 32-byte nonce, the SID, filler and the hash.
/// </summary>
internal static class DomainSectionWriter
{
    public static byte[] Write(uint version, RSA rsa, Guid guid, byte[] masterKey, string sid)
    {
        var (crypt, hash, keyLength, blockLength) = version == 2
            ? (CryptoAlgorithms.Calg3Des, HashAlgorithmName.SHA1, 24, 8)
            : (CryptoAlgorithms.CalgAes256, HashAlgorithmName.SHA512, 32, 16);
        var supp = RandomNumberGenerator.GetBytes(keyLength + blockLength);
        byte[] secretPlain = version == 2
            ? [.. U32(64), .. U32((uint)supp.Length), .. masterKey, .. supp]
            : [.. U32(64), .. U32((uint)supp.Length), .. U32(crypt), .. U32(0x800E), .. masterKey, .. supp];
        var secret = rsa.Encrypt(secretPlain, RSAEncryptionPadding.Pkcs1);
        Array.Reverse(secret);

        byte[] body = [.. U32(1), .. U32(32), .. RandomNumberGenerator.GetBytes(32), .. SidBytes(sid)];
        var hashLength = hash == HashAlgorithmName.SHA1 ? 20 : 64;
        var total = (body.Length + hashLength + blockLength - 1) / blockLength * blockLength;
        body = [.. body, .. new byte[total - hashLength - body.Length]];
        byte[] check = [.. body, .. (hash == HashAlgorithmName.SHA1 ? SHA1.HashData(body) : SHA512.HashData(body))];
        var accessCheck = CryptoAlgorithms.EncryptCbc(crypt, supp.AsSpan(0, keyLength), supp.AsSpan(keyLength), check);

        return [.. U32(version), .. U32((uint)secret.Length), .. U32((uint)accessCheck.Length), .. guid.ToByteArray(), .. secret, .. accessCheck];
    }

    private static byte[] U32(uint value) => BitConverter.GetBytes(value);

    private static byte[] SidBytes(string sid)
    {
        var parts = sid.Split('-');
        var subs = parts[3..].Select(uint.Parse).ToArray();
        var bytes = new byte[8 + 4 * subs.Length];
        bytes[0] = 1;
        bytes[1] = (byte)subs.Length;
        bytes[7] = byte.Parse(parts[2]);
        for (var i = 0; i < subs.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8 + 4 * i), subs[i]);
        return bytes;
    }
}

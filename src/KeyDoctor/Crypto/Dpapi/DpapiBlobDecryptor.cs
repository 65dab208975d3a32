using System.Security.Cryptography;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Crypto.Dpapi;

/// <summary>The outcome of opening a DPAPI blob: the plaintext, or why it did not open.</summary>
public sealed record DpapiDecryption
{
    public bool Success => Plaintext is not null;

    /// <summary>The secret. Callers must never print it.</summary>
    public byte[]? Plaintext { get; init; }

    public string? Failure { get; init; }

    /// <summary>
    /// True when the blob opened with the legacy (non-RFC) HMAC that Windows uses for SHA-1 blobs: for the signature
    /// always, for the session key when there is entropy.
    /// </summary>
    public bool UsedLegacyHmac { get; init; }

    public override string ToString() => Success ? "decrypted (secret)" : $"not decrypted: {Failure}";
}

/// <summary>
/// Opens a DPAPI blob with its 64-byte master key (and the caller's entropy), as CryptUnprotectData does:
/// session key = HMAC(SHA1(master key), salt || entropy), expanded CryptDeriveKey-style when the cipher needs
/// more bytes than the hash gives, CBC with a zero IV, then the signature checked over the signed range.
/// SHA-1 blobs (3DES, Windows XP-era and domain-user blobs) use a legacy HMAC that hashes only the first part in
/// the inner hash and everything after it (entropy, signed data) in the outer one: their signature never matches
/// the RFC 2104 form, with or without entropy (the real Nemesis dpapi_blob.bin shows it), and their session key
/// differs from it when there is entropy. The legacy form is tried first for SHA-1, then the RFC form (what other
/// writers produce); the signature decides, before anything is decrypted.
/// </summary>
public static class DpapiBlobDecryptor
{
    public static DpapiDecryption Decrypt(DpapiBlob blob, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> entropy = default)
    {
        var hash = CryptoAlgorithms.Hash(blob.HashAlgorithm);
        var cipher = CryptoAlgorithms.Cipher(blob.CryptAlgorithm);
        if (hash is null) return Failed($"hash algorithm 0x{blob.HashAlgorithm:X4} is not supported");
        if (cipher is null) return Failed($"cipher 0x{blob.CryptAlgorithm:X4} is not supported");
        if (blob.CipherText.Length == 0 || blob.CipherText.Length % cipher.Value.BlockLength != 0)
            return Failed($"cipher text length {blob.CipherText.Length} is not a whole number of blocks");

        var keyHash = SHA1.HashData(masterKey);
        var signed = blob.SignedBytes();
        foreach (var legacy in hash.Value == HashAlgorithmName.SHA1 ? new[] { true, false } : [false])
        {
            var signature = Mac(hash.Value, keyHash, blob.HmacSalt.Span, entropy, signed, legacy);
            if (!CryptographicOperations.FixedTimeEquals(signature, blob.Signature.Span)) continue;
            var sessionKey = Mac(hash.Value, keyHash, blob.Salt.Span, entropy, [], legacy);
            var key = ExpandKey(hash.Value, sessionKey, cipher.Value.KeyLength);
            var padded = CryptoAlgorithms.DecryptCbc(blob.CryptAlgorithm, key,
                new byte[cipher.Value.BlockLength], blob.CipherText.Span);
            var plain = RemovePkcs7(padded, cipher.Value.BlockLength);
            return plain is null
                ? Failed("the signature matches but the padding does not")
                : new DpapiDecryption { Plaintext = plain, UsedLegacyHmac = legacy };
        }
        return Failed("the signature does not match: wrong master key or entropy");
    }

    /// <summary>
    /// HMAC(key, first || entropy || rest), or in the legacy form H(opad || H(ipad || first) || entropy || rest).
    /// </summary>
    internal static byte[] Mac(HashAlgorithmName hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> first,
                               ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> rest, bool legacy)
    {
        if (!legacy)
        {
            using var hmac = IncrementalHash.CreateHMAC(hash, key);
            hmac.AppendData(first);
            hmac.AppendData(entropy);
            hmac.AppendData(rest);
            return hmac.GetHashAndReset();
        }
        var (ipad, opad) = HmacPads(hash, key);
        using var inner = IncrementalHash.CreateHash(hash);
        inner.AppendData(ipad);
        inner.AppendData(first);
        using var outer = IncrementalHash.CreateHash(hash);
        outer.AppendData(opad);
        outer.AppendData(inner.GetHashAndReset());
        outer.AppendData(entropy);
        outer.AppendData(rest);
        return outer.GetHashAndReset();
    }

    /// <summary>
    /// CryptDeriveKey's expansion when the hash is shorter than the key: H(ipad ^ k) || H(opad ^ k) over the
    /// zero-padded hash, truncated to the key length.
    /// </summary>
    internal static byte[] ExpandKey(HashAlgorithmName hash, byte[] sessionKey, int keyLength)
    {
        if (sessionKey.Length >= keyLength) return sessionKey[..keyLength];
        var (ipad, opad) = HmacPads(hash, sessionKey);
        using var h = IncrementalHash.CreateHash(hash);
        h.AppendData(ipad);
        var first = h.GetHashAndReset();
        h.AppendData(opad);
        var second = h.GetHashAndReset();
        return first.Concat(second).Take(keyLength).ToArray();
    }

    /// <summary>The key zero-padded to the hash's block size, XORed with HMAC's inner (0x36) and outer (0x5C) pads.</summary>
    private static (byte[] Inner, byte[] Outer) HmacPads(HashAlgorithmName hash, ReadOnlySpan<byte> key)
    {
        var blockSize = CryptoAlgorithms.HashBlockSize(hash);
        var inner = new byte[blockSize];
        var outer = new byte[blockSize];
        for (var i = 0; i < blockSize; i++)
        {
            var k = i < key.Length ? key[i] : (byte)0;
            inner[i] = (byte)(k ^ 0x36);
            outer[i] = (byte)(k ^ 0x5C);
        }
        return (inner, outer);
    }

    private static byte[]? RemovePkcs7(byte[] padded, int blockLength)
    {
        if (padded.Length == 0) return null;
        var pad = padded[^1];
        if (pad == 0 || pad > blockLength || pad > padded.Length) return null;
        for (var i = padded.Length - pad; i < padded.Length; i++)
            if (padded[i] != pad) return null;
        return padded[..^pad];
    }

    private static DpapiDecryption Failed(string reason) => new() { Failure = reason };
}

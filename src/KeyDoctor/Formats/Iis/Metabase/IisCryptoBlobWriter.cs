using KeyDoctor.Crypto;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KeyDoctor.Formats.Iis.Metabase;

/// <summary>
/// Writes IIS_CRYPTO_BLOBs as MS-IMSA 2.2.2 lays them out, so tests (and later a repair that re-keys a metabase)
/// can build them from keys they hold. RSA output is stored in CryptoAPI's little-endian byte order; signatures
/// are PKCS#1 v1.5 over MD5 (MS-IMSA 3.1.4.1.4). The RC4 key is used exactly as given: the CryptoAPI salting of a
/// 40-bit session key is applied by <see cref="KeyDoctor.Crypto.MetabaseCrypto.Rc4Key"/> (docs/formats/iis-crypto-blob.md).
/// </summary>
public static class IisCryptoBlobWriter
{
    /// <summary>
    /// A session-key blob ("IcKb"): <paramref name="sessionKey"/> as a SIMPLEBLOB wrapped with
    /// <paramref name="exchangeKey"/>, signed with <paramref name="signatureKey"/>.
    /// </summary>
    public static byte[] SessionKey(ReadOnlySpan<byte> sessionKey, RSA exchangeKey, RSA signatureKey,
        uint keyAlgorithm = CapiAlgorithm.Rc4)
    {
        var wrapped = exchangeKey.Encrypt(sessionKey.ToArray(), RSAEncryptionPadding.Pkcs1);
        Array.Reverse(wrapped);
        var simple = new byte[CapiSimpleBlob.HeaderLength + wrapped.Length];
        simple[0] = CapiSimpleBlob.SimpleBlobType;
        simple[1] = CapiSimpleBlob.CurrentVersion;
        BinaryPrimitives.WriteUInt32LittleEndian(simple.AsSpan(4), keyAlgorithm);
        BinaryPrimitives.WriteUInt32LittleEndian(simple.AsSpan(8), CapiAlgorithm.RsaKeyExchange);
        wrapped.CopyTo(simple, CapiSimpleBlob.HeaderLength);
        return SignedBlob(IisCryptoBlob.SessionKeySignature, simple, Sign(simple, signatureKey));
    }

    /// <summary>
    /// An encrypted-data blob ("IcDb"): <c>Reserved(4)=0 ‖ cleartext</c>, RC4-encrypted with
    /// <paramref name="rc4Key"/>, with the signed MD5 of that prefixed clear text.
    /// </summary>
    public static byte[] EncryptedData(ReadOnlySpan<byte> cleartext, ReadOnlySpan<byte> rc4Key, RSA signatureKey)
    {
        var prefixed = new byte[4 + cleartext.Length];
        cleartext.CopyTo(prefixed.AsSpan(4));
        return EncryptedDataWithPrefix(prefixed, rc4Key, signatureKey);
    }

    /// <summary>
    /// An encrypted-data blob over a CLEARTEXT_WITH_PREFIX_BLOB given whole (Reserved included), so a rekey keeps
    /// the prefix a file was written with even where it is not the zero MS-IMSA asks for.
    /// </summary>
    public static byte[] EncryptedDataWithPrefix(ReadOnlySpan<byte> prefixedCleartext, ReadOnlySpan<byte> rc4Key, RSA signatureKey)
    {
        if (prefixedCleartext.Length < 4) throw new ArgumentException("the clear text needs its 4-byte Reserved prefix", nameof(prefixedCleartext));
        var data = prefixedCleartext.ToArray();
        var signature = Sign(data, signatureKey);
        Rc4.Apply(rc4Key, data);
        return SignedBlob(IisCryptoBlob.EncryptedDataSignature, data, signature);
    }

    /// <summary>
    /// A password-salted data blob ("IcSb", research notes §1.5): <c>DataLength SaltLength Data pad8 Salt</c>,
    /// no signature. <paramref name="rc4Key"/> is the key already derived from salt and password.
    /// </summary>
    public static byte[] SaltedData(ReadOnlySpan<byte> prefixedCleartext, ReadOnlySpan<byte> rc4Key, ReadOnlySpan<byte> salt)
    {
        var data = prefixedCleartext.ToArray();
        Rc4.Apply(rc4Key, data);
        return SignedBlob(IisCryptoBlob.SaltedDataSignature, data, salt.ToArray());
    }

    /// <summary>A public-key blob ("IcPb") for <paramref name="key"/>, as exchange or signature key.</summary>
    public static byte[] PublicKey(RSA key, bool signatureKey)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        var modulus = parameters.Modulus!;
        uint exponent = 0;
        foreach (var b in parameters.Exponent!) exponent = exponent << 8 | b;
        var blob = new byte[IisCryptoBlob.HeaderLength + 8 + 20 + modulus.Length];
        var span = blob.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, IisCryptoBlob.PublicKeySignature);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)(blob.Length - IisCryptoBlob.HeaderLength));
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)(20 + modulus.Length));
        span[16] = 6;
        span[17] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], signatureKey ? CapiAlgorithm.RsaSign : CapiAlgorithm.RsaKeyExchange);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], 0x31415352);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], (uint)modulus.Length * 8);
        BinaryPrimitives.WriteUInt32LittleEndian(span[32..], exponent);
        for (var i = 0; i < modulus.Length; i++) blob[36 + i] = modulus[modulus.Length - 1 - i];
        return blob;
    }

    /// <summary>Lower-case hex, the way MetaBase.xml stores blobs.</summary>
    public static string ToHex(ReadOnlySpan<byte> blob) => Convert.ToHexStringLower(blob);

    private static byte[] Sign(byte[] data, RSA signatureKey) => CapiMd5Signature.Sign(data, signatureKey);

    private static byte[] SignedBlob(uint blobSignature, byte[] first, byte[] signedHash)
    {
        var padding = (8 - first.Length % 8) % 8;
        var dataLength = 8 + first.Length + padding + signedHash.Length;
        var blob = new byte[IisCryptoBlob.HeaderLength + dataLength];
        var span = blob.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, blobSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)dataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)first.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)signedHash.Length);
        first.CopyTo(span[16..]);
        signedHash.CopyTo(span[(16 + first.Length + padding)..]);
        return blob;
    }
}

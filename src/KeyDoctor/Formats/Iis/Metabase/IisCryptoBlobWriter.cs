using KeyDoctor.Crypto;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KeyDoctor.Formats.Iis.Metabase;

/// <summary>
/// Writes IIS_CRYPTO_BLOBs as MS-IMSA 2.2.2 lays them out, so tests (and later a repair that re-keys a metabase)
/// can build them from keys they hold. RSA output is stored in CryptoAPI's little-endian byte order; signatures
/// are PKCS#1 v1.5 over MD5 (MS-IMSA 3.1.4.1.4). The RC4 key is used exactly as given: how a 40-bit CryptoAPI key
/// is salted is not settled (research notes §1.3), so blobs written here are structurally exact, not proven to
/// decrypt on Windows.
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
        var signature = Sign(prefixed, signatureKey);
        Rc4.Apply(rc4Key, prefixed);
        return SignedBlob(IisCryptoBlob.EncryptedDataSignature, prefixed, signature);
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

    private static byte[] Sign(byte[] data, RSA signatureKey)
    {
        var signature = signatureKey.SignData(data, HashAlgorithmName.MD5, RSASignaturePadding.Pkcs1);
        Array.Reverse(signature);
        return signature;
    }

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

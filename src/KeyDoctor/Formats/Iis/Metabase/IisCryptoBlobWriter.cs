using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KeyDoctor.Formats.Iis.Metabase;

/// <summary>
/// Lays out IIS_CRYPTO_BLOBs as MS-IMSA 2.2.2 does, from parts that are already encrypted and signed: this class
/// encrypts nothing. <c>KeyDoctor.Crypto.Metabase.MetabaseBlobWriter</c> wraps, encrypts and signs, then calls it.
/// </summary>
public static class IisCryptoBlobWriter
{
    /// <summary>A session-key blob ("IcKb"): a SIMPLEBLOB and the signature over it, both as CryptoAPI stores them.</summary>
    public static byte[] SessionKey(ReadOnlySpan<byte> simpleBlob, ReadOnlySpan<byte> signedHash) =>
        SignedBlob(IisCryptoBlob.SessionKeySignature, simpleBlob, signedHash);

    /// <summary>An encrypted-data blob ("IcDb"): RC4 cipher text of a CLEARTEXT_WITH_PREFIX_BLOB and its signed MD5.</summary>
    public static byte[] EncryptedData(ReadOnlySpan<byte> cipherText, ReadOnlySpan<byte> signedHash) =>
        SignedBlob(IisCryptoBlob.EncryptedDataSignature, cipherText, signedHash);

    /// <summary>
    /// A password-salted data blob ("IcSb", research notes §1.5): <c>DataLength SaltLength Data pad8 Salt</c>, no
    /// signature: the salt takes the signature's place.
    /// </summary>
    public static byte[] SaltedData(ReadOnlySpan<byte> cipherText, ReadOnlySpan<byte> salt) =>
        SignedBlob(IisCryptoBlob.SaltedDataSignature, cipherText, salt);

    /// <summary>A public-key blob ("IcPb") for the public half of <paramref name="key"/>, as exchange or signature key.</summary>
    public static byte[] PublicKey(RSAParameters key, bool signatureKey)
    {
        var modulus = key.Modulus ?? throw new ArgumentException("the key has no modulus", nameof(key));
        uint exponent = 0;
        foreach (var b in key.Exponent ?? throw new ArgumentException("the key has no exponent", nameof(key))) exponent = exponent << 8 | b;
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

    /// <summary><c>FirstLength SecondLength First Padding[to 8] Second</c> inside the blob header.</summary>
    private static byte[] SignedBlob(uint blobSignature, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var padding = (8 - first.Length % 8) % 8;
        var dataLength = 8 + first.Length + padding + second.Length;
        var blob = new byte[IisCryptoBlob.HeaderLength + dataLength];
        var span = blob.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, blobSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)dataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)first.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)second.Length);
        first.CopyTo(span[16..]);
        second.CopyTo(span[(16 + first.Length + padding)..]);
        return blob;
    }
}

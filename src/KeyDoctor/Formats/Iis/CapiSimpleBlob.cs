using System.Buffers.Binary;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Iis;

/// <summary>
/// The header of a CryptoAPI SIMPLEBLOB: a session key wrapped with an RSA key-exchange public key.
/// Layout (wincrypt.h BLOBHEADER, then the wrapping ALG_ID, then the RSA output in little-endian order):
/// <c>bType(1)=1 bVersion(1)=2 reserved(2) aiKeyAlg(4) aiWrapAlg(4) encryptedKey[modulus bytes]</c>.
/// The encrypted key is never kept: only its length, which is the wrapping RSA modulus size.
/// </summary>
public sealed record CapiSimpleBlob(
    byte BlobType,
    byte Version,
    ushort Reserved,
    uint KeyAlgorithm,
    uint WrapAlgorithm,
    int EncryptedKeyLength)
{
    public const byte SimpleBlobType = 1;
    public const byte CurrentVersion = 2;
    public const int HeaderLength = 12;

    /// <summary>Size of the RSA key that wrapped the session key, in bits.</summary>
    public int WrappingKeyBits => EncryptedKeyLength * 8;

    public string KeyAlgorithmName => CapiAlgorithm.Name(KeyAlgorithm);
    public string WrapAlgorithmName => CapiAlgorithm.Name(WrapAlgorithm);

    /// <summary>Parses a SIMPLEBLOB; anything that is not one throws with the offset of the bad field.</summary>
    public static CapiSimpleBlob Parse(ReadOnlySpan<byte> data, string format = "SIMPLEBLOB", long baseOffset = 0)
    {
        var reader = new SpanReader(data, format, baseOffset);
        var type = reader.ReadByte();
        if (type != SimpleBlobType)
            throw new MalformedDataException(format, baseOffset, $"bType is {type}, not SIMPLEBLOB (1)");
        var version = reader.ReadByte();
        if (version != CurrentVersion)
            throw new MalformedDataException(format, baseOffset + 1, $"bVersion is {version}, not 2");
        var reserved = reader.ReadUInt16();
        var keyAlgorithm = reader.ReadUInt32();
        if (CapiAlgorithm.ClassOf(keyAlgorithm) != CapiAlgorithm.DataEncryptClass)
            throw new MalformedDataException(format, baseOffset + 4,
                $"aiKeyAlg 0x{keyAlgorithm:X} ({CapiAlgorithm.Name(keyAlgorithm)}) is not a session-key algorithm");
        var wrapAlgorithm = reader.ReadUInt32();
        if (reader.Remaining == 0)
            throw new MalformedDataException(format, baseOffset + HeaderLength, "no encrypted key after the header");
        return new CapiSimpleBlob(type, version, reserved, keyAlgorithm, wrapAlgorithm, reader.Remaining);
    }

    /// <summary>A SIMPLEBLOB around an already-wrapped key (RSA cipher text in CryptoAPI's little-endian order).</summary>
    public static byte[] Write(uint keyAlgorithm, ReadOnlySpan<byte> littleEndianEncryptedKey, uint wrapAlgorithm = CapiAlgorithm.RsaKeyExchange)
    {
        var blob = new byte[HeaderLength + littleEndianEncryptedKey.Length];
        blob[0] = SimpleBlobType;
        blob[1] = CurrentVersion;
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), keyAlgorithm);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), wrapAlgorithm);
        littleEndianEncryptedKey.CopyTo(blob.AsSpan(HeaderLength));
        return blob;
    }
}

/// <summary>CryptoAPI ALG_ID values met in IIS configuration (wincrypt.h).</summary>
public static class CapiAlgorithm
{
    public const uint Rc2 = 0x6602;
    public const uint Rc4 = 0x6801;
    public const uint Des = 0x6601;
    public const uint TripleDes = 0x6603;
    public const uint TripleDes112 = 0x6609;
    public const uint Aes128 = 0x660E;
    public const uint Aes192 = 0x660F;
    public const uint Aes256 = 0x6610;
    public const uint Aes = 0x6611;
    public const uint RsaKeyExchange = 0xA400;
    public const uint RsaSign = 0x2400;
    public const uint Md5 = 0x8003;
    public const uint Sha1 = 0x8004;

    /// <summary>ALG_CLASS_DATA_ENCRYPT: bits 13-15 of an ALG_ID equal to 3.</summary>
    internal const uint DataEncryptClass = 3 << 13;

    internal static uint ClassOf(uint algorithm) => algorithm & (7 << 13);

    public static string Name(uint algorithm) => algorithm switch
    {
        Rc2 => "CALG_RC2",
        Rc4 => "CALG_RC4",
        Des => "CALG_DES",
        TripleDes => "CALG_3DES",
        TripleDes112 => "CALG_3DES_112",
        Aes128 => "CALG_AES_128",
        Aes192 => "CALG_AES_192",
        Aes256 => "CALG_AES_256",
        Aes => "CALG_AES",
        RsaKeyExchange => "CALG_RSA_KEYX",
        RsaSign => "CALG_RSA_SIGN",
        Md5 => "CALG_MD5",
        Sha1 => "CALG_SHA1",
        _ => $"ALG_ID 0x{algorithm:X4}",
    };
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyDoctor.Formats;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Crypto.KeySets;

/// <summary>
/// The CryptoAPI PRIVATEKEYBLOB for RSA: BLOBHEADER (bType 7, bVersion 2, aiKeyAlg), RSAPUBKEY ("RSA2", bitlen,
/// pubexp), then modulus, P, Q, DP, DQ, InverseQ and D, each little-endian. This is what PVK files wrap and what
/// CryptExportKey(PRIVATEKEYBLOB) returns. The key fields are shared with the key-file body
/// (Formats.KeyFiles.CapiPrivateKeyBlob, whose RSAPUBKEY carries keylen/datalen instead of a BLOBHEADER) through
/// <see cref="CapiRsaPrivateFields"/>; only the headers are read here.
/// </summary>
public static class CapiPrivateKeyBlob
{
    public const string FormatName = "PRIVATEKEYBLOB";
    public const byte PrivateKeyBlobType = 0x07;
    public const uint CalgRsaKeyExchange = 0xA400;
    public const uint CalgRsaSign = 0x2400;
    private const uint Rsa2Magic = 0x32415352; // "RSA2"
    private const int HeaderLength = 8 + 12;
    private const int MaxBits = 16384;

    /// <summary>Writes a PRIVATEKEYBLOB for <paramref name="key"/> (which must hold a private key).</summary>
    public static byte[] Write(RSAParameters key, CapiKeyNumber keyNumber)
    {
        if (key.Modulus is null || key.Exponent is null || key.D is null || key.P is null || key.Q is null
            || key.DP is null || key.DQ is null || key.InverseQ is null)
            throw new ArgumentException("a PRIVATEKEYBLOB needs every private RSA parameter", nameof(key));
        var modulusBytes = key.Modulus.Length;
        var halfBytes = (modulusBytes + 1) / 2;
        if (key.Exponent.Length > 4) throw new ArgumentException("CryptoAPI public exponents fit in 32 bits", nameof(key));

        var blob = new byte[HeaderLength + modulusBytes * 2 + halfBytes * 5];
        var span = blob.AsSpan();
        span[0] = PrivateKeyBlobType;
        span[1] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], keyNumber == CapiKeyNumber.Signature ? CalgRsaSign : CalgRsaKeyExchange);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Rsa2Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)(modulusBytes * 8));
        uint exponent = 0;
        foreach (var b in key.Exponent) exponent = exponent << 8 | b;
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], exponent);

        CapiRsaPrivateFields.Write(span[HeaderLength..], key, modulusBytes);
        return blob;
    }

    /// <summary>Reads a PRIVATEKEYBLOB; the key number comes from aiKeyAlg.</summary>
    public static KeySetEntry Read(ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        var reader = new SpanReader(data, FormatName, baseOffset);
        if (reader.ReadByte() != PrivateKeyBlobType) throw new MalformedDataException(FormatName, baseOffset, "bType is not PRIVATEKEYBLOB (7)");
        reader.ReadByte(); // bVersion: 2 for RSA, but CryptoAPI itself accepts others.
        reader.ReadUInt16();
        var algorithm = reader.ReadUInt32();
        var keyNumber = algorithm switch
        {
            CalgRsaKeyExchange => CapiKeyNumber.Exchange,
            CalgRsaSign => CapiKeyNumber.Signature,
            _ => throw new MalformedDataException(FormatName, baseOffset + 4, $"aiKeyAlg 0x{algorithm:X} is not CALG_RSA_KEYX or CALG_RSA_SIGN"),
        };
        if (reader.ReadUInt32() != Rsa2Magic) throw new MalformedDataException(FormatName, baseOffset + 8, "RSAPUBKEY magic is not \"RSA2\"");
        var bits = reader.ReadUInt32();
        if (bits is 0 or > MaxBits || bits % 16 != 0)
            throw new MalformedDataException(FormatName, baseOffset + 12, $"bit length {bits} is not a multiple of 16 between 16 and {MaxBits}");
        var exponent = reader.ReadUInt32();
        var modulusBytes = (int)bits / 8;
        var needed = CapiRsaPrivateFields.Length(modulusBytes);
        if (reader.Remaining < needed)
            throw new MalformedDataException(FormatName, reader.AbsolutePosition, $"a {bits}-bit key needs {needed} bytes of key material, {reader.Remaining} remain");

        var parameters = CapiRsaPrivateFields.Read(reader.ReadBytes(needed), modulusBytes, modulusBytes, exponent);
        return new KeySetEntry(keyNumber, parameters);
    }
}

using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.KeyFiles;

/// <summary>
/// A public key in the form certificates carry it: the DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), and its
/// SHA-256. Because the fingerprint is over the same bytes a certificate holds, a key file and the certificate
/// that uses it can be joined by <see cref="Sha256"/> without decrypting anything.
/// </summary>
public sealed record PublicKeyInfo
{
    private PublicKeyInfo(string algorithm, int keyBits, ulong? exponent, byte[] subjectPublicKeyInfo)
    {
        Algorithm = algorithm;
        KeyBits = keyBits;
        RsaExponent = exponent;
        SubjectPublicKeyInfo = subjectPublicKeyInfo;
        Sha256 = FingerprintOf(subjectPublicKeyInfo);
    }

    /// <summary>The fingerprint key files and certificates are joined by: SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex.</summary>
    public static string FingerprintOf(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));

    /// <summary>The same fingerprint for a certificate's public key.</summary>
    public static string FingerprintOf(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        FingerprintOf(certificate.PublicKey.ExportSubjectPublicKeyInfo());

    /// <summary>"RSA", "ECDSA_P256", "ECDH_P384", ...</summary>
    public string Algorithm { get; }

    public int KeyBits { get; }

    /// <summary>The RSA public exponent (null for EC keys, or when it does not fit 64 bits).</summary>
    public ulong? RsaExponent { get; }

    /// <summary>DER SubjectPublicKeyInfo, byte-identical to the one in a certificate for this key.</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    /// <summary>Lower-case hex SHA-256 of <see cref="SubjectPublicKeyInfo"/>.</summary>
    public string Sha256 { get; }

    // DER AlgorithmIdentifier values: rsaEncryption with NULL parameters; id-ecPublicKey with each named curve.
    private static readonly byte[] RsaAlgorithm = Convert.FromHexString("300d06092a864886f70d0101010500");
    private static readonly byte[] EcP256Algorithm = Convert.FromHexString("301306072a8648ce3d020106082a8648ce3d030107");
    private static readonly byte[] EcP384Algorithm = Convert.FromHexString("301006072a8648ce3d020106052b81040022");
    private static readonly byte[] EcP521Algorithm = Convert.FromHexString("301006072a8648ce3d020106052b81040023");

    /// <summary>An RSA key from its big-endian modulus and exponent.</summary>
    public static PublicKeyInfo Rsa(ReadOnlySpan<byte> modulusBigEndian, ReadOnlySpan<byte> exponentBigEndian)
    {
        // Hand-written DER (the structure is fixed): a million keys are fingerprinted per listing.
        var modulus = TrimLeadingZeros(modulusBigEndian);
        var exponent = TrimLeadingZeros(exponentBigEndian);
        var modulusInteger = IntegerLength(modulus);
        var exponentInteger = IntegerLength(exponent);
        var rsaKeyContent = modulusInteger + exponentInteger;
        var bitStringContent = 1 + TlvLength(rsaKeyContent);
        var spkiContent = RsaAlgorithm.Length + TlvLength(bitStringContent);
        var der = new byte[TlvLength(spkiContent)];
        var w = new DerWriter(der);
        w.Header(0x30, spkiContent);
        w.Raw(RsaAlgorithm);
        w.Header(0x03, bitStringContent);
        w.Raw([0]); // no unused bits
        w.Header(0x30, rsaKeyContent);
        w.Integer(modulus);
        w.Integer(exponent);

        ulong? exponentValue = null;
        if (exponent.Length <= 8)
        {
            ulong value = 0;
            foreach (var b in exponent) value = (value << 8) | b;
            exponentValue = value;
        }
        return new PublicKeyInfo("RSA", BitLength(modulus), exponentValue, der);
    }

    /// <summary>An EC key on a named NIST curve from its big-endian coordinates.</summary>
    public static PublicKeyInfo EllipticCurve(string usage, int curveBits, ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var algorithm = curveBits switch
        {
            256 => EcP256Algorithm,
            384 => EcP384Algorithm,
            521 => EcP521Algorithm,
            _ => throw new ArgumentOutOfRangeException(nameof(curveBits), curveBits, "not a NIST curve"),
        };
        var bitStringContent = 1 + 1 + x.Length + y.Length;
        var spkiContent = algorithm.Length + TlvLength(bitStringContent);
        var der = new byte[TlvLength(spkiContent)];
        var w = new DerWriter(der);
        w.Header(0x30, spkiContent);
        w.Raw(algorithm);
        w.Header(0x03, bitStringContent);
        w.Raw([0, 0x04]); // no unused bits; uncompressed point
        w.Raw(x);
        w.Raw(y);
        return new PublicKeyInfo($"{usage}_P{curveBits}", curveBits, null, der);
    }

    private static int LengthOfLength(int length) => length < 0x80 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 4;

    private static int TlvLength(int contentLength) => 1 + LengthOfLength(contentLength) + contentLength;

    /// <summary>A positive INTEGER needs a leading 0x00 when its top bit is set.</summary>
    private static int IntegerLength(ReadOnlySpan<byte> value) => TlvLength(value.Length + (value[0] >= 0x80 ? 1 : 0));

    private ref struct DerWriter(Span<byte> output)
    {
        private readonly Span<byte> _output = output;
        private int _position;

        public void Header(byte tag, int length)
        {
            _output[_position++] = tag;
            var extra = LengthOfLength(length) - 1;
            if (extra == 0)
            {
                _output[_position++] = (byte)length;
                return;
            }
            _output[_position++] = (byte)(0x80 | extra);
            for (var i = extra - 1; i >= 0; i--) _output[_position++] = (byte)(length >> (8 * i));
        }

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_output[_position..]);
            _position += bytes.Length;
        }

        public void Integer(ReadOnlySpan<byte> value)
        {
            var pad = value[0] >= 0x80;
            Header(0x02, value.Length + (pad ? 1 : 0));
            if (pad) _output[_position++] = 0;
            Raw(value);
        }
    }

    private static ReadOnlySpan<byte> TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        var first = value.IndexOfAnyExcept((byte)0);
        return first < 0 ? [0] : value[first..];
    }

    private static int BitLength(ReadOnlySpan<byte> bigEndian) =>
        bigEndian.Length == 0 || bigEndian[0] == 0 ? 0 : (bigEndian.Length - 1) * 8 + (32 - BitOperations.LeadingZeroCount(bigEndian[0]));
}

/// <summary>
/// The RSA public key section of a CryptoAPI key file. rsaenh stores it without a PUBLICKEYSTRUC:
/// <c>'RSA1', keyLength (modulus buffer = bitLength/8 + 8), bitLength, dataLength (bitLength/8 - 1), exponent,
/// modulus[keyLength]</c>, little-endian, the modulus zero-padded.
/// </summary>
public sealed record CapiRsaPublicKey
{
    public const string FormatName = "CAPI RSA public key";
    public const uint Rsa1Magic = 0x31415352; // "RSA1"
    public const int HeaderLength = 20;

    public uint Magic { get; init; } = Rsa1Magic;

    /// <summary>Size of the modulus buffer in bytes (bitLength/8 + 8 as written by rsaenh).</summary>
    public uint KeyLength { get; init; }
    public uint BitLength { get; init; }

    /// <summary>bitLength/8 - 1 as written by rsaenh (the largest byte index of the modulus).</summary>
    public uint DataLength { get; init; }
    public uint Exponent { get; init; }

    /// <summary>The modulus buffer, little-endian, <see cref="KeyLength"/> bytes including the zero padding.</summary>
    public ReadOnlyMemory<byte> Modulus { get; init; }

    public int Length => HeaderLength + Modulus.Length;

    /// <summary>Builds the section the way rsaenh writes it, from a big-endian modulus.</summary>
    public static CapiRsaPublicKey Create(ReadOnlySpan<byte> modulusBigEndian, uint exponent)
    {
        var bits = (uint)modulusBigEndian.Length * 8;
        var buffer = new byte[modulusBigEndian.Length + 8];
        modulusBigEndian.CopyTo(buffer);
        buffer.AsSpan(0, modulusBigEndian.Length).Reverse();
        return new CapiRsaPublicKey
        {
            KeyLength = (uint)buffer.Length,
            BitLength = bits,
            DataLength = bits / 8 - 1,
            Exponent = exponent,
            Modulus = buffer,
        };
    }

    /// <summary>Parses a section that holds exactly one public key.</summary>
    public static CapiRsaPublicKey Parse(ReadOnlyMemory<byte> section, long baseOffset = 0)
    {
        var reader = new SpanReader(section.Span, FormatName, baseOffset);
        var magic = reader.ReadUInt32();
        if (magic != Rsa1Magic)
            throw new MalformedDataException(FormatName, baseOffset, $"magic 0x{magic:X8} is not 'RSA1'");
        var keyLength = reader.ReadUInt32();
        var bitLength = reader.ReadUInt32();
        var dataLength = reader.ReadUInt32();
        var exponent = reader.ReadUInt32();
        if (bitLength == 0 || bitLength > 65536)
            throw new MalformedDataException(FormatName, baseOffset + 8, $"bit length {bitLength} is not a plausible RSA size");
        if ((ulong)keyLength * 8 < bitLength)
            throw new MalformedDataException(FormatName, baseOffset + 4,
                $"modulus buffer of {keyLength} bytes cannot hold {bitLength} bits");
        if (keyLength != (uint)reader.Remaining)
            throw new MalformedDataException(FormatName, baseOffset + 4,
                $"modulus buffer of {keyLength} bytes but the section has {reader.Remaining} bytes after the header");
        var modulus = section.Slice(HeaderLength, (int)keyLength);
        return new CapiRsaPublicKey
        {
            Magic = magic,
            KeyLength = keyLength,
            BitLength = bitLength,
            DataLength = dataLength,
            Exponent = exponent,
            Modulus = modulus,
        };
    }

    /// <summary>The significant modulus bytes, big-endian (as in a certificate).</summary>
    public byte[] ModulusBigEndian()
    {
        var significant = (int)Math.Min((BitLength + 7) / 8, (uint)Modulus.Length);
        var bigEndian = Modulus.Span[..significant].ToArray();
        Array.Reverse(bigEndian);
        return bigEndian;
    }

    public PublicKeyInfo ToPublicKeyInfo()
    {
        Span<byte> exponent = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(exponent, Exponent);
        return PublicKeyInfo.Rsa(ModulusBigEndian(), exponent);
    }

    public byte[] ToArray()
    {
        var output = new byte[Length];
        BinaryPrimitives.WriteUInt32LittleEndian(output, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(4), KeyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(8), BitLength);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(12), DataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(16), Exponent);
        Modulus.Span.CopyTo(output.AsSpan(HeaderLength));
        return output;
    }
}

/// <summary>
/// CNG public key blobs (bcrypt.h): BCRYPT_RSAKEY_BLOB ('RSA1', big-endian exponent and modulus) and
/// BCRYPT_ECCKEY_BLOB ('ECS1/3/5' ECDSA, 'ECK1/3/5' ECDH, X and Y big-endian).
/// </summary>
public static class BcryptPublicKeyBlob
{
    public const string FormatName = "BCRYPT public key blob";

    /// <summary>True when the value starts with the magic of a public key blob this reader knows.</summary>
    public static bool IsPublicKeyBlob(ReadOnlySpan<byte> value) =>
        value.Length >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(value) is
            0x31415352 or 0x31534345 or 0x33534345 or 0x35534345 or 0x314B4345 or 0x334B4345 or 0x354B4345;

    public static PublicKeyInfo Parse(ReadOnlySpan<byte> blob, long baseOffset = 0)
    {
        var reader = new SpanReader(blob, FormatName, baseOffset);
        var magic = reader.ReadUInt32();
        switch (magic)
        {
            case 0x31415352: // RSA1
            {
                var bits = reader.ReadUInt32();
                var exponentLength = reader.ReadUInt32();
                var modulusLength = reader.ReadUInt32();
                reader.ReadUInt32(); // cbPrime1: 0 in a public blob
                reader.ReadUInt32(); // cbPrime2
                if (exponentLength is 0 or > 64 || modulusLength is 0 or > 8192)
                    throw reader.Error($"implausible RSA lengths (exponent {exponentLength}, modulus {modulusLength})");
                var exponent = reader.ReadBytes((int)exponentLength);
                var modulus = reader.ReadBytes((int)modulusLength);
                if (bits > modulusLength * 8)
                    throw new MalformedDataException(FormatName, baseOffset + 4, $"{bits} bits do not fit a {modulusLength}-byte modulus");
                return PublicKeyInfo.Rsa(modulus, exponent);
            }
            case 0x31534345 or 0x33534345 or 0x35534345 or 0x314B4345 or 0x334B4345 or 0x354B4345:
            {
                var usage = ((magic >> 16) & 0xFF) == (byte)'S' ? "ECDSA" : "ECDH";
                var curveBits = ((magic >> 24) - '0') switch { 1 => 256, 3 => 384, _ => 521 };
                var expectedLength = (curveBits + 7) / 8;
                var keyLength = reader.ReadUInt32();
                if (keyLength != expectedLength)
                    throw new MalformedDataException(FormatName, baseOffset + 4,
                        $"coordinate length {keyLength}, expected {expectedLength} for P-{curveBits}");
                var x = reader.ReadBytes((int)keyLength);
                var y = reader.ReadBytes((int)keyLength);
                return PublicKeyInfo.EllipticCurve(usage, curveBits, x, y);
            }
            default:
                throw new MalformedDataException(FormatName, baseOffset, $"unknown public key blob magic 0x{magic:X8}");
        }
    }
}

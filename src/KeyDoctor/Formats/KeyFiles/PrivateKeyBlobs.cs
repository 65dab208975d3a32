using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.KeyFiles;

/// <summary>
/// A private key recovered from a decrypted key-file blob: RSA or EC parameters for .NET, plus the public key in
/// certificate form so it can be joined to its certificate. ToString never shows key material.
/// </summary>
public sealed record RecoveredPrivateKey
{
    /// <summary>"RSA", "ECDSA_P256", "ECDH_P384", or "AES" for a CNG KDBM symmetric key (no public key).</summary>
    public required string Algorithm { get; init; }
    public int KeyBits { get; init; }
    public RSAParameters? Rsa { get; init; }
    public ECParameters? Ec { get; init; }
    public PublicKeyInfo? PublicKey { get; init; }

    public bool IsAsymmetric => Rsa is not null || Ec is not null;

    public override string ToString() => $"{Algorithm} {KeyBits}-bit private key (secret)";
}

/// <summary>
/// The CryptoAPI private key a CAPI key file holds after DPAPI (rsaenh's PRIVATEKEYBLOB body, no PUBLICKEYSTRUC):
/// 'RSA2', keylen, bitlen, datalen, pubexp, then modulus[keylen], P, Q, DP, DQ, InvQ [keylen/2 each], D[keylen];
/// little-endian, each zero-padded past bitlen/8 (bitlen/16 for the half-size values). Trailing bytes are allowed.
/// </summary>
public static class CapiPrivateKeyBlob
{
    public const string FormatName = "CAPI private key blob";
    public const uint Rsa2Magic = 0x32415352;
    private const int HeaderLength = 20;

    public static RecoveredPrivateKey Parse(ReadOnlySpan<byte> blob, long baseOffset = 0)
    {
        var reader = new SpanReader(blob, FormatName, baseOffset);
        var magic = reader.ReadUInt32();
        if (magic != Rsa2Magic)
            throw reader.Error($"magic 0x{magic:X8}, expected 'RSA2' (DSS keys are not supported)");
        var keyLength = reader.ReadUInt32();
        var bitLength = reader.ReadUInt32();
        reader.ReadUInt32(); // datalen = bitlen/8 - 1
        var exponent = reader.ReadUInt32();
        if (bitLength is < 384 or > 16384 || bitLength % 16 != 0)
            throw new MalformedDataException(FormatName, baseOffset + 8, $"implausible RSA bit length {bitLength}");
        var modulusBytes = (int)bitLength / 8;
        if (keyLength < modulusBytes || keyLength > modulusBytes + 64 || keyLength % 2 != 0)
            throw new MalformedDataException(FormatName, baseOffset + 4, $"key length {keyLength} does not fit {bitLength} bits");
        var full = (int)keyLength;
        var half = full / 2;
        var needed = HeaderLength + full * 2 + half * 5;
        if (blob.Length < needed)
            throw new MalformedDataException(FormatName, baseOffset + blob.Length, $"{blob.Length} bytes, {needed} needed for a {bitLength}-bit key");

        var parameters = CapiRsaPrivateFields.Read(reader.ReadBytes(CapiRsaPrivateFields.Length(full)), full, modulusBytes, exponent);
        RsaConsistency.Check(parameters, FormatName, baseOffset);
        return new RecoveredPrivateKey
        {
            Algorithm = "RSA", KeyBits = (int)bitLength, Rsa = parameters,
            PublicKey = PublicKeyInfo.Rsa(parameters.Modulus!, parameters.Exponent!),
        };
    }

}

/// <summary>
/// The RSA private fields CryptoAPI lays out the same way in a PRIVATEKEYBLOB (Crypto.KeySets.CapiPrivateKeyBlob)
/// and in the body of a key file (<see cref="CapiPrivateKeyBlob"/>): modulus[w], P, Q, DP, DQ, InverseQ [w/2 each],
/// D[w], little-endian. Only the headers differ; in key files the field width w (keylen) may exceed the modulus
/// size, the excess being zero padding.
/// </summary>
public static class CapiRsaPrivateFields
{
    /// <summary>Bytes the seven fields take at field width <paramref name="fieldWidth"/>.</summary>
    public static int Length(int fieldWidth) => fieldWidth * 2 + fieldWidth / 2 * 5;

    /// <summary>Reads the fields; the caller has checked that <paramref name="fields"/> holds <see cref="Length"/> bytes.</summary>
    public static RSAParameters Read(ReadOnlySpan<byte> fields, int fieldWidth, int modulusBytes, uint exponent)
    {
        var half = fieldWidth / 2;
        var offset = 0;
        return new RSAParameters
        {
            Exponent = new BigInteger(exponent).ToByteArray(isUnsigned: true, isBigEndian: true),
            Modulus = Next(fields, ref offset, fieldWidth, modulusBytes),
            P = Next(fields, ref offset, half, modulusBytes / 2),
            Q = Next(fields, ref offset, half, modulusBytes / 2),
            DP = Next(fields, ref offset, half, modulusBytes / 2),
            DQ = Next(fields, ref offset, half, modulusBytes / 2),
            InverseQ = Next(fields, ref offset, half, modulusBytes / 2),
            D = Next(fields, ref offset, fieldWidth, modulusBytes),
        };
    }

    /// <summary>The first <paramref name="significant"/> bytes of the next little-endian field, big-endian (padding dropped).</summary>
    private static byte[] Next(ReadOnlySpan<byte> fields, ref int offset, int width, int significant)
    {
        var result = fields.Slice(offset, width)[..significant].ToArray();
        Array.Reverse(result);
        offset += width;
        return result;
    }

    private static void Put(Span<byte> destination, ref int offset, byte[] bigEndian, int width)
    {
        if (bigEndian.Length > width) throw new ArgumentException($"an RSA parameter is {bigEndian.Length} bytes, over {width}");
        var field = destination.Slice(offset, width);
        field.Clear();
        for (var i = 0; i < bigEndian.Length; i++) field[i] = bigEndian[bigEndian.Length - 1 - i];
        offset += width;
    }

    /// <summary>Writes the fields at field width <paramref name="fieldWidth"/> (zero-padded); every private parameter must be set.</summary>
    public static void Write(Span<byte> destination, RSAParameters key, int fieldWidth)
    {
        var half = (fieldWidth + 1) / 2;
        var offset = 0;
        Put(destination, ref offset, key.Modulus!, fieldWidth);
        foreach (var value in new[] { key.P!, key.Q!, key.DP!, key.DQ!, key.InverseQ! }) Put(destination, ref offset, value, half);
        Put(destination, ref offset, key.D!, fieldWidth);
    }
}

/// <summary>
/// CNG private key blobs (bcrypt.h), big-endian integers: BCRYPT_RSAPRIVATE_BLOB ('RSA2': e, n, p, q),
/// BCRYPT_RSAFULLPRIVATE_BLOB ('RSA3': also dp, dq, qInv, d), BCRYPT_ECCPRIVATE_BLOB ('ECS2/4/6' ECDSA,
/// 'ECK2/4/6' ECDH: X, Y, d) and BCRYPT_KEY_DATA_BLOB ('KDBM', a symmetric key).
/// </summary>
public static class BcryptPrivateKeyBlob
{
    public const string FormatName = "BCRYPT private key blob";

    public static RecoveredPrivateKey Parse(ReadOnlySpan<byte> blob, long baseOffset = 0)
    {
        var reader = new SpanReader(blob, FormatName, baseOffset);
        var magic = reader.ReadUInt32();
        switch (magic)
        {
            case 0x32415352 or 0x33415352: // RSA2, RSA3
            {
                var bits = reader.ReadUInt32();
                var exponentLength = reader.ReadUInt32();
                var modulusLength = reader.ReadUInt32();
                var prime1Length = reader.ReadUInt32();
                var prime2Length = reader.ReadUInt32();
                if (exponentLength is 0 or > 64 || modulusLength is < 48 or > 2048 || prime1Length is 0 || prime1Length > modulusLength
                    || prime2Length is 0 || prime2Length > modulusLength || bits > modulusLength * 8)
                    throw reader.Error($"implausible RSA lengths (bits {bits}, exponent {exponentLength}, modulus {modulusLength}, primes {prime1Length}/{prime2Length})");
                var e = reader.ReadBytes((int)exponentLength).ToArray();
                var n = reader.ReadBytes((int)modulusLength).ToArray();
                var p = reader.ReadBytes((int)prime1Length).ToArray();
                var q = reader.ReadBytes((int)prime2Length).ToArray();
                var half = ((int)modulusLength + 1) / 2;
                RSAParameters parameters;
                if (magic == 0x33415352)
                {
                    var dp = reader.ReadBytes((int)prime1Length).ToArray();
                    var dq = reader.ReadBytes((int)prime2Length).ToArray();
                    var qInv = reader.ReadBytes((int)prime1Length).ToArray();
                    var d = reader.ReadBytes((int)modulusLength).ToArray();
                    parameters = new RSAParameters
                    {
                        Exponent = e, Modulus = n, P = Pad(p, half), Q = Pad(q, half), DP = Pad(dp, half), DQ = Pad(dq, half),
                        InverseQ = Pad(qInv, half), D = Pad(d, (int)modulusLength),
                    };
                }
                else
                {
                    parameters = RsaConsistency.FromPrimes(e, n, p, q, baseOffset);
                }
                RsaConsistency.Check(parameters, FormatName, baseOffset);
                return new RecoveredPrivateKey
                {
                    Algorithm = "RSA", KeyBits = (int)bits, Rsa = parameters, PublicKey = PublicKeyInfo.Rsa(n, e),
                };
            }
            case 0x32534345 or 0x34534345 or 0x36534345 or 0x324B4345 or 0x344B4345 or 0x364B4345:
            {
                var usage = ((magic >> 16) & 0xFF) == (byte)'S' ? "ECDSA" : "ECDH";
                var curveBits = ((magic >> 24) - '0') switch { 2 => 256, 4 => 384, _ => 521 };
                var expected = (curveBits + 7) / 8;
                var keyLength = reader.ReadUInt32();
                if (keyLength != expected)
                    throw new MalformedDataException(FormatName, baseOffset + 4, $"coordinate length {keyLength}, expected {expected} for P-{curveBits}");
                var x = reader.ReadBytes(expected).ToArray();
                var y = reader.ReadBytes(expected).ToArray();
                var d = reader.ReadBytes(expected).ToArray();
                var curve = curveBits switch { 256 => ECCurve.NamedCurves.nistP256, 384 => ECCurve.NamedCurves.nistP384, _ => ECCurve.NamedCurves.nistP521 };
                var parameters = new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y }, D = d };
                return new RecoveredPrivateKey
                {
                    Algorithm = $"{usage}_P{curveBits}", KeyBits = curveBits, Ec = parameters,
                    PublicKey = PublicKeyInfo.EllipticCurve(usage, curveBits, x, y),
                };
            }
            case 0x4D42444B: // KDBM
            {
                reader.ReadUInt32(); // version
                var length = reader.ReadUInt32();
                if (length is 0 or > 64) throw reader.Error($"implausible symmetric key length {length}");
                reader.Skip((int)length);
                return new RecoveredPrivateKey { Algorithm = "AES", KeyBits = (int)length * 8 };
            }
            default:
                throw new MalformedDataException(FormatName, baseOffset, $"unknown private key blob magic 0x{magic:X8}");
        }
    }

    private static byte[] Pad(byte[] bigEndian, int length)
    {
        if (bigEndian.Length == length) return bigEndian;
        var value = new BigInteger(bigEndian, isUnsigned: true, isBigEndian: true);
        var trimmed = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (trimmed.Length > length) return bigEndian; // Check() reports it
        var result = new byte[length];
        trimmed.CopyTo(result, length - trimmed.Length);
        return result;
    }
}

/// <summary>Checks that recovered RSA numbers are one key (n = p·q, e·d ≡ 1), so a wrong decryption never becomes a PFX.</summary>
internal static class RsaConsistency
{
    public static void Check(RSAParameters k, string format, long offset)
    {
        var n = Big(k.Modulus!);
        var p = Big(k.P!);
        var q = Big(k.Q!);
        if (p <= 1 || q <= 1 || p * q != n)
            throw new MalformedDataException(format, offset, "the primes do not multiply to the modulus");
        // Some producers reduce d modulo lcm(p-1, q-1), others modulo (p-1)(q-1); both satisfy this.
        var lambda = (p - 1) * (q - 1) / BigInteger.GreatestCommonDivisor(p - 1, q - 1);
        if (BigInteger.ModPow(Big(k.Exponent!) * Big(k.D!), 1, lambda) != 1)
            throw new MalformedDataException(format, offset, "the private exponent does not match the public exponent");
    }

    public static RSAParameters FromPrimes(byte[] e, byte[] n, byte[] p, byte[] q, long offset)
    {
        var bigE = Big(e);
        var bigP = Big(p);
        var bigQ = Big(q);
        // Before any inverse: a zero or unit prime would make the modulus of one zero (a division by zero).
        if (bigP <= 1 || bigQ <= 1 || bigP * bigQ != Big(n))
            throw new MalformedDataException(BcryptPrivateKeyBlob.FormatName, offset, "the primes do not multiply to the modulus");
        var phi = (bigP - 1) * (bigQ - 1);
        var d = ModInverse(bigE, phi) ?? throw new MalformedDataException(BcryptPrivateKeyBlob.FormatName, offset, "public exponent is not invertible");
        var qInv = ModInverse(bigQ, bigP) ?? throw new MalformedDataException(BcryptPrivateKeyBlob.FormatName, offset, "primes are not coprime");
        var half = (n.Length + 1) / 2;
        return new RSAParameters
        {
            Exponent = e, Modulus = n, D = Fixed(d, n.Length), P = Fixed(bigP, half), Q = Fixed(bigQ, half),
            DP = Fixed(d % (bigP - 1), half), DQ = Fixed(d % (bigQ - 1), half), InverseQ = Fixed(qInv, half),
        };
    }

    private static BigInteger Big(byte[] bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    private static byte[] Fixed(BigInteger value, int length)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (bytes.Length >= length) return bytes;
        var result = new byte[length];
        bytes.CopyTo(result, length - bytes.Length);
        return result;
    }

    private static BigInteger? ModInverse(BigInteger a, BigInteger m)
    {
        if (m <= 1) return null;
        BigInteger t = 0, newT = 1, r = m, newR = a % m;
        while (newR != 0)
        {
            var quotient = r / newR;
            (t, newT) = (newT, t - quotient * newT);
            (r, newR) = (newR, r - quotient * newR);
        }
        if (r != 1) return null;
        return t < 0 ? t + m : t;
    }
}

using System.Security.Cryptography;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Iis.Metabase;

/// <summary>The kinds of IIS_CRYPTO_BLOB, named by their signature.</summary>
public enum IisCryptoBlobKind
{
    /// <summary>"IcKb" 0x624B6349: a SIMPLEBLOB session key and its signed hash (MS-IMSA 2.2.2.2).</summary>
    SessionKey,
    /// <summary>"IcPb" 0x62506349: an RSA public key (MS-IMSA 2.2.2.1).</summary>
    PublicKey,
    /// <summary>"IcDb" 0x62446349: RC4-encrypted data and its signed hash (MS-IMSA 2.2.2.5); every secure property.</summary>
    EncryptedData,
    /// <summary>"IcHb" 0x62486349: a hash (MS-IMSA 2.2.2.3).</summary>
    Hash,
    /// <summary>"IcCb" 0x62436349: clear text (MS-IMSA 2.2.2.4).</summary>
    CleartextData,
    /// <summary>
    /// "IcSb" 0x62536349: data encrypted with a password-derived key (metabase backups made with a password).
    /// Not in MS-IMSA; layout from the research notes (§1.5), so parsed with care.
    /// </summary>
    SaltedData,
}

/// <summary>
/// An IIS_CRYPTO_BLOB (MS-IMSA 2.2.2), the container of every IIS 6 metabase secret:
/// <c>BlobSignature(4) BlobDataLength(4) BlobData[BlobDataLength]</c>, little-endian. Parsing checks every length
/// against the input and against the fields that must add up; breaking a MUST of the spec that does not stop
/// reading is listed in <see cref="Warnings"/>. Nothing is decrypted here.
/// </summary>
public abstract record IisCryptoBlob(IisCryptoBlobKind Kind, int BlobDataLength, IReadOnlyList<string> Warnings)
{
    public const string Format = "IIS_CRYPTO_BLOB";
    public const int HeaderLength = 8;
    public const uint SessionKeySignature = 0x624B6349;
    public const uint PublicKeySignature = 0x62506349;
    public const uint EncryptedDataSignature = 0x62446349;
    public const uint HashSignature = 0x62486349;
    public const uint CleartextDataSignature = 0x62436349;
    public const uint SaltedDataSignature = 0x62536349;

    /// <summary>Bytes the blob occupies: header plus BlobDataLength.</summary>
    public int TotalLength => HeaderLength + BlobDataLength;

    public static uint SignatureOf(IisCryptoBlobKind kind) => kind switch
    {
        IisCryptoBlobKind.SessionKey => SessionKeySignature,
        IisCryptoBlobKind.PublicKey => PublicKeySignature,
        IisCryptoBlobKind.EncryptedData => EncryptedDataSignature,
        IisCryptoBlobKind.Hash => HashSignature,
        IisCryptoBlobKind.CleartextData => CleartextDataSignature,
        _ => SaltedDataSignature,
    };

    /// <summary>Parses the hex text a MetaBase.xml attribute holds.</summary>
    public static IisCryptoBlob ParseHex(string hex) => Parse(DecodeHex(hex));

    /// <summary>Parses one blob at the start of <paramref name="data"/>; trailing bytes are a warning.</summary>
    public static IisCryptoBlob Parse(ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        var reader = new SpanReader(data, Format, baseOffset);
        var signature = reader.ReadUInt32();
        var kind = signature switch
        {
            SessionKeySignature => IisCryptoBlobKind.SessionKey,
            PublicKeySignature => IisCryptoBlobKind.PublicKey,
            EncryptedDataSignature => IisCryptoBlobKind.EncryptedData,
            HashSignature => IisCryptoBlobKind.Hash,
            CleartextDataSignature => IisCryptoBlobKind.CleartextData,
            SaltedDataSignature => IisCryptoBlobKind.SaltedData,
            _ => throw new MalformedDataException(Format, baseOffset,
                $"signature 0x{signature:X8} is not an IIS_CRYPTO_BLOB signature (IcKb, IcPb, IcDb, IcHb, IcCb, IcSb)"),
        };
        var dataLength = reader.ReadUInt32();
        if (dataLength > (uint)reader.Remaining)
            throw new MalformedDataException(Format, baseOffset + 4,
                $"BlobDataLength is {dataLength} but only {reader.Remaining} bytes follow the header");

        var body = data.Slice(HeaderLength, (int)dataLength);
        var bodyOffset = baseOffset + HeaderLength;
        var warnings = new List<string>();
        if (data.Length > HeaderLength + (int)dataLength)
            warnings.Add($"{data.Length - HeaderLength - (int)dataLength} bytes follow the blob");

        return kind switch
        {
            IisCryptoBlobKind.SessionKey => IisSessionKeyBlob.ParseBody(body, bodyOffset, warnings),
            IisCryptoBlobKind.EncryptedData => IisEncryptedDataBlob.ParseBody(body, bodyOffset, warnings),
            IisCryptoBlobKind.PublicKey => IisPublicKeyBlob.ParseBody(body, bodyOffset, warnings),
            IisCryptoBlobKind.Hash => IisHashBlob.ParseBody(body, bodyOffset, warnings),
            IisCryptoBlobKind.CleartextData => new IisCleartextBlob((int)dataLength, warnings),
            _ => IisSaltedDataBlob.ParseBody(body, bodyOffset, warnings),
        };
    }

    /// <summary>Decodes hex text (either case); a bad digit throws with the byte offset it would have had.</summary>
    public static byte[] DecodeHex(string hex)
    {
        var text = hex.AsSpan().Trim();
        if (text.Length % 2 != 0)
            throw new MalformedDataException(Format + " hex", text.Length / 2, $"odd number of hex digits ({text.Length})");
        var bytes = new byte[text.Length / 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            int high = HexValue(text[2 * i]), low = HexValue(text[2 * i + 1]);
            if (high < 0 || low < 0)
                throw new MalformedDataException(Format + " hex", i, $"'{text[2 * i]}{text[2 * i + 1]}' is not a hex byte");
            bytes[i] = (byte)(high << 4 | low);
        }
        return bytes;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// Reads the framing shared by session-key and encrypted-data blobs:
    /// <c>FirstLength(4) SignedHashLength(4) First[FirstLength] Padding[0-7 to 8-byte alignment] SignedHash</c>.
    /// </summary>
    private protected static (int FirstLength, int SignedHashLength, int Padding) ReadSignedFraming(
        ReadOnlySpan<byte> body, long bodyOffset, string firstName)
    {
        var reader = new SpanReader(body, Format, bodyOffset);
        var firstLength = reader.ReadUInt32();
        var signedHashLength = reader.ReadUInt32();
        var aligned = (firstLength + 7L) & ~7L;
        var needed = 8L + aligned + signedHashLength;
        if (firstLength > (uint)reader.Remaining)
            throw new MalformedDataException(Format, bodyOffset,
                $"{firstName}Length is {firstLength} but only {reader.Remaining} bytes remain");
        if (needed != body.Length)
            throw new MalformedDataException(Format, bodyOffset + 4,
                $"{firstName}Length {firstLength} + padding {aligned - firstLength} + SignedHashLength {signedHashLength} " +
                $"needs BlobDataLength {needed}, but BlobDataLength is {body.Length}");
        return ((int)firstLength, (int)signedHashLength, (int)(aligned - firstLength));
    }
}

/// <summary>
/// A session-key blob: the RC4 session key as a SIMPLEBLOB wrapped with the metabase container's key-exchange key,
/// and the signature (MD5, PKCS#1 v1.5, CryptoAPI little-endian byte order) made with its signature key.
/// </summary>
public sealed record IisSessionKeyBlob(
    int BlobDataLength,
    IReadOnlyList<string> Warnings,
    int EncryptedSessionKeyLength,
    int SignedHashLength,
    int PaddingLength,
    CapiSimpleBlob SimpleBlob,
    byte[] SimpleBlobBytes,
    byte[] SignedHash)
    : IisCryptoBlob(IisCryptoBlobKind.SessionKey, BlobDataLength, Warnings)
{
    internal static IisSessionKeyBlob ParseBody(ReadOnlySpan<byte> body, long bodyOffset, List<string> warnings)
    {
        var (keyLength, hashLength, padding) = ReadSignedFraming(body, bodyOffset, "EncryptedSessionKey");
        var simpleBytes = body.Slice(8, keyLength);
        var simple = CapiSimpleBlob.Parse(simpleBytes, Format + " session key", bodyOffset + 8);
        if (simple.Reserved != 0) warnings.Add($"SIMPLEBLOB reserved field is 0x{simple.Reserved:X4}, not 0");
        if (simple.KeyAlgorithm != CapiAlgorithm.Rc4)
            warnings.Add($"session key algorithm is {simple.KeyAlgorithmName}; MS-IMSA requires CALG_RC4");
        if (simple.WrapAlgorithm != CapiAlgorithm.RsaKeyExchange)
            warnings.Add($"session key is wrapped with {simple.WrapAlgorithmName}; MS-IMSA requires CALG_RSA_KEYX");
        if (simple.WrappingKeyBits != 512)
            warnings.Add($"session key is wrapped by a {simple.WrappingKeyBits}-bit key; MS-IMSA specifies 512-bit RSA");
        if (hashLength == 0) warnings.Add("the session key carries no signed hash");
        else if (hashLength != 64) warnings.Add($"signed hash is {hashLength} bytes; MS-IMSA specifies 64 (512-bit RSA)");
        var signedHash = body.Slice(8 + keyLength + padding, hashLength).ToArray();
        return new IisSessionKeyBlob(body.Length, warnings, keyLength, hashLength, padding, simple,
            simpleBytes.ToArray(), signedHash);
    }
}

/// <summary>
/// An encrypted-data blob: RC4 ciphertext of <c>Reserved(4) ClearTextData</c> and the signed MD5 of that clear text.
/// The ciphertext is kept for the decryption step; the plaintext is never produced here.
/// </summary>
public sealed record IisEncryptedDataBlob(
    int BlobDataLength,
    IReadOnlyList<string> Warnings,
    int EncryptedDataLength,
    int SignedHashLength,
    int PaddingLength,
    ReadOnlyMemory<byte> EncryptedData,
    ReadOnlyMemory<byte> SignedHash)
    : IisCryptoBlob(IisCryptoBlobKind.EncryptedData, BlobDataLength, Warnings)
{
    internal static IisEncryptedDataBlob ParseBody(ReadOnlySpan<byte> body, long bodyOffset, List<string> warnings)
    {
        var (dataLength, hashLength, padding) = ReadSignedFraming(body, bodyOffset, "EncryptedData");
        if (dataLength < 4) warnings.Add($"EncryptedDataLength {dataLength} is shorter than the 4-byte reserved prefix");
        if (hashLength == 0) warnings.Add("the data carries no signed hash");
        return new IisEncryptedDataBlob(body.Length, warnings, dataLength, hashLength, padding,
            body.Slice(8, dataLength).ToArray(), body.Slice(8 + dataLength + padding, hashLength).ToArray());
    }
}

/// <summary>A public-key blob: a CryptoAPI PUBLICKEYBLOB with its own length prefix (MS-IMSA 2.2.2.1).</summary>
public sealed record IisPublicKeyBlob(
    int BlobDataLength,
    IReadOnlyList<string> Warnings,
    uint AlgorithmId,
    int BitLength,
    uint PublicExponent,
    byte[] Modulus)
    : IisCryptoBlob(IisCryptoBlobKind.PublicKey, BlobDataLength, Warnings)
{
    private const uint RsaPublicMagic = 0x31415352; // "RSA1"

    /// <summary>The key as .NET parameters (the blob stores the modulus little-endian).</summary>
    public RSAParameters ToRsaParameters()
    {
        var modulus = Modulus.ToArray();
        Array.Reverse(modulus);
        var exponent = BitConverter.GetBytes(PublicExponent);
        var significant = PublicExponent > 0xFFFFFF ? 4 : PublicExponent > 0xFFFF ? 3 : PublicExponent > 0xFF ? 2 : 1;
        var bigEndianExponent = exponent[..significant];
        Array.Reverse(bigEndianExponent);
        return new RSAParameters { Modulus = modulus, Exponent = bigEndianExponent };
    }

    internal static IisPublicKeyBlob ParseBody(ReadOnlySpan<byte> body, long bodyOffset, List<string> warnings)
    {
        var reader = new SpanReader(body, Format, bodyOffset);
        var innerLength = reader.ReadUInt32();
        var reserved0 = reader.ReadUInt32();
        if (innerLength != body.Length - 8)
            warnings.Add($"PublicKeyBlobDataLength is {innerLength}, but {body.Length - 8} bytes follow it");
        if (reserved0 != 0) warnings.Add($"Reserved0 is 0x{reserved0:X}, not 0");
        var type = reader.ReadByte();
        if (type != 6) throw reader.Error($"Type is {type}, not PUBLICKEYBLOB (6)");
        var version = reader.ReadByte();
        if (version != 2) warnings.Add($"Version is {version}, not 2");
        reader.ReadUInt16();
        var algorithm = reader.ReadUInt32();
        var magic = reader.ReadUInt32();
        if (magic != RsaPublicMagic) throw reader.Error($"Magic is 0x{magic:X8}, not RSA1");
        var bits = reader.ReadUInt32();
        if (bits == 0 || bits % 8 != 0 || bits / 8L + 4 > reader.Remaining)
            throw reader.Error($"BitLen {bits} does not fit the {reader.Remaining} bytes left");
        var exponent = reader.ReadUInt32();
        var modulus = reader.ReadBytes((int)(bits / 8)).ToArray();
        if (bits != 512) warnings.Add($"BitLen is {bits}; MS-IMSA specifies 512");
        return new IisPublicKeyBlob(body.Length, warnings, algorithm, (int)bits, exponent, modulus);
    }
}

/// <summary>A hash blob: <c>HashDataLength(4) Reserved(4) HashData</c>.</summary>
public sealed record IisHashBlob(int BlobDataLength, IReadOnlyList<string> Warnings, byte[] Hash)
    : IisCryptoBlob(IisCryptoBlobKind.Hash, BlobDataLength, Warnings)
{
    internal static IisHashBlob ParseBody(ReadOnlySpan<byte> body, long bodyOffset, List<string> warnings)
    {
        var reader = new SpanReader(body, Format, bodyOffset);
        var length = reader.ReadUInt32();
        reader.ReadUInt32();
        if (length != (uint)reader.Remaining)
            throw new MalformedDataException(Format, bodyOffset, $"HashDataLength is {length} but {reader.Remaining} bytes follow");
        return new IisHashBlob(body.Length, warnings, reader.ReadBytes((int)length).ToArray());
    }
}

/// <summary>A clear-text blob. Only its length is kept: clear text in IIS blobs can be a secret.</summary>
public sealed record IisCleartextBlob(int BlobDataLength, IReadOnlyList<string> Warnings)
    : IisCryptoBlob(IisCryptoBlobKind.CleartextData, BlobDataLength, Warnings);

/// <summary>
/// A password-protected data blob (IISCryptoEncryptDataBlob2, research notes §1.5):
/// <c>DataLength(4) SaltLength(4) Data Padding[to 8] Salt</c>. <see cref="Data"/> is RC4 cipher text under a key
/// derived from the salt and a password; there is no signature.
/// </summary>
public sealed record IisSaltedDataBlob(int BlobDataLength, IReadOnlyList<string> Warnings, int DataLength, int SaltLength)
    : IisCryptoBlob(IisCryptoBlobKind.SaltedData, BlobDataLength, Warnings)
{
    public ReadOnlyMemory<byte> Data { get; init; }
    public ReadOnlyMemory<byte> Salt { get; init; }

    internal static IisSaltedDataBlob ParseBody(ReadOnlySpan<byte> body, long bodyOffset, List<string> warnings)
    {
        var (dataLength, saltLength, padding) = ReadSignedFraming(body, bodyOffset, "Data");
        if (saltLength != 16) warnings.Add($"salt is {saltLength} bytes; IIS writes 16");
        return new IisSaltedDataBlob(body.Length, warnings, dataLength, saltLength)
        {
            Data = body.Slice(8, dataLength).ToArray(),
            Salt = body.Slice(8 + dataLength + padding, saltLength).ToArray(),
        };
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace KeyDoctor.Formats.KeyFiles;

/// <summary>Which key store a key file belongs to.</summary>
public enum KeyProviderKind
{
    /// <summary>CryptoAPI (rsaenh): RSA\MachineKeys, RSA\&lt;SID&gt;.</summary>
    Capi,

    /// <summary>CNG Microsoft Software Key Storage Provider: Crypto\Keys, Crypto\SystemKeys.</summary>
    Cng,
}

/// <summary>
/// The file name Windows gives a key container: <c>&lt;prefix&gt;_&lt;MachineGuid&gt;</c>, where the prefix is the
/// MD5 of the lower-cased container name plus a terminating NUL (ANSI for CryptoAPI, UTF-16LE for CNG), printed
/// as four little-endian DWORDs (each 4-byte group of the digest byte-reversed).
/// </summary>
public static class ContainerName
{
    /// <summary>Length of the hexadecimal prefix.</summary>
    public const int PrefixLength = 32;

    private static readonly Lazy<Encoding> Ansi = new(() =>
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        // Western European servers: code page 1252. The container name is ASCII in every known case.
        return Encoding.GetEncoding(1252, EncoderFallback.ReplacementFallback, DecoderFallback.ReplacementFallback);
    });

    /// <summary>The ANSI code page used for CryptoAPI container names (Windows-1252).</summary>
    public static Encoding AnsiEncoding => Ansi.Value;

    /// <summary>The 32-hex prefix of a CryptoAPI key file for <paramref name="container"/>.</summary>
    public static string CapiPrefix(string container) => Format(CapiDigest(container));

    /// <summary>The 32-hex prefix of a CNG key file for <paramref name="keyName"/>.</summary>
    public static string CngPrefix(string keyName) => Format(CngDigest(keyName));

    public static string Prefix(string name, KeyProviderKind kind) =>
        kind == KeyProviderKind.Capi ? CapiPrefix(name) : CngPrefix(name);

    /// <summary>The full file name: prefix, underscore, MachineGuid in lower-case "D" format.</summary>
    public static string FileName(string name, KeyProviderKind kind, Guid machineGuid) =>
        $"{Prefix(name, kind)}_{machineGuid:D}";

    /// <summary>The raw prefix digest (as printed, i.e. the DWORD-swapped MD5) for a CryptoAPI name.</summary>
    public static UInt128 CapiDigest(string container)
    {
        var lower = container.ToLowerInvariant();
        var bytes = new byte[AnsiEncoding.GetByteCount(lower) + 1];
        AnsiEncoding.GetBytes(lower, bytes);
        return Digest(bytes);
    }

    /// <summary>The prefix for a CryptoAPI name given as its stored ANSI bytes (without the NUL).</summary>
    public static UInt128 CapiDigest(ReadOnlySpan<byte> ansiName)
    {
        if (ansiName.Length > 4096 || ansiName.ContainsAnyInRange((byte)0x80, (byte)0xFF))
            return CapiDigest(AnsiEncoding.GetString(ansiName));
        // ASCII fast path (every known container name): lower-case in place, append the NUL.
        Span<byte> buffer = stackalloc byte[ansiName.Length + 1];
        for (var i = 0; i < ansiName.Length; i++)
        {
            var b = ansiName[i];
            buffer[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }
        buffer[^1] = 0;
        return Digest(buffer);
    }

    public static UInt128 CngDigest(string keyName)
    {
        var lower = keyName.ToLowerInvariant() + "\0";
        return Digest(Encoding.Unicode.GetBytes(lower));
    }

    /// <summary>Formats a digest as the 32 lower-case hex characters Windows prints.</summary>
    public static string Format(UInt128 digest)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, digest);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Parses 32 hex characters into a digest.</summary>
    public static bool TryParsePrefix(ReadOnlySpan<char> text, out UInt128 digest)
    {
        digest = default;
        if (text.Length != PrefixLength) return false;
        Span<byte> bytes = stackalloc byte[16];
        if (Convert.FromHexString(text, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 16)
            return false;
        digest = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }

    /// <summary>
    /// Splits a key-file name <c>&lt;32 hex&gt;_&lt;GUID&gt;</c>. Returns false when it does not start with a 32-hex
    /// prefix; <paramref name="machineGuid"/> is null when the "_&lt;GUID&gt;" suffix is missing or not a GUID.
    /// </summary>
    public static bool TrySplitFileName(ReadOnlySpan<char> fileName, out UInt128 prefix, out Guid? machineGuid)
    {
        machineGuid = null;
        if (fileName.Length < PrefixLength || !TryParsePrefix(fileName[..PrefixLength], out prefix))
        {
            prefix = default;
            return false;
        }
        if (fileName.Length == PrefixLength + 37 && fileName[PrefixLength] == '_'
            && Guid.TryParseExact(fileName[(PrefixLength + 1)..], "D", out var guid))
            machineGuid = guid;
        return true;
    }

    private static UInt128 Digest(ReadOnlySpan<byte> input)
    {
        Span<byte> md5 = stackalloc byte[16];
        MD5.HashData(input, md5);
        // Windows prints the digest as four little-endian DWORDs: byte-reverse each group of four.
        Span<byte> printed = stackalloc byte[16];
        for (var group = 0; group < 4; group++)
            BinaryPrimitives.WriteUInt32BigEndian(printed[(group * 4)..], BinaryPrimitives.ReadUInt32LittleEndian(md5[(group * 4)..]));
        return BinaryPrimitives.ReadUInt128BigEndian(printed);
    }
}

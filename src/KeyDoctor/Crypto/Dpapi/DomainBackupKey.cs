using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats;

namespace KeyDoctor.Crypto.Dpapi;

/// <summary>
/// The domain's DPAPI backup key: the RSA private key (G$BCKUPKEY_&lt;GUID&gt; on the domain controllers) that
/// opens the domain-key section of every domain user's master keys. Read from the unencrypted PVK that
/// <c>mimikatz lsadump::backupkeys /export</c> (ntds_capi_*.pvk) and <c>SharpDPAPI backupkey /file:</c> write,
/// from that PVK as base64 text (SharpDPAPI prints it), or from the JSON Nemesis stores
/// (<c>domain_backupkey_b64</c> + <c>domain_backupkey_guid</c>, or <c>key</c> + <c>backup_key_guid</c>).
/// </summary>
/// <remarks>
/// The PVK is the 24-byte PVK_FILE_HDR then a PRIVATEKEYBLOB (CALG_RSA_KEYX, 2048 bits in practice); it is read by
/// <see cref="PvkFile"/>. The GUID, when known, says which master keys the key can open; a bare PVK has none
/// unless its file name carries it, as mimikatz names it.
/// </remarks>
public sealed partial class DomainBackupKey
{
    public const string FormatName = "DPAPI domain backup key";

    /// <summary>Large enough for a 16384-bit key as base64 inside JSON.</summary>
    public const int MaxFileLength = 64 * 1024;


    private DomainBackupKey(RSAParameters parameters, Guid? guid)
    {
        Parameters = parameters;
        Guid = guid;
    }

    /// <summary>The backup key's GUID (the domain-key section names it), or null when the file did not say.</summary>
    public Guid? Guid { get; }

    /// <summary>The private key; only the domain-key decryption uses it.</summary>
    internal RSAParameters Parameters { get; }

    public int KeySizeBits => Parameters.Modulus!.Length * 8;

    /// <summary>Modulus length in bytes: the exact length of a domain-key secret this key can decrypt.</summary>
    public int ModulusLength => Parameters.Modulus!.Length;

    /// <summary>
    /// Reads a PVK (binary or base64 text) or a JSON file. <paramref name="fileName"/> is only used for the GUID
    /// mimikatz puts in the name (ntds_capi_0_&lt;GUID&gt;.pvk).
    /// </summary>
    public static DomainBackupKey Read(ReadOnlySpan<byte> content, string? fileName = null)
    {
        if (content.Length > MaxFileLength)
            throw new MalformedDataException(FormatName, 0, $"{content.Length} bytes, more than a backup key file ({MaxFileLength})");
        if (content.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(content) == PvkFile.Magic)
            return FromPvk(content, GuidIn(fileName));

        var text = content;
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) text = text[3..];
        var first = FirstNonSpace(text);
        if (first < 0) throw new MalformedDataException(FormatName, 0, "the file is empty");
        if (text[first] == (byte)'{')
        {
            RequireUtf8(text, content.Length - text.Length);
            return FromJson(text);
        }
        return FromPvk(DecodeBase64(Encoding.ASCII.GetString(text), "the file"), GuidIn(fileName));
    }

    /// <summary>Never prints key material.</summary>
    public override string ToString() => $"domain backup key {Guid?.ToString("D") ?? "(GUID unknown)"}, RSA {KeySizeBits} bits (secret)";

    private static DomainBackupKey FromPvk(ReadOnlySpan<byte> pvk, Guid? guid)
    {
        var p = PvkFile.Read(pvk).Parameters;
        try
        {
            // ImportParameters rejects inconsistent halves, so a damaged key fails here and not as a wrong-key later.
            using var rsa = RSA.Create();
            rsa.ImportParameters(p);
        }
        catch (CryptographicException e)
        {
            throw new MalformedDataException(FormatName, 0, "the RSA private key is inconsistent: " + e.Message, e);
        }
        return new DomainBackupKey(p, guid);
    }

    private static DomainBackupKey FromJson(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new MalformedDataException(FormatName, e.BytePositionInLine ?? 0, "not valid JSON: " + e.Message, e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new MalformedDataException(FormatName, 0, "the JSON is not an object");
            var key = String(document.RootElement, "domain_backupkey_b64") ?? String(document.RootElement, "key")
                      ?? throw new MalformedDataException(FormatName, 0, "the JSON has no \"domain_backupkey_b64\" or \"key\" field");
            var guidText = String(document.RootElement, "domain_backupkey_guid") ?? String(document.RootElement, "backup_key_guid");
            Guid? guid = null;
            if (guidText is not null)
            {
                if (!System.Guid.TryParse(guidText, out var parsed))
                    throw new MalformedDataException(FormatName, 0, $"backup key GUID '{guidText}' is not a GUID");
                guid = parsed;
            }
            return FromPvk(DecodeBase64(key, "the key field"), guid);
        }
    }

    /// <summary>JSON is UTF-8; a file in another encoding would fail later inside a string, without an offset.</summary>
    private static void RequireUtf8(ReadOnlySpan<byte> text, int baseOffset)
    {
        var status = Utf8.ToUtf16(text, new char[text.Length], out var valid, out _, replaceInvalidSequences: false);
        if (status == OperationStatus.InvalidData)
            throw new MalformedDataException(FormatName, baseOffset + valid,
                $"byte 0x{text[valid]:X2} is not UTF-8, so this is not a JSON backup-key file (damaged, or saved in another encoding): " +
                "save it again as UTF-8, or give the .pvk file instead");
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[] DecodeBase64(string text, string what)
    {
        var compact = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        try
        {
            var bytes = Convert.FromBase64String(compact);
            if (bytes.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != PvkFile.Magic)
                throw new MalformedDataException(FormatName, 0, $"{what} is base64 but not a PVK (magic 0xB0B5F11E)");
            return bytes;
        }
        catch (FormatException)
        {
            throw new MalformedDataException(FormatName, 0, $"{what} is neither a PVK, JSON nor base64 of a PVK");
        }
    }

    private static int FirstNonSpace(ReadOnlySpan<byte> text)
    {
        for (var i = 0; i < text.Length; i++)
            if (text[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return i;
        return -1;
    }

    private static Guid? GuidIn(string? fileName)
    {
        if (fileName is null) return null;
        var match = GuidPattern().Match(Path.GetFileName(fileName));
        return match.Success ? System.Guid.Parse(match.Value) : null;
    }

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex GuidPattern();
}

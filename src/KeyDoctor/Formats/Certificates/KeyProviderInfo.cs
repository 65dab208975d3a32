using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Certificates;

/// <summary>One CRYPT_KEY_PROV_PARAM of a KEY_PROV_INFO (parameter id, flags, value bytes).</summary>
public sealed record KeyProviderParameter(uint Parameter, uint Flags, byte[] Data);

/// <summary>
/// CERT_KEY_PROV_INFO_PROP_ID in its serialized form (MS-GPEF 2.2.1.1.1.1.1): seven dwords (offset of the container
/// name, offset of the provider name, provider type, flags, parameter count, offset of the parameters, KeySpec)
/// followed by the strings. Offsets count from the start of the property value; 0 means "none".
/// </summary>
public sealed record KeyProviderInfo(
    string? ContainerName,
    string? ProviderName,
    uint ProviderType,
    uint Flags,
    uint KeySpec,
    IReadOnlyList<KeyProviderParameter> Parameters)
{
    private const string Format = "KEY_PROV_INFO";
    public const uint MachineKeySetFlag = 0x20; // CRYPT_MACHINE_KEYSET (CAPI) and NCRYPT_MACHINE_KEY_FLAG (CNG)
    public const uint SilentFlag = 0x40;

    /// <summary>Provider type 0 means a CNG key storage provider; anything else is a CryptoAPI CSP.</summary>
    public bool IsCng => ProviderType == 0;

    public bool IsMachineKey => (Flags & MachineKeySetFlag) != 0;

    /// <summary>The 32-hex file-name prefix of the linked key (CNG or CryptoAPI rule by provider type).</summary>
    public string KeyFilePrefix => IsCng
        ? KeyFiles.ContainerName.CngPrefix(ContainerName ?? "")
        : KeyFiles.ContainerName.CapiPrefix(ContainerName ?? "");

    /// <summary>AT_KEYEXCHANGE, AT_SIGNATURE, or the number (CNG keys carry 0).</summary>
    public string KeySpecName => KeySpec switch { 1 => "AT_KEYEXCHANGE", 2 => "AT_SIGNATURE", 0 => "0 (CNG)", _ => KeySpec.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    public string ProviderTypeName => ProviderType switch
    {
        0 => "CNG key storage provider",
        1 => "PROV_RSA_FULL",
        2 => "PROV_RSA_SIG",
        3 => "PROV_DSS",
        12 => "PROV_RSA_SCHANNEL",
        13 => "PROV_DSS_DH",
        18 => "PROV_DH_SCHANNEL",
        24 => "PROV_RSA_AES",
        _ => $"provider type {ProviderType}",
    };

    /// <summary>Where the provider named by the link keeps its keys (by its name; a link without one uses the default software provider).</summary>
    public KeyStorageKind Storage => KeyStorage.Of(ProviderName);

    /// <summary>Where Windows keeps this key's file, and its expected name (needs the MachineGuid for the suffix).</summary>
    public ExpectedKeyFile ExpectedKeyFile(string? machineGuid) => KeyFileNameRule.For(this, machineGuid);

    /// <exception cref="MalformedDataException">The fixed part is short or an offset points outside the value.</exception>
    public static KeyProviderInfo Parse(ReadOnlySpan<byte> value, long baseOffset = 0)
    {
        if (value.Length < 28)
            throw new MalformedDataException(Format, baseOffset, $"needs 28 bytes, has {value.Length}");
        var container = ReadString(value, U32(value, 0), baseOffset, "container name");
        var provider = ReadString(value, U32(value, 4), baseOffset, "provider name");
        var count = U32(value, 16);
        var parametersOffset = U32(value, 20);
        var parameters = new List<KeyProviderParameter>();
        if (count > 0)
        {
            if (parametersOffset == 0 || parametersOffset > value.Length || count > (value.Length - parametersOffset) / 16)
                throw new MalformedDataException(Format, baseOffset + 16, $"{count} provider parameters do not fit the value");
            for (var i = 0; i < count; i++)
            {
                var at = (int)parametersOffset + i * 16;
                var dataOffset = U32(value, at + 4);
                var dataSize = U32(value, at + 8);
                if (dataOffset > value.Length || dataSize > value.Length - dataOffset)
                    throw new MalformedDataException(Format, baseOffset + at, "provider parameter data lies outside the value");
                parameters.Add(new KeyProviderParameter(U32(value, at), U32(value, at + 12), value.Slice((int)dataOffset, (int)dataSize).ToArray()));
            }
        }
        return new KeyProviderInfo(container, provider, U32(value, 8), U32(value, 12), U32(value, 24), parameters);
    }

    /// <summary>
    /// The CERT_KEY_PROV_INFO property value as the store keeps it (no provider parameters): seven dwords (container
    /// offset, provider offset, provider type, flags, parameter count, parameter offset, key spec), then the two
    /// NUL-terminated UTF-16 strings.
    /// </summary>
    public byte[] Serialize()
    {
        if (Parameters.Count > 0) throw new NotSupportedException("serializing provider parameters is not supported");
        var container = Encoding.Unicode.GetBytes((ContainerName ?? "") + "\0");
        var provider = Encoding.Unicode.GetBytes((ProviderName ?? "") + "\0");
        var value = new byte[28 + container.Length + provider.Length];
        uint[] header = [ContainerName is null ? 0u : 28u, ProviderName is null ? 0u : 28u + (uint)container.Length, ProviderType, Flags, 0, 0, KeySpec];
        for (var i = 0; i < header.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(i * 4), header[i]);
        container.CopyTo(value, 28);
        provider.CopyTo(value, 28 + container.Length);
        return value;
    }

    private static uint U32(ReadOnlySpan<byte> value, int at) => BinaryPrimitives.ReadUInt32LittleEndian(value[at..]);

    private static string? ReadString(ReadOnlySpan<byte> value, uint offset, long baseOffset, string what)
    {
        if (offset == 0) return null;
        if (offset >= value.Length) throw new MalformedDataException(Format, baseOffset, $"{what} offset {offset} is outside the value ({value.Length} bytes)");
        var tail = value[(int)offset..];
        var chars = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(tail[..(tail.Length & ~1)]);
        var nul = chars.IndexOf('\0');
        if (nul < 0) throw new MalformedDataException(Format, baseOffset + offset, $"{what} has no terminating NUL");
        return Encoding.Unicode.GetString(tail[..(nul * 2)]);
    }
}

/// <summary>Where a key storage provider (CNG) or CSP (CryptoAPI) keeps its private keys.</summary>
public enum KeyStorageKind
{
    /// <summary>Microsoft's software providers: a DPAPI-protected file in MachineKeys, Crypto\Keys or a profile.</summary>
    SoftwareFile,

    /// <summary>The TPM (Microsoft Platform Crypto Provider): no exportable key, bound to this machine's chip.</summary>
    Tpm,

    /// <summary>A smart card (Microsoft Smart Card Key Storage Provider, Base Smart Card Crypto Provider, card minidrivers).</summary>
    SmartCard,

    /// <summary>Windows Hello / Passport (Microsoft Passport Key Storage Provider).</summary>
    Passport,

    /// <summary>Any other vendor's provider: an HSM or token whose keys live in the device.</summary>
    ThirdParty,
}

/// <summary>Which providers keep keys as files: by the provider name a key link carries.</summary>
public static class KeyStorage
{
    /// <summary>Microsoft's software CSPs and KSP: every one keeps its keys as files KeyDoctor reads.</summary>
    public static readonly IReadOnlySet<string> SoftwareProviders = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Microsoft Software Key Storage Provider",
        "Microsoft Base Cryptographic Provider v1.0",
        "Microsoft Enhanced Cryptographic Provider v1.0",
        "Microsoft Strong Cryptographic Provider",
        "Microsoft RSA SChannel Cryptographic Provider",
        "Microsoft Enhanced RSA and AES Cryptographic Provider",
        "Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)",
        "Microsoft Base DSS Cryptographic Provider",
        "Microsoft Base DSS and Diffie-Hellman Cryptographic Provider",
        "Microsoft Enhanced DSS and Diffie-Hellman Cryptographic Provider",
        "Microsoft DH SChannel Cryptographic Provider",
    };

    public static KeyStorageKind Of(string? providerName)
    {
        var name = providerName?.Trim();
        if (string.IsNullOrEmpty(name) || SoftwareProviders.Contains(name)) return KeyStorageKind.SoftwareFile;
        if (name.Contains("Platform Crypto", StringComparison.OrdinalIgnoreCase)) return KeyStorageKind.Tpm;
        if (name.Contains("Passport", StringComparison.OrdinalIgnoreCase)) return KeyStorageKind.Passport;
        if (name.Contains("Smart Card", StringComparison.OrdinalIgnoreCase) || name.Contains("SmartCard", StringComparison.OrdinalIgnoreCase))
            return KeyStorageKind.SmartCard;
        return KeyStorageKind.ThirdParty;
    }

    /// <summary>"a TPM", "a smart card", ... for messages.</summary>
    public static string Describe(KeyStorageKind kind) => kind switch
    {
        KeyStorageKind.Tpm => "the TPM",
        KeyStorageKind.SmartCard => "a smart card",
        KeyStorageKind.Passport => "Windows Hello (Passport)",
        KeyStorageKind.ThirdParty => "a third-party provider (an HSM or token)",
        _ => "a software key file",
    };
}

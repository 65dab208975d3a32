namespace KeyDoctor.Formats.Iis;

/// <summary>How a protected-configuration provider keeps its key, which decides where its key file lives.</summary>
public enum ProviderKind
{
    /// <summary>AesProtectedConfigurationProvider: an AES session key wrapped by a CryptoAPI RSA container.</summary>
    Aes,
    /// <summary>Native RSA provider (type ""), or RsaProtectedConfigurationProvider: a CryptoAPI RSA container.</summary>
    Rsa,
    /// <summary>CngProtectedConfigurationProvider (IIS 10): a persisted CNG key.</summary>
    Cng,
    /// <summary>Any other type (DPAPI, custom): KeyDoctor does not know where its key lives.</summary>
    Other,
}

/// <summary>Where a provider's key container lives on disk.</summary>
public enum KeyStoreKind
{
    /// <summary>ProgramData\Microsoft\Crypto\RSA\MachineKeys (or the user's RSA folder).</summary>
    CryptoApi,
    /// <summary>ProgramData\Microsoft\Crypto\Keys (or the user's Crypto\Keys).</summary>
    Cng,
}

/// <summary>
/// One <c>configProtectedData/providers/add</c> entry. <see cref="SessionKey"/> is the parsed header of the
/// <c>sessionKey</c> SIMPLEBLOB (AES providers); <see cref="SessionKeyProblem"/> says why it could not be parsed.
/// </summary>
public sealed record ProtectedConfigProvider(
    string Name,
    string Type,
    ProviderKind Kind,
    string? KeyContainerName,
    string? CspProviderName,
    bool? UseMachineContainer,
    bool? UseOaep,
    bool HasSessionKeyAttribute,
    CapiSimpleBlob? SessionKey,
    string? SessionKeyProblem,
    int Line)
{
    /// <summary>The whole sessionKey SIMPLEBLOB (header and RSA cipher text) when <see cref="SessionKey"/> parsed.</summary>
    public ReadOnlyMemory<byte> SessionKeyBlob { get; init; }

    /// <summary>The key store the container lives in, or null for kinds KeyDoctor cannot place.</summary>
    public KeyStoreKind? KeyStore => Kind switch
    {
        ProviderKind.Aes or ProviderKind.Rsa => KeyStoreKind.CryptoApi,
        ProviderKind.Cng => KeyStoreKind.Cng,
        _ => null,
    };

    /// <summary>The key file name up to the "_MachineGuid" suffix, or null without a container name.</summary>
    public string? ExpectedKeyFilePrefix => KeyContainerName is { Length: > 0 } name
        ? KeyStore switch
        {
            KeyStoreKind.CryptoApi => KeyDoctor.Formats.KeyFiles.ContainerName.CapiPrefix(name),
            KeyStoreKind.Cng => KeyDoctor.Formats.KeyFiles.ContainerName.CngPrefix(name),
            _ => null,
        }
        : null;

    internal static ProviderKind KindOf(string type)
    {
        if (type.Length == 0) return ProviderKind.Rsa;
        if (type.Contains("AesProtectedConfigurationProvider", StringComparison.OrdinalIgnoreCase)) return ProviderKind.Aes;
        if (type.Contains("CngProtectedConfigurationProvider", StringComparison.OrdinalIgnoreCase)) return ProviderKind.Cng;
        if (type.Contains("RsaProtectedConfigurationProvider", StringComparison.OrdinalIgnoreCase)) return ProviderKind.Rsa;
        return ProviderKind.Other;
    }
}

/// <summary>An attribute holding an <c>[enc:…:enc]</c> value: where it is and which provider must decrypt it.</summary>
public sealed record EncryptedAttribute(
    string ElementPath,
    string AttributeName,
    int Line,
    EncryptedConfigValue? Value,
    string? Problem)
{
    public string? Provider => Value?.Provider;
}

/// <summary>A problem found inside a readable file, reported as data rather than thrown.</summary>
public sealed record IisConfigProblem(string Where, int Line, string Message);

namespace KeyDoctor.Formats.Iis;

/// <summary>How the shared-configuration account password is stored in redirection.config.</summary>
public enum RedirectionPasswordKind
{
    None,
    /// <summary>An <c>[enc:…:enc]</c> value (IISRsaProvider by default).</summary>
    Encrypted,
    /// <summary>Written in clear text. Reported as such; the text itself is never kept.</summary>
    Plaintext,
}

/// <summary>
/// <c>inetsrv\config\redirection.config</c>: whether IIS shared configuration is on, where the real
/// applicationHost.config lives, the account used to reach it, and the providers that protect its password.
/// </summary>
public sealed record RedirectionConfig(
    bool Enabled,
    string? Path,
    string? UserName,
    RedirectionPasswordKind PasswordKind,
    EncryptedConfigValue? Password,
    IReadOnlyList<ProtectedConfigProvider> Providers,
    IReadOnlyList<EncryptedAttribute> EncryptedAttributes,
    IReadOnlyList<IisConfigProblem> Problems)
{
    public const string Format = "redirection.config";

    public static RedirectionConfig Read(string path) => MalformedDataException.FromFile(path, () => Parse(SafeXml.ReadFile(path, Format)));

    public static RedirectionConfig Parse(ReadOnlyMemory<byte> data)
    {
        var root = IisConfigXml.LoadConfiguration(data, Format);
        var problems = new List<IisConfigProblem>();
        var providers = IisConfigXml.ReadProviders(root, problems);
        var encrypted = IisConfigXml.FindEncryptedAttributes(root);
        var redirection = root.Element("configurationRedirection");
        if (redirection is null)
            return new RedirectionConfig(false, null, null, RedirectionPasswordKind.None, null, providers, encrypted, problems);

        var enabledText = SafeXml.Attr(redirection, "enabled");
        var enabled = IisConfigXml.ParseBool(enabledText);
        if (enabledText is not null && enabled is null)
            problems.Add(new IisConfigProblem(IisConfigXml.PathOf(redirection), SafeXml.LineOf(redirection),
                $"enabled is '{enabledText}', not true or false"));

        var password = SafeXml.Attr(redirection, "password");
        var kind = RedirectionPasswordKind.None;
        EncryptedConfigValue? encryptedPassword = null;
        if (!string.IsNullOrEmpty(password))
        {
            if (EncryptedConfigValue.LooksEncrypted(password))
            {
                kind = RedirectionPasswordKind.Encrypted;
                encryptedPassword = EncryptedConfigValue.TryParse(password, out _);
            }
            else
            {
                kind = RedirectionPasswordKind.Plaintext;
            }
        }
        return new RedirectionConfig(enabled ?? false, SafeXml.Attr(redirection, "path"),
            SafeXml.Attr(redirection, "userName"), kind, encryptedPassword, providers, encrypted, problems);
    }
}

/// <summary>
/// <c>inetsrv\config\administration.config</c> (IIS Manager and its modules). KeyDoctor reads what bears on keys:
/// its own providers, if any, and every encrypted attribute with the provider that must decrypt it.
/// </summary>
public sealed record AdministrationConfig(
    IReadOnlyList<ProtectedConfigProvider> Providers,
    IReadOnlyList<EncryptedAttribute> EncryptedAttributes,
    IReadOnlyList<IisConfigProblem> Problems)
{
    public const string Format = "administration.config";

    /// <summary>Names of the providers its encrypted values need, in first-use order.</summary>
    public IReadOnlyList<string> ReferencedProviders =>
        EncryptedAttributes.Where(a => a.Provider is not null).Select(a => a.Provider!).Distinct(StringComparer.Ordinal).ToList();

    public static AdministrationConfig Read(string path) => MalformedDataException.FromFile(path, () => Parse(SafeXml.ReadFile(path, Format)));

    public static AdministrationConfig Parse(ReadOnlyMemory<byte> data)
    {
        var root = IisConfigXml.LoadConfiguration(data, Format);
        var problems = new List<IisConfigProblem>();
        return new AdministrationConfig(IisConfigXml.ReadProviders(root, problems),
            IisConfigXml.FindEncryptedAttributes(root), problems);
    }
}

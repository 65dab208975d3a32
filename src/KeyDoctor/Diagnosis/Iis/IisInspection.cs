using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// One run of <see cref="IisInspector"/>: reads each file (an unreadable one is a finding), hands what it holds to
/// the part for each concern, and joins their views into the <see cref="IisReport"/>. Shared configuration
/// (redirection.config) is read here, since it decides which files the others read.
/// </summary>
internal sealed class IisInspection
{
    private readonly string _input;
    private readonly string _inputKind;
    private readonly List<IisFileView> _files = [];
    private readonly CustomMetadataInspector _customMetadata;
    private readonly SiteBindingInspector _sites;
    private readonly ProtectedConfigInspector _protectedConfig;
    private readonly MetabaseInspector _metabase;
    private IisSharedConfigurationView? _shared;

    public IisInspection(string input, string inputKind, IIisMachineLookup lookup)
    {
        _input = input;
        _inputKind = inputKind;
        Lookup = lookup;
        _customMetadata = new CustomMetadataInspector(this);
        _sites = new SiteBindingInspector(this);
        _protectedConfig = new ProtectedConfigInspector(this);
        _metabase = new MetabaseInspector(this);
    }

    public IIisMachineLookup Lookup { get; }

    /// <summary>Every part adds its findings here; <see cref="Finish"/> sorts them.</summary>
    public List<Finding> Findings { get; } = [];

    public void Missing(string kind, string path) => _files.Add(new IisFileView(kind, path, "missing", null));

    public void Unreadable(string kind, string path, string problem)
    {
        _files.Add(new IisFileView(kind, path, "unreadable", problem));
        Findings.Add(Finding.Create(FindingCatalog.EvidenceUnavailable, path, kind, problem) with
        {
            // A scan lists an unreadable file as info, one gap among many; here it is the file the user asked about.
            Severity = Severity.Error,
            Evidence = [Evidence.ForFile(path, kind)],
        });
    }

    public void ReadApplicationHost(string path, ReadOnlyMemory<byte>? data = null)
    {
        if (Read(IisInspector.ApplicationHostKind, path, data, ApplicationHostConfig.Parse) is not { } config) return;
        AddProblems(path, config.Problems);
        _protectedConfig.Add(config.Providers, config.EncryptedAttributes, path);
        // customMetadata first: a stale 5506 hash it reports is not reported again from the binding that serves another.
        _customMetadata.Add(config, path);
        _sites.Add(config, path);
    }

    public void ReadAdministration(string path, ReadOnlyMemory<byte>? data = null)
    {
        if (Read(IisInspector.AdministrationKind, path, data, AdministrationConfig.Parse) is not { } config) return;
        AddProblems(path, config.Problems);
        _protectedConfig.Add(config.Providers, config.EncryptedAttributes, path);
    }

    public SharedConfigurationTarget? ReadRedirection(string path, string? imageRoot, ReadOnlyMemory<byte>? data = null)
    {
        if (Read(IisInspector.RedirectionKind, path, data, RedirectionConfig.Parse) is not { } config) return null;
        AddProblems(path, config.Problems);
        _protectedConfig.Add(config.Providers, config.EncryptedAttributes, path);
        var target = config.Enabled ? IisConfigLocator.ResolveRedirection(config, imageRoot) : null;
        _shared = new IisSharedConfigurationView(path, config.Enabled, config.Path, config.UserName,
            config.PasswordKind switch
            {
                RedirectionPasswordKind.Encrypted => "encrypted",
                RedirectionPasswordKind.Plaintext => "plaintext",
                _ => "none",
            },
            config.Password?.Provider, target?.LocalDirectory, target?.Problem);
        if (config.PasswordKind == RedirectionPasswordKind.Plaintext)
            Findings.Add(Finding.Create(FindingCatalog.SharedConfigurationPlaintextPassword, $"{path} password",
                $"'{config.UserName}'") with
            {
                Evidence = [Evidence.ForConfiguration(path, "configurationRedirection/@password", "clear text")],
                Fix = IisConfigFindings.EncryptSharedConfigurationPassword(),
            });
        if (target?.Problem is { } problem)
            Findings.Add(Finding.Create(FindingCatalog.SharedConfigurationUnreachable, config.Path ?? path,
                path, problem) with
            {
                Evidence = [Evidence.ForConfiguration(path, "configurationRedirection/@path", config.Path)],
            });
        return target;
    }

    public void ReadMetabase(string path, string? historyDirectory, string? metaBackDirectory, ReadOnlyMemory<byte>? data = null)
    {
        if (Read(IisInspector.MetabaseKind, path, data, MetabaseXml.Parse) is not { } metabase) return;
        AddProblems(path, metabase.Problems);
        _metabase.Add(metabase, path, historyDirectory, metaBackDirectory);
    }

    public IisReport Finish()
    {
        var (providers, values) = _protectedConfig.Finish();
        // Worst first, in the scan's order, so both commands list the same findings the same way.
        var findings = Findings.OrderByDescending(f => f.Severity).ThenBy(f => f.Id, StringComparer.Ordinal)
            .ThenBy(f => f.Subject, StringComparer.Ordinal).ToList();
        return new IisReport(_input, _inputKind, Lookup.Description, Lookup.CanFindHttpSysBindings,
            Lookup.CanFindCertificates, Lookup.CanFindKeyFiles, Lookup.MachineGuid, _files, _shared, _sites.Sites,
            _customMetadata.Properties, providers, values, _metabase.View, findings);
    }

    private T? Read<T>(string kind, string path, ReadOnlyMemory<byte>? data, Func<ReadOnlyMemory<byte>, T> parse) where T : class
    {
        try
        {
            var result = parse(data ?? SafeXml.ReadFile(path, kind));
            _files.Add(new IisFileView(kind, path, "read", null));
            return result;
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException or UnauthorizedAccessException)
        {
            Unreadable(kind, path, ex.Message);
            return null;
        }
    }

    private void AddProblems(string path, IReadOnlyList<IisConfigProblem> problems)
    {
        foreach (var problem in problems)
            Findings.Add(Finding.Create(FindingCatalog.ConfigurationValueInvalid, $"{path}:{problem.Line} {problem.Where}",
                path, problem.Line, problem.Message) with
            {
                Evidence = [At(path, problem.Line, problem.Where)],
            });
    }

    /// <summary>Where in a configuration file a finding comes from: the file, the element and its line.</summary>
    public static Evidence At(string path, int line, string element, string? value = null) =>
        Evidence.ForConfiguration(path, $"{element} (line {line})", value);

    /// <summary>Whether the store lacks this machine's file for a container (any file with the prefix counts while the MachineGuid is unknown).</summary>
    public static bool IsKeyFileMissing(KeyFileStatus status) => status.MatchingFiles.Count == 0 || status.Exists == false;

    public static string ExpectedFileName(KeyFileStatus status) => status.ExpectedFileName ?? $"{status.Prefix}_<MachineGuid>";

    public static Evidence KeyFileEvidence(KeyFileStatus status) => Evidence.ForValue(
        $"files with this container's prefix in {(status.Store == KeyStoreKind.CryptoApi ? "RSA\\MachineKeys" : "Crypto\\Keys")}" +
        (status.Problem is null ? "" : $" ({status.Problem})"),
        string.Join(", ", status.MatchingFiles.DefaultIfEmpty("none")));
}

using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// Protected configuration across the files read: the providers (configProtectedData) with their sessionKey and key
/// container, and every encrypted value, checked against the providers defined. Nothing is decrypted: a value is
/// where it is, which provider, how long.
/// </summary>
internal sealed class ProtectedConfigInspector(IisInspection run)
{
    private readonly List<(ProtectedConfigProvider Provider, string Source)> _providers = [];
    private readonly List<(EncryptedAttribute Attribute, string Source)> _encrypted = [];

    public void Add(IEnumerable<ProtectedConfigProvider> providers, IEnumerable<EncryptedAttribute> encrypted, string path)
    {
        _providers.AddRange(providers.Select(p => (p, path)));
        _encrypted.AddRange(encrypted.Select(a => (a, path)));
    }

    /// <summary>Once every file is read: values are checked against the providers of all of them.</summary>
    public (IReadOnlyList<IisProviderView> Providers, IReadOnlyList<IisEncryptedValueView> Values) Finish()
    {
        var values = Values();
        return (Providers(), values);
    }

    private List<IisEncryptedValueView> Values()
    {
        var known = _providers.Select(p => p.Provider.Name).ToHashSet(StringComparer.Ordinal);
        var values = new List<IisEncryptedValueView>();
        foreach (var (attribute, source) in _encrypted)
        {
            var name = $"{attribute.ElementPath}/@{attribute.AttributeName}";
            if (attribute.Problem is not null)
                run.Findings.Add(Finding.Create(FindingCatalog.EncryptedValueMalformed, name,
                    name, attribute.Problem) with
                {
                    Evidence = [IisInspection.At(source, attribute.Line, name)],
                    Fix = IisConfigFindings.SetEncryptedValueAgain(attribute.ElementPath, attribute.AttributeName, source),
                });
            else if (!known.Contains(attribute.Provider!))
                run.Findings.Add(Finding.Create(FindingCatalog.EncryptedValueUnknownProvider, name,
                    name, attribute.Provider) with
                {
                    Evidence = [IisInspection.At(source, attribute.Line, name), Evidence.ForValue("providers defined", string.Join(", ", known.Order(StringComparer.Ordinal).DefaultIfEmpty("none")))],
                    Fix = IisConfigFindings.SetEncryptedValueAgain(attribute.ElementPath, attribute.AttributeName, source, listProviders: true),
                });
            values.Add(new IisEncryptedValueView(source, attribute.ElementPath, attribute.AttributeName, attribute.Line,
                attribute.Provider, attribute.Value?.CiphertextLength, attribute.Problem));
        }
        return values;
    }

    private List<IisProviderView> Providers()
    {
        var lookup = run.Lookup;
        var providers = new List<IisProviderView>();
        foreach (var (provider, source) in _providers)
        {
            var where = IisInspection.At(source, provider.Line, $"configProtectedData/providers/add[@name='{provider.Name}']");
            var uses = _encrypted.Count(e => e.Attribute.Provider == provider.Name);
            if (provider.SessionKeyProblem is not null)
                run.Findings.Add(Finding.Create(FindingCatalog.SessionKeyUnusable, provider.Name,
                    provider.Name, $"has a sessionKey that is not a SIMPLEBLOB: {provider.SessionKeyProblem}") with
                {
                    Evidence = [where],
                    Fix = IisConfigFindings.RestoreProtectedConfigSection(provider.KeyContainerName),
                });
            else if (provider.Kind == ProviderKind.Aes && !provider.HasSessionKeyAttribute)
                run.Findings.Add(Finding.Create(FindingCatalog.SessionKeyUnusable, provider.Name,
                    provider.Name, "is an AES provider without a sessionKey") with
                {
                    // No key to misread, only one to miss: nothing fails until a value encrypted elsewhere arrives.
                    Severity = Severity.Warning,
                    Evidence = [where],
                    Fix = IisConfigFindings.RestoreProtectedConfigSection(provider.KeyContainerName),
                });

            KeyFileStatus? keyFile = null;
            if (lookup.CanFindKeyFiles && provider.KeyStore is { } store && provider.KeyContainerName is { Length: > 0 } container
                && provider.UseMachineContainer != false)
            {
                keyFile = lookup.FindKeyFile(store, container);
                if (IisInspection.IsKeyFileMissing(keyFile))
                    run.Findings.Add(IisConfigFindings.ProtectedConfigKeyMissing(provider, IisInspection.ExpectedFileName(keyFile),
                        lookup.MachineGuid ?? "(unknown)", uses, keyFile.MatchingFiles, source));
            }
            providers.Add(new IisProviderView(provider.Name, provider.Type, provider.Kind, source, provider.Line,
                provider.KeyContainerName, provider.UseMachineContainer, provider.KeyStore, provider.ExpectedKeyFilePrefix,
                provider.SessionKey is { } key
                    ? new IisSessionKeyView(key.KeyAlgorithmName, key.WrapAlgorithmName, key.WrappingKeyBits, key.EncryptedKeyLength)
                    : null,
                provider.SessionKeyProblem, uses, keyFile));
        }
        return providers;
    }
}

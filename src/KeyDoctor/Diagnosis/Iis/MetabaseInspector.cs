using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// An IIS 6 MetaBase.xml: its SessionKey and secure properties (as blobs, never decrypted), the sites with their
/// certificates, the "Microsoft Internet Information Server" key container IISADMIN opens the SessionKey with, and
/// the History and MetaBack copies a restore could use.
/// </summary>
internal sealed class MetabaseInspector(IisInspection run)
{
    private const string SessionKeySubject = "IIS_Global SessionKey";

    public IisMetabaseView? View { get; private set; }

    public void Add(MetabaseXml metabase, string path, string? historyDirectory, string? metaBackDirectory)
    {
        var sessionKey = metabase.SessionKey;
        var sessionView = new IisMetabaseSessionKeyView(sessionKey.Status, sessionKey.Problem, sessionKey.Offset,
            sessionKey.Blob?.SimpleBlob.KeyAlgorithmName, sessionKey.Blob?.SimpleBlob.WrappingKeyBits,
            sessionKey.Blob?.SignedHashLength, sessionKey.Blob is { Warnings.Count: > 0 } b ? b.Warnings : null);
        AddSessionKeyFindings(metabase, path, historyDirectory);

        var secure = metabase.SecureProperties.Select(p => new IisMetabaseSecureView(p.KeyType, p.Location, p.Name, p.Id,
            p.Line, p.Status, p.EncryptedDataLength, p.Problem)).ToList();
        foreach (var property in metabase.SecureProperties.Where(p => p.Status == MetabaseBlobStatus.Malformed))
            run.Findings.Add(Finding.Create(FindingCatalog.MetabaseSecurePropertyDamaged, $"{property.Location} {property.Name}",
                property.Name, property.Location, property.Problem) with
            {
                Evidence = [IisInspection.At(path, property.Line, $"{property.KeyType}[@Location='{property.Location}']/@{property.Name}")],
                Fix = IisConfigFindings.SetMetabaseSecretAgain(property.Location, property.Name),
            });

        var sites = metabase.Keys
            .Where(k => k.ServerBindings.Count > 0 || k.SecureBindings.Count > 0 || k.SslCertHash is not null || k.SslStoreName is not null)
            .Select(k => new IisMetabaseSiteView(k.KeyType, k.Location, k.SiteId, k.ServerComment, k.ServerBindings,
                k.SecureBindings, k.SslCertHash, k.SslStoreName, SiteCertificate(k, path)))
            .ToList();

        View = new IisMetabaseView(path, metabase.Namespace, metabase.Global?.ChangeNumber,
            metabase.Global?.HistoryMajorVersion, sessionView, IisInspector.MetabaseKeyContainer,
            ContainerName.CapiPrefix(IisInspector.MetabaseKeyContainer), KeyContainer(sessionKey.Status, path), sites, secure,
            historyDirectory is null ? null : HistoryView(historyDirectory),
            metaBackDirectory is null ? null : SafeScan(() => MetabaseHistory.ScanBackups(metaBackDirectory)));
    }

    private void AddSessionKeyFindings(MetabaseXml metabase, string path, string? historyDirectory)
    {
        var sessionKey = metabase.SessionKey;
        var sessionKeyAt = metabase.Global is { } global
            ? IisInspection.At(path, global.Line, "IIS_Global/@SessionKey")
            : Evidence.ForConfiguration(path, "IIS_Global/@SessionKey");
        switch (sessionKey.Status)
        {
            case MetabaseBlobStatus.Missing:
                run.Findings.Add(Finding.Create(FindingCatalog.MetabaseSessionKeyUnusable, SessionKeySubject,
                    $"is missing ({sessionKey.Problem})") with { Evidence = [sessionKeyAt], Fix = IisConfigFindings.RestoreMetabase(RestorableHistoryCopy(historyDirectory)) });
                break;
            case MetabaseBlobStatus.Malformed:
                run.Findings.Add(Finding.Create(FindingCatalog.MetabaseSessionKeyUnusable, SessionKeySubject,
                    $"is damaged: {sessionKey.Problem}") with { Evidence = [sessionKeyAt], Fix = IisConfigFindings.RestoreMetabase(RestorableHistoryCopy(historyDirectory)) });
                break;
            default:
                if (sessionKey.Blob!.Warnings.Count > 0)
                    run.Findings.Add(Finding.Create(FindingCatalog.MetabaseSessionKeyUnusual, SessionKeySubject,
                        string.Join("; ", sessionKey.Blob.Warnings)) with { Evidence = [sessionKeyAt], Fix = IisConfigFindings.UnusualSessionKey() });
                break;
        }
    }

    /// <summary>The newest History copy that restores (as the server names it), or null.</summary>
    private static string? RestorableHistoryCopy(string? historyDirectory) =>
        historyDirectory is not null && SafeScan(() => MetabaseHistory.Scan(historyDirectory)) is { } entries
        && MetabaseHistory.PickLastGood(entries).Chosen is { } chosen
            ? WindowsPaths.Combine(WindowsPaths.MetabaseHistory, Path.GetFileName(chosen.MetabasePath))
            : null;

    /// <summary>The container IISADMIN opens the SessionKey with; null when the lookup cannot see key files.</summary>
    private KeyFileStatus? KeyContainer(MetabaseBlobStatus sessionKeyStatus, string path)
    {
        if (!run.Lookup.CanFindKeyFiles) return null;
        var keyFile = run.Lookup.FindKeyFile(KeyStoreKind.CryptoApi, IisInspector.MetabaseKeyContainer);
        // As in the scan (KD1002): the container matters only while there is a SessionKey for it to open.
        if (IisInspection.IsKeyFileMissing(keyFile) && sessionKeyStatus != MetabaseBlobStatus.Missing)
            run.Findings.Add(Finding.Create(FindingCatalog.Iis6ContainerBroken, IisInspector.MetabaseKeyContainer,
                keyFile.Prefix, keyFile.MatchingFiles.Count == 0
                    ? "has no key file at all"
                    : $"exists only under another MachineGuid ({string.Join(", ", keyFile.MatchingFiles.Select(GuidSuffixOf))})") with
            {
                Evidence = [IisInspection.KeyFileEvidence(keyFile), Evidence.ForConfiguration(path, $"IIS_Global SessionKey is {sessionKeyStatus}")],
            });
        return keyFile;
    }

    private CertificateInfo? SiteCertificate(MetabaseKey key, string path)
    {
        if (key.SslCertHash is not { } thumbprint || !run.Lookup.CanFindCertificates) return null;
        var certificate = run.Lookup.FindCertificate(thumbprint, key.SslStoreName);
        if (certificate is null)
            run.Findings.Add(Finding.Create(FindingCatalog.MetabaseCertificateMissing, $"{key.Location} SSLCertHash",
                key.Location, thumbprint, key.SslStoreName ?? "MY") with
            {
                Evidence = [IisInspection.At(path, key.Line, $"{key.KeyType}[@Location='{key.Location}']/@SSLCertHash", thumbprint)],
                Fix = IisConfigFindings.MetabaseCertificateChoice(key.Location, key.SslStoreName ?? "MY"),
            });
        return certificate;
    }

    private IisMetabaseHistoryView? HistoryView(string directory)
    {
        var entries = SafeScan(() => MetabaseHistory.Scan(directory));
        if (entries is null) return null;
        var choice = MetabaseHistory.PickLastGood(entries);
        var rejected = choice.Rejected.Select(r => $"{Path.GetFileName(r.Entry.MetabasePath)}: {r.Reason}").ToList();
        if (entries.Count > 0 && choice.Chosen is null)
            run.Findings.Add(Finding.Create(FindingCatalog.MetabaseHistoryNotRestorable, directory,
                entries.Count, directory) with
            {
                Evidence = rejected.Select(r => Evidence.ForValue("rejected", r)).ToList(),
                Fix = IisConfigFindings.MetabaseHistoryBackup(),
            });
        return new IisMetabaseHistoryView(directory, entries.Count, choice.Chosen?.MetabasePath,
            choice.Chosen?.MajorVersion, choice.Chosen?.MinorVersion, rejected);
    }

    private static T? SafeScan<T>(Func<T> scan) where T : class
    {
        try
        {
            return scan();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string GuidSuffixOf(string keyFileName) =>
        ContainerName.TrySplitFileName(keyFileName, out _, out var guid) && guid is { } g ? g.ToString("D") : "?";
}

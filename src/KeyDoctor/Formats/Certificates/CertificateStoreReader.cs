using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Formats.Certificates;

/// <summary>A certificate found in a registry store, with where it was found and what could not be read.</summary>
/// <param name="Location">"LocalMachine", "LocalMachine (policy)" or "CurrentUser".</param>
/// <param name="KeyName">The registry key name, which Windows sets to the thumbprint.</param>
public sealed record StoredCertificate(string Location, string Store, string KeyName, string RegistryPath,
    SerializedCertificateEntry? Entry, IReadOnlyList<string> Problems)
{
    /// <summary>The thumbprint: the key name when it is one, else the SHA-1 of the certificate.</summary>
    public string Thumbprint => KeyDoctor.Formats.Certificates.Thumbprint.Normalize(KeyName) ?? Entry?.ComputedSha1 ?? KeyName;
}

/// <summary>
/// Reads certificate stores kept in the registry: <c>SystemCertificates\&lt;store&gt;\Certificates\&lt;thumbprint&gt;\Blob</c>.
/// A blob that cannot be parsed is returned with its problem, never dropped.
/// </summary>
public static class CertificateStoreReader
{
    /// <summary>Every certificate of every store under a SystemCertificates key (or only <paramref name="storeFilter"/>).</summary>
    public static IReadOnlyList<StoredCertificate> ReadAll(RegistryKey systemCertificates, string location, string? storeFilter = null)
    {
        var result = new List<StoredCertificate>();
        foreach (var store in systemCertificates.Subkeys)
        {
            if (storeFilter is not null && !string.Equals(store.Name, storeFilter, StringComparison.OrdinalIgnoreCase)) continue;
            result.AddRange(ReadStore(store, location));
        }
        return result;
    }

    public static IReadOnlyList<StoredCertificate> ReadStore(RegistryKey store, string location)
    {
        var certificates = store.OpenSubkey("Certificates");
        if (certificates is null) return [];
        var result = new List<StoredCertificate>();
        foreach (var key in certificates.Subkeys)
        {
            var problems = new List<string>();
            SerializedCertificateEntry? entry = null;
            var blob = key.GetValue("Blob");
            if (blob is null) problems.Add("no Blob value");
            else
            {
                try
                {
                    entry = SerializedCertificateEntry.Parse(blob.Data.Span);
                    problems.AddRange(entry.Problems);
                    if (entry.CertificateError is { } error) problems.Add($"certificate unreadable: {error}");
                    var named = Thumbprint.Normalize(key.Name);
                    if (named is not null && entry.ComputedSha1 is { } sha1 && named != sha1)
                        problems.Add($"key name {named} is not the certificate's SHA-1 {sha1}");
                    if (entry.StoredSha1 is { } stored && entry.ComputedSha1 is { } computed && stored != computed)
                        problems.Add($"stored CERT_SHA1_HASH {stored} is not the certificate's SHA-1 {computed}");
                }
                catch (MalformedDataException e) { problems.Add(e.Message); }
            }
            result.Add(new StoredCertificate(location, store.Name, key.Name, key.Path, entry, problems));
        }
        return result;
    }
}

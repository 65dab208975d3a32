using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Diagnosis.Clean;

/// <summary>A container name <c>keys clean</c> always keeps, what uses it, and where that is documented.</summary>
/// <param name="Kind">The store the name is kept in; null: both (CryptoAPI and CNG).</param>
public sealed record KeepName(string Name, KeyProviderKind? Kind, string UsedBy, string Source);

/// <summary>
/// The one list of well-known containers <c>keys clean</c> never quarantines, whatever their age (docs/keep-list.md
/// shows it with the source of each name). Names a machine links from its certificates or configuration are kept as
/// well; this list is only what Windows and IIS use without any link KeyDoctor can read.
/// </summary>
public static class KeepList
{
    private const string Capi = "docs/formats/capi-key-file.md (prefix computed from the name, pinned by tests)";

    public static IReadOnlyList<KeepName> Names { get; } =
    [
        .. WellKnownContainers.All.Select(c => new KeepName(c.Name, c.Kind, c.UsedBy, Capi)),
        // The configuration keys in the other store as well: a provider can be re-pointed at either, and keeping a
        // name too many costs nothing.
        new("NetFrameworkConfigurationKey", null, ".NET protected configuration default key (also for CNG-backed providers)",
            "Microsoft Learn: 'Importing and Exporting Protected Configuration RSA Key Containers'"),
        new("iisConfigurationKey", null, "IIS configuration encryption (either store)", "Microsoft Learn: IIS <configProtectedData>"),
        new("iisWasKey", null, "IIS WAS application-pool password encryption (either store)", "Microsoft Learn: IIS <configProtectedData>"),
    ];

    /// <summary>The file-name prefix digests of every kept name in a store of <paramref name="kind"/>, with what uses each.</summary>
    public static IEnumerable<(UInt128 Digest, string UsedBy)> Digests(KeyProviderKind kind) =>
        Names.Where(n => n.Kind is null || n.Kind == kind)
            .Select(n => (kind == KeyProviderKind.Capi ? ContainerName.CapiDigest(n.Name) : ContainerName.CngDigest(n.Name), $"{n.Name}: {n.UsedBy}"));
}

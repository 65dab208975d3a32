namespace KeyDoctor.Formats.KeyFiles;

/// <summary>A key container whose name (and so whose file prefix) is fixed by the product that uses it.</summary>
public sealed record WellKnownContainer(string Name, KeyProviderKind Kind, string UsedBy)
{
    /// <summary>The 32-hex file prefix, computed from <see cref="Name"/> (never typed in by hand).</summary>
    public string Prefix { get; } = ContainerName.Prefix(Name, Kind);
}

/// <summary>
/// Containers that matter on IIS servers, so that a file is named even when it cannot be parsed. Every prefix
/// is computed from the name; the tests pin the ones with public evidence (see docs/formats/capi-key-file.md).
/// </summary>
public static class WellKnownContainers
{
    public static IReadOnlyList<WellKnownContainer> All { get; } =
    [
        new("Microsoft Internet Information Server", KeyProviderKind.Capi,
            "IIS 6 metabase / IIS 6 compatibility (IISADMIN): encrypts metabase secrets; signature and exchange key sets"),
        new("MS IIS DCOM Server", KeyProviderKind.Capi, "IIS 6 compatibility: inetinfo DCOM (ABO) encryption"),
        new("MS IIS DCOM Client", KeyProviderKind.Capi, "IIS 6 compatibility: ABO DCOM client side"),
        new("MS IIS DCOM ClientSYSTEMS-1-5-18", KeyProviderKind.Capi, "IIS 6 compatibility: ABO DCOM client, per-user name for SYSTEM"),
        new("iisConfigurationKey", KeyProviderKind.Capi,
            "IIS 7+ AesProvider / RsaProvider: encrypts system.webServer secrets in applicationHost.config"),
        new("iisWasKey", KeyProviderKind.Capi,
            "IIS 7+ IISWASOnlyRsaProvider / IISWASOnlyAesProvider: encrypts application-pool passwords"),
        new("iisCngConfigurationKey", KeyProviderKind.Cng, "IIS 10 IISCngProvider: system.webServer secrets"),
        new("iisCngWasKey", KeyProviderKind.Cng, "IIS 10 IISWASOnlyCngProvider: application-pool passwords"),
        new("NetFrameworkConfigurationKey", KeyProviderKind.Capi,
            ".NET RsaProtectedConfigurationProvider default (aspnet_regiis -pe)"),
        new("WMSvc Certificate Key Container", KeyProviderKind.Capi, "IIS Web Management Service (WMSvc) certificate"),
        new("IIS Express Development Certificate Container", KeyProviderKind.Capi, "IIS Express localhost certificate"),
        new("IIS Express Development Certificate Container", KeyProviderKind.Cng, "IIS Express localhost certificate (CNG)"),
        new("TSSecKeySet1", KeyProviderKind.Capi, "Remote Desktop listener certificate (RDP)"),
        new("Microsoft Connected Devices Platform device certificate", KeyProviderKind.Cng,
            "Windows Connected Devices Platform (per-user Crypto\\Keys)"),
        new("Google Chromekey1", KeyProviderKind.Cng, "Google Chrome app-bound encryption (Crypto\\SystemKeys)"),
    ];

    private static readonly Dictionary<(UInt128, KeyProviderKind), WellKnownContainer> ByPrefix =
        All.ToDictionary(c => (Digest(c), c.Kind));

    /// <summary>The well-known container with this file prefix, if any.</summary>
    public static WellKnownContainer? Find(UInt128 prefix, KeyProviderKind kind) =>
        ByPrefix.GetValueOrDefault((prefix, kind));

    /// <summary>The well-known container with this file prefix in either store, if any.</summary>
    public static WellKnownContainer? Find(UInt128 prefix) =>
        Find(prefix, KeyProviderKind.Capi) ?? Find(prefix, KeyProviderKind.Cng);

    private static UInt128 Digest(WellKnownContainer c) =>
        c.Kind == KeyProviderKind.Capi ? ContainerName.CapiDigest(c.Name) : ContainerName.CngDigest(c.Name);
}

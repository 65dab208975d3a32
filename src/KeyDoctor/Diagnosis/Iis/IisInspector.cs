using System.Xml.Linq;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Diagnosis.Iis;

/// <summary>
/// Reads the IIS configuration of an image (or one configuration file), joins it to the machine through an
/// <see cref="IIisMachineLookup"/>, and turns what it sees into an <see cref="IisReport"/> with findings.
/// An unreadable file is a finding, never an exception. This class picks the files; <see cref="IisInspection"/>
/// reads them and hands each concern to its part: <see cref="SiteBindingInspector"/> (sites, bindings, the SSL
/// chain), <see cref="CustomMetadataInspector"/> (IIS 6 customMetadata), <see cref="ProtectedConfigInspector"/>
/// (providers and encrypted values) and <see cref="MetabaseInspector"/> (IIS 6 MetaBase.xml).
/// </summary>
public static class IisInspector
{
    public const string ApplicationHostKind = "applicationHost.config";
    public const string AdministrationKind = "administration.config";
    public const string RedirectionKind = "redirection.config";
    public const string MetabaseKind = "MetaBase.xml";

    /// <summary>The CryptoAPI container that holds the IIS 6 metabase keys.</summary>
    public const string MetabaseKeyContainer = "Microsoft Internet Information Server";

    /// <summary>Inspects the IIS files of an image: a folder holding a copy of the system drive.</summary>
    /// <param name="lookup">Machine data for the SSL chain; by default the image's key folders only.</param>
    public static IisReport InspectImage(string imageRoot, IIisMachineLookup? lookup = null)
    {
        var files = IisConfigLocator.FindImageFiles(imageRoot);
        var run = new IisInspection(imageRoot, "image", lookup ?? new ImageKeyFolderLookup(files.CapiMachineKeysDirectory, files.CngMachineKeysDirectory));

        string? applicationHost = files.ApplicationHostConfig;
        string? administration = files.AdministrationConfig;
        if (files.RedirectionConfig is { } redirectionPath
            && run.ReadRedirection(redirectionPath, imageRoot) is { ApplicationHostConfig: not null } target)
        {
            // Shared configuration on: IIS reads the files at the target, not the local copies.
            applicationHost = target.ApplicationHostConfig;
            administration = target.AdministrationConfig ?? administration;
        }

        if (applicationHost is not null) run.ReadApplicationHost(applicationHost);
        else run.Missing(ApplicationHostKind, Path.Combine(files.ConfigDirectory ?? Path.Combine(imageRoot, "Windows", "System32", "inetsrv", "config"), "applicationHost.config"));
        if (administration is not null) run.ReadAdministration(administration);
        if (files.MetabaseXml is not null) run.ReadMetabase(files.MetabaseXml, files.HistoryDirectory, files.MetaBackDirectory);
        return run.Finish();
    }

    /// <summary>Inspects one file: applicationHost.config, administration.config, redirection.config or MetaBase.xml.</summary>
    public static IisReport InspectFile(string path, IIisMachineLookup? lookup = null)
    {
        var imageRoot = InferImageRoot(path);
        var defaultLookup = imageRoot is null
            ? (IIisMachineLookup)NoMachineLookup.Instance
            : LookupFor(IisConfigLocator.FindImageFiles(imageRoot));
        var run = new IisInspection(path, "file", lookup ?? defaultLookup);
        byte[] data;
        try
        {
            data = SafeXml.ReadFile(path, "IIS configuration");
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException or UnauthorizedAccessException)
        {
            run.Unreadable("unknown", path, ex.Message);
            return run.Finish();
        }

        var kind = DetectKind(path, data, out var detectProblem);
        switch (kind)
        {
            case ApplicationHostKind: run.ReadApplicationHost(path, data); break;
            case AdministrationKind: run.ReadAdministration(path, data); break;
            case RedirectionKind: run.ReadRedirection(path, imageRoot, data); break;
            case MetabaseKind:
                var inetsrv = Path.GetDirectoryName(Path.GetFullPath(path))!;
                var isLive = string.Equals(Path.GetFileName(path), "MetaBase.xml", StringComparison.OrdinalIgnoreCase);
                run.ReadMetabase(path,
                    isLive ? IisConfigLocator.FindDirectory(inetsrv, "History") : null,
                    isLive ? IisConfigLocator.FindDirectory(inetsrv, "MetaBack") : null, data);
                break;
            default: run.Unreadable("unknown", path, detectProblem ?? "not an IIS configuration file"); break;
        }
        return run.Finish();
    }

    /// <summary>Which IIS file this is: by its name first, then by its root element.</summary>
    public static string? DetectKind(string path, ReadOnlyMemory<byte> data, out string? problem)
    {
        problem = null;
        var name = Path.GetFileName(path).ToLowerInvariant();
        if (name == "applicationhost.config") return ApplicationHostKind;
        if (name == "administration.config") return AdministrationKind;
        if (name == "redirection.config") return RedirectionKind;
        if (name == "metabase.xml" || (name.StartsWith("metabase_", StringComparison.Ordinal) && name.EndsWith(".xml", StringComparison.Ordinal)))
            return MetabaseKind;
        XElement root;
        try
        {
            root = SafeXml.Load(data, "IIS configuration").Root!;
        }
        catch (MalformedDataException ex)
        {
            problem = ex.Message;
            return null;
        }
        if (root.Name.NamespaceName.StartsWith("urn:microsoft-catalog:XML_Metabase", StringComparison.OrdinalIgnoreCase))
            return MetabaseKind;
        if (root.Name.LocalName != "configuration")
        {
            problem = $"root element <{root.Name.LocalName}> is not an IIS configuration";
            return null;
        }
        if (root.Element("configurationRedirection") is not null) return RedirectionKind;
        if (root.Element("system.applicationHost") is not null) return ApplicationHostKind;
        if (root.Element("moduleProviders") is not null || root.Element("system.webServer")?.Element("management") is not null)
            return AdministrationKind;
        problem = "a <configuration> file with neither sites, shared configuration, IIS Manager settings nor a metabase";
        return null;
    }

    /// <summary>The HTTP.sys entry an https binding needs: CCS by port, SNI by host:port, else IP:port.</summary>
    public static HttpSysBindingKey? HttpSysKeyOf(IisBinding binding)
    {
        if (binding.Endpoint is not { } endpoint) return null;
        var flags = binding.SslFlags ?? SslFlags.None;
        if (flags.HasFlag(SslFlags.CentralCertStore))
            return new HttpSysBindingKey(HttpSysBindingKind.CentralCertificateStore, $"0.0.0.0:{endpoint.Port}");
        if (flags.HasFlag(SslFlags.Sni))
            return new HttpSysBindingKey(HttpSysBindingKind.Sni, $"{endpoint.Host}:{endpoint.Port}");
        var address = endpoint.Ip switch
        {
            null => "0.0.0.0",
            { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ip => $"[{ip}]",
            var ip => ip.ToString(),
        };
        return new HttpSysBindingKey(HttpSysBindingKind.IpPort, $"{address}:{endpoint.Port}");
    }

    /// <summary>The image root of a file at …\Windows\System32\inetsrv[\config]\name, else null.</summary>
    internal static string? InferImageRoot(string path)
    {
        var directory = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (directory.Name.Equals("config", StringComparison.OrdinalIgnoreCase)) directory = directory.Parent;
        string[] expected = ["inetsrv", "System32", "Windows"];
        foreach (var name in expected)
        {
            if (directory is null || !directory.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return null;
            directory = directory.Parent;
        }
        return directory?.FullName;
    }

    private static ImageKeyFolderLookup LookupFor(IisImageFiles files) =>
        new(files.CapiMachineKeysDirectory, files.CngMachineKeysDirectory);
}

namespace KeyDoctor.Formats.Iis;

/// <summary>The IIS files of a Windows image (a folder holding a copy of the system drive), each null when absent.</summary>
public sealed record IisImageFiles(
    string ImageRoot,
    string? InetsrvDirectory,
    string? ConfigDirectory,
    string? ApplicationHostConfig,
    string? AdministrationConfig,
    string? RedirectionConfig,
    string? MetabaseXml,
    string? HistoryDirectory,
    string? MetaBackDirectory,
    string? CapiMachineKeysDirectory,
    string? CngMachineKeysDirectory);

/// <summary>Where redirection.config points, and whether that place can be read from here.</summary>
/// <param name="LocalDirectory">The configured folder mapped into the image (or the live path), when it exists.</param>
public sealed record SharedConfigurationTarget(
    string ConfiguredPath,
    string? LocalDirectory,
    string? ApplicationHostConfig,
    string? AdministrationConfig,
    string? Problem);

/// <summary>
/// Finds IIS configuration inside an image with Windows path rules (case-insensitive names), and follows
/// redirection.config to the shared configuration's real location.
/// </summary>
public static class IisConfigLocator
{
    /// <summary>Directory entries examined per folder while matching a name: bounds the work on odd images.</summary>
    private const int MaxEntriesPerDirectory = 100_000;

    public static IisImageFiles FindImageFiles(string imageRoot)
    {
        var inetsrv = FindDirectory(imageRoot, "Windows", "System32", "inetsrv");
        var config = inetsrv is null ? null : FindDirectory(inetsrv, "config");
        var crypto = FindDirectory(imageRoot, "ProgramData", "Microsoft", "Crypto");
        return new IisImageFiles(
            imageRoot,
            inetsrv,
            config,
            config is null ? null : FindFile(config, "applicationHost.config"),
            config is null ? null : FindFile(config, "administration.config"),
            config is null ? null : FindFile(config, "redirection.config"),
            inetsrv is null ? null : FindFile(inetsrv, "MetaBase.xml"),
            inetsrv is null ? null : FindDirectory(inetsrv, "History"),
            inetsrv is null ? null : FindDirectory(inetsrv, "MetaBack"),
            crypto is null ? null : FindDirectory(crypto, "RSA", "MachineKeys"),
            crypto is null ? null : FindDirectory(crypto, "Keys"));
    }

    /// <summary>
    /// Maps the shared-configuration path into <paramref name="imageRoot"/> (the system drive, C: or %SystemDrive%),
    /// or uses it as is when <paramref name="imageRoot"/> is null (live machine). Network shares and other drives
    /// are not part of an image: the target then says why it cannot be read.
    /// </summary>
    public static SharedConfigurationTarget ResolveRedirection(RedirectionConfig redirection, string? imageRoot)
    {
        var configured = redirection.Path ?? "";
        if (configured.Length == 0)
            return new SharedConfigurationTarget(configured, null, null, null, "shared configuration is enabled but its path is empty");

        string? local;
        if (imageRoot is null)
        {
            local = Directory.Exists(configured) ? configured : null;
            if (local is null)
                return new SharedConfigurationTarget(configured, null, null, null, $"'{configured}' cannot be opened from this machine");
        }
        else
        {
            var expanded = configured.Replace("%SystemDrive%", "C:", StringComparison.OrdinalIgnoreCase);
            if (expanded.StartsWith(@"\\", StringComparison.Ordinal) || expanded.StartsWith("//", StringComparison.Ordinal))
                return new SharedConfigurationTarget(configured, null, null, null,
                    $"'{configured}' is a network share, which is not part of the image; copy it and pass the copy");
            if (expanded.Length < 2 || expanded[1] != ':')
                return new SharedConfigurationTarget(configured, null, null, null, $"'{configured}' is not an absolute Windows path");
            if (char.ToUpperInvariant(expanded[0]) != 'C')
                return new SharedConfigurationTarget(configured, null, null, null,
                    $"'{configured}' is on drive {char.ToUpperInvariant(expanded[0])}:, which is not part of the image");
            var segments = expanded[2..].Split('\\', '/', StringSplitOptions.RemoveEmptyEntries);
            local = FindDirectory(imageRoot, segments);
            if (local is null)
                return new SharedConfigurationTarget(configured, null, null, null, $"'{configured}' does not exist in the image");
        }
        var applicationHost = FindFile(local, "applicationHost.config");
        return new SharedConfigurationTarget(configured, local, applicationHost, FindFile(local, "administration.config"),
            applicationHost is null ? $"'{configured}' holds no applicationHost.config" : null);
    }

    /// <summary>Follows <paramref name="segments"/> below <paramref name="root"/>, matching names case-insensitively.</summary>
    public static string? FindDirectory(string root, params string[] segments)
    {
        var current = root;
        foreach (var segment in segments)
        {
            if (segment is "." or "..") return null;
            var next = Match(current, segment, directories: true);
            if (next is null) return null;
            current = next;
        }
        return Directory.Exists(current) ? current : null;
    }

    public static string? FindFile(string directory, string name) => Match(directory, name, directories: false);

    private static string? Match(string directory, string name, bool directories)
    {
        var exact = Path.Combine(directory, name);
        if (directories ? Directory.Exists(exact) : File.Exists(exact)) return exact;
        try
        {
            var entries = directories ? Directory.EnumerateDirectories(directory) : Directory.EnumerateFiles(directory);
            return entries.Take(MaxEntriesPerDirectory)
                .FirstOrDefault(e => string.Equals(Path.GetFileName(e), name, StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

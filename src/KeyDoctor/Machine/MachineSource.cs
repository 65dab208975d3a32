using KeyDoctor.Formats;

namespace KeyDoctor.Machine;

/// <summary>Opens whatever the user pointed at as one <see cref="IMachineSource"/>.</summary>
public static class MachineSource
{
    private static readonly AsyncLocal<SafeZipExtractor.Limits?> CurrentBundleLimits = new();

    /// <summary>
    /// The limits bundles are extracted with in the current flow (the CLI sets them from --max-bundle-size for the
    /// duration of one command); <see cref="SafeZipExtractor.Limits.Default"/> otherwise.
    /// </summary>
    public static SafeZipExtractor.Limits BundleLimits => CurrentBundleLimits.Value ?? SafeZipExtractor.Limits.Default;

    /// <summary>Uses <paramref name="limits"/> for every bundle opened until the result is disposed.</summary>
    public static IDisposable UseBundleLimits(SafeZipExtractor.Limits limits)
    {
        var previous = CurrentBundleLimits.Value;
        CurrentBundleLimits.Value = limits;
        return new Restore(() => CurrentBundleLimits.Value = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>
    /// A folder is an image (or an already extracted bundle when it holds a manifest); a .zip is a bundle,
    /// extracted with path checks into a private temporary folder that is deleted on dispose.
    /// </summary>
    public static IMachineSource Open(string path)
    {
        if (Directory.Exists(path))
        {
            var manifestPath = Path.Combine(path, BundleManifest.FileName);
            if (File.Exists(manifestPath))
                return new FolderMachineSource(path, MachineSourceKind.Bundle, $"bundle {path}",
                    BundleManifest.Parse(File.ReadAllBytes(manifestPath)));
            RequireSystemDrive(path);
            return new FolderMachineSource(path, MachineSourceKind.Image, $"image {path}");
        }
        if (File.Exists(path))
            return OpenBundle(path);
        throw new InputPathException($"there is no image folder or bundle {path}: check the path.");
    }

    // What the root of a system drive, copied or mounted, holds at least one of; "registry" and "traces" are the
    // folders an image may carry instead of hives (.reg exports) and beside them (Process Monitor captures).
    private static readonly string[] SystemDriveMarkers =
        ["Windows", "ProgramData", WindowsPaths.Users, "Documents and Settings", WindowsPaths.RegistryExports, "inetpub", "traces"];

    /// <summary>
    /// Refuses a folder with nothing of a Windows system drive in it: scanned, it would read as a healthy machine with
    /// nothing to check. The message says which folder under it looks like one, if any (a disk mounted one level up).
    /// </summary>
    /// <exception cref="InputPathException">The folder holds none of the drive's top-level folders.</exception>
    public static void RequireSystemDrive(string path)
    {
        if (Directory.EnumerateFileSystemEntries(path).Any(IsMarker)) return; // unreadable: the system's own error
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        var hint = name.Equals("MachineKeys", StringComparison.OrdinalIgnoreCase) || name.Equals("Keys", StringComparison.OrdinalIgnoreCase)
            ? $" For a key folder alone, use 'keydoctor keys list {path}'."
            : Directory.EnumerateDirectories(path).Order(StringComparer.Ordinal).FirstOrDefault(IsSystemDrive) is { } below
                ? $" {below} looks like one: give that folder."
                : " Give the folder that holds Windows and ProgramData (the root of the copied or mounted drive), or a bundle from 'keydoctor collect'.";
        throw new InputPathException(
            $"{path} is not a Windows system drive: it holds none of {string.Join(", ", SystemDriveMarkers)}.{hint}");
    }

    private static bool IsMarker(string entry) => SystemDriveMarkers.Contains(Path.GetFileName(entry), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="folder"/> holds one of a system drive's top-level folders; false also when it cannot be read.</summary>
    public static bool IsSystemDrive(string folder)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(folder).Any(IsMarker);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static IMachineSource OpenBundle(string zipPath)
    {
        var temp = CreatePrivateTempFolder();
        try
        {
            SafeZipExtractor.Extract(zipPath, temp, BundleLimits);
            var manifestPath = Path.Combine(temp, BundleManifest.FileName);
            if (!File.Exists(manifestPath))
                throw new MalformedDataException("bundle", 0, $"{Path.GetFileName(zipPath)} has no {BundleManifest.FileName}").InFile(zipPath);
            BundleManifest manifest;
            try
            {
                manifest = BundleManifest.Parse(File.ReadAllBytes(manifestPath));
            }
            catch (MalformedDataException ex)
            {
                throw ex.InFile(zipPath);
            }
            return new FolderMachineSource(temp, MachineSourceKind.Bundle, $"bundle {zipPath}", manifest,
                onDispose: () => TryDelete(temp));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>A new folder only the current user can read: extracted bundles may hold key files.</summary>
    public static string CreatePrivateTempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "keydoctor-" + Guid.NewGuid().ToString("N"));
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is owner-only and harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

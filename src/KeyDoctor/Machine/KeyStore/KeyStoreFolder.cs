using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>A folder of key files, and the store it belongs to when the folder name says so.</summary>
public sealed record KeyStoreFolder(string Path, KeyProviderKind? Kind)
{
    // The machine stores of every Windows layout: ProgramData on Vista and later, All Users\Application Data on 2003/XP.
    private static readonly string[][] ImageFolders =
        [.. new[] { WindowsLayout.Modern, WindowsLayout.Legacy }
            .SelectMany(layout => new[] { layout.MachineKeys, layout.CngMachineKeys, layout.CngSystemKeys })
            .Select(folder => folder.Split('\\'))];

    /// <summary>
    /// The key folders under <paramref name="path"/>: for the root of a Windows image (a folder holding
    /// ProgramData\Microsoft\Crypto, or Documents and Settings\All Users\Application Data\Microsoft\Crypto on Server
    /// 2003), RSA\MachineKeys, Keys and SystemKeys, found case-insensitively; otherwise the folder itself.
    /// </summary>
    public static IReadOnlyList<KeyStoreFolder> Locate(string path)
    {
        if (File.Exists(path))
            throw new InputPathException($"{path} is a file, and a folder of key files is needed: give the MachineKeys folder, an image root or a bundle (.zip); 'keydoctor keys show' reads one key file.");
        if (!Directory.Exists(path)) throw new InputPathException($"there is no folder {path}: check the path.");
        var found = new List<KeyStoreFolder>();
        foreach (var parts in ImageFolders)
            if (ResolveCaseInsensitive(path, parts) is { } folder)
                found.Add(new KeyStoreFolder(folder, parts[^1] == "MachineKeys" ? KeyProviderKind.Capi : KeyProviderKind.Cng));
        if (found.Count > 0) return found;
        // A drive without its stores is a copy that missed them, not a key folder whose every file is broken.
        if (KindFromName(path) is null && MachineSource.IsSystemDrive(path))
            throw new InputPathException($"{path} looks like a Windows system drive but holds none of its key stores " +
                "(ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys, Crypto\\Keys, Crypto\\SystemKeys, or Documents and Settings\\All Users\\Application Data\\Microsoft\\Crypto on " +
                "Server 2003): copy ProgramData\\Microsoft\\Crypto from the server too, or give the key folder itself.");
        return [new KeyStoreFolder(System.IO.Path.GetFullPath(path), KindFromName(path))];
    }

    /// <summary>MachineKeys and RSA\&lt;SID&gt; hold CAPI files; Keys and SystemKeys hold CNG files.</summary>
    public static KeyProviderKind? KindFromName(string path)
    {
        var full = System.IO.Path.GetFullPath(path).TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar);
        var name = System.IO.Path.GetFileName(full);
        var parent = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(full) ?? "");
        if (name.Equals("MachineKeys", StringComparison.OrdinalIgnoreCase) || parent.Equals("RSA", StringComparison.OrdinalIgnoreCase))
            return KeyProviderKind.Capi;
        if (name.Equals("Keys", StringComparison.OrdinalIgnoreCase) || name.Equals("SystemKeys", StringComparison.OrdinalIgnoreCase))
            return KeyProviderKind.Cng;
        return null;
    }

    private static string? ResolveCaseInsensitive(string root, string[] parts)
    {
        var current = root;
        foreach (var part in parts)
        {
            var exact = System.IO.Path.Combine(current, part);
            if (Directory.Exists(exact))
            {
                current = exact;
                continue;
            }
            var match = Directory.EnumerateDirectories(current)
                .FirstOrDefault(d => System.IO.Path.GetFileName(d).Equals(part, StringComparison.OrdinalIgnoreCase));
            if (match is null) return null;
            current = match;
        }
        return System.IO.Path.GetFullPath(current);
    }
}

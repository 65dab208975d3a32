using KeyDoctor.Machine;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// A bundle from 'keydoctor collect', or a path inside one as KeyDoctor prints them
/// ("web01.zip/Windows/System32/config/SYSTEM"), given to a command that reads an image folder or a file: the zip is
/// extracted with the usual checks into a private temporary folder (deleted when the bundle is disposed), the command
/// reads the folder or the file in it, and every path it prints is shown inside the zip as the user named it.
/// </summary>
internal static class BundleInput
{
    /// <summary>
    /// What to read for <paramref name="path"/>: a bundle zip's extracted folder, or the extracted file or folder a path
    /// inside one leads to (found case-insensitively); anything else as it is, with no bundle.
    /// </summary>
    public static (string Path, FolderMachineSource? Bundle) Open(CliContext context, string path)
    {
        if (IsZip(path))
        {
            var bundle = Extract(context, path, path);
            return (bundle.Root, bundle);
        }
        if (File.Exists(path) || Directory.Exists(path)) return (path, null);
        var full = Path.GetFullPath(path);
        for (var zip = Path.GetDirectoryName(full); zip is not null; zip = Path.GetDirectoryName(zip))
        {
            if (Directory.Exists(zip)) return (path, null); // a real folder: the path is simply missing
            if (!File.Exists(zip)) continue;
            if (!IsZip(zip)) return (path, null);
            var inside = full[(zip.Length + 1)..];
            // The zip as the user spelled it, so what is printed reads like what was typed.
            var typed = path.EndsWith(inside, StringComparison.Ordinal) && path.Length > inside.Length + 1
                ? path[..(path.Length - inside.Length - 1)]
                : zip;
            var bundle = Extract(context, zip, typed);
            var windowsPath = WindowsPaths.Normalize(inside);
            var local = bundle.GetLocalPath(windowsPath) ?? bundle.GetLocalDirectory(windowsPath)
                        ?? Path.Join(bundle.Root, inside); // not in the zip: the command says so, with the path shown inside it
            return (local, bundle);
        }
        return (path, null);
    }

    private static FolderMachineSource Extract(CliContext context, string zip, string typed)
    {
        var bundle = (FolderMachineSource)MachineSource.OpenBundle(zip);
        context.ShowAs(bundle.Root, typed);
        return bundle;
    }

    // By content, not extension: a local file header ("PK\3\4") or the end record of an empty archive ("PK\5\6").
    public static bool IsZip(string path)
    {
        if (!File.Exists(path)) return false;
        Span<byte> magic = stackalloc byte[4];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return stream.Read(magic) == 4 && magic[0] == (byte)'P' && magic[1] == (byte)'K'
               && ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
    }
}

using KeyDoctor.Machine;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// A bundle from 'keydoctor collect' given to a command that reads an image folder (events, certs): the zip is
/// extracted with the usual checks into a private temporary folder, the command reads that folder as the image, and
/// every path it prints is shown inside the zip as the user named it.
/// </summary>
internal static class BundleInput
{
    /// <summary>The extracted bundle when <paramref name="path"/> is a zip file, else null (the caller reads the path as it is).</summary>
    public static FolderMachineSource? OpenIfBundle(CliContext context, string path)
    {
        if (!IsZip(path)) return null;
        var bundle = (FolderMachineSource)MachineSource.OpenBundle(path);
        context.ShowAs(bundle.Root, path);
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

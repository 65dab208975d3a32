using System.Text;

namespace KeyDoctor.Cli;

/// <summary>
/// Passwords come from files (or a prompt), never from the command line, where process lists and shell history keep
/// them; key files are read whole but bounded.
/// </summary>
public static class SecretFiles
{
    /// <summary>Largest password file accepted.</summary>
    public const long MaxLength = 64 * 1024;

    /// <summary>Largest key file accepted (a PFX with its chain is a few KiB).</summary>
    public const long MaxKeyFileLength = 1 << 20;

    /// <summary>A key file's bytes (aspnet_regiis XML, PEM, PVK, PFX), read whole, refused past <see cref="MaxKeyFileLength"/>.</summary>
    public static byte[] ReadKeyFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > MaxKeyFileLength) throw new UserInputException($"{path} is {stream.Length} bytes, too large for a key file");
        var buffer = new byte[stream.Length];
        stream.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>The first line of <paramref name="path"/>; <paramref name="option"/> names the option in errors.</summary>
    public static string ReadFirstLine(string path, string option)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new UserInputException($"{option}: no such file {path}");
        if (info.Length > MaxLength) throw new UserInputException($"{option}: {path} is too large for a password file");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var line = reader.ReadLine();
        if (string.IsNullOrEmpty(line)) throw new UserInputException($"{option}: {path} is empty");
        return line;
    }
}

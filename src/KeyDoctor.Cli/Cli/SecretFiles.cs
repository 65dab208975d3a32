using System.Text;

namespace KeyDoctor.Cli;

/// <summary>Passwords come from files (or a prompt), never from the command line, where process lists and shell history keep them.</summary>
public static class SecretFiles
{
    /// <summary>Largest password file accepted.</summary>
    public const long MaxLength = 64 * 1024;

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

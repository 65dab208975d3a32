using System.Security.Cryptography;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Repair;

/// <summary>The file facts planning and applying agree on: a key file read from a snapshot, and SHA-256 as hex.</summary>
public static class RepairFiles
{
    /// <summary>
    /// A key file from <paramref name="source"/>: its path as the source spells it (a zip entry name is case-sensitive)
    /// and its bytes; null when it is missing or too large to be a key file.
    /// </summary>
    public static (string Path, byte[] Content)? ReadKeyFile(IMachineSource source, string path)
    {
        if (source.GetFile(path) is not { } file || file.Length > KeyFileInspector.MaxKeyFileLength) return null;
        using var stream = source.OpenRead(path);
        var content = new byte[file.Length];
        stream.ReadExactly(content);
        return (file.Path, content);
    }

    public static string Sha256(ReadOnlySpan<byte> content) => Convert.ToHexString(SHA256.HashData(content));

    /// <summary>True when <paramref name="content"/> hashes to <paramref name="sha256"/> (hex, either case).</summary>
    public static bool HasSha256(ReadOnlySpan<byte> content, string? sha256) =>
        string.Equals(Sha256(content), sha256, StringComparison.OrdinalIgnoreCase);
}

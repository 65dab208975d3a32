using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace KeyDoctor.Formats.Iis;

/// <summary>
/// The file-name prefix Windows gives a machine key container: MD5 of the lower-cased name plus a NUL, printed as
/// four little-endian DWORDs with %08x. CryptoAPI (RSA\MachineKeys) hashes the ANSI name and one NUL byte; CNG
/// (Crypto\Keys) hashes the UTF-16LE name and a two-byte NUL. The full name appends "_" + MachineGuid.
/// Kept internal and small on purpose: KeyDoctor.Formats.KeyFiles.ContainerName supersedes it when merged.
/// </summary>
internal static class KeyContainerFileNames
{
    public static string CapiPrefix(string containerName)
    {
        var lower = containerName.ToLowerInvariant();
        var bytes = new byte[lower.Length + 1];
        // ANSI on the servers that matter is Windows-1252; container names are ASCII in practice, Latin-1 covers both.
        Encoding.Latin1.GetBytes(lower, bytes);
        return Print(MD5.HashData(bytes));
    }

    public static string CngPrefix(string keyName)
    {
        var bytes = Encoding.Unicode.GetBytes(keyName.ToLowerInvariant() + "\0");
        return Print(MD5.HashData(bytes));
    }

    private static string Print(ReadOnlySpan<byte> digest)
    {
        var builder = new StringBuilder(32);
        for (var i = 0; i < 16; i += 4)
            builder.Append(BinaryPrimitives.ReadUInt32LittleEndian(digest[i..]).ToString("x8"));
        return builder.ToString();
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KeyDoctor.Formats.Certificates;

/// <summary>The key file a KEY_PROV_INFO leads to: folder (relative to the Windows volume) and file name.</summary>
/// <param name="Prefix">The 32 hex digits derived from the container name.</param>
/// <param name="FileName">Prefix + "_" + MachineGuid, or Prefix + "_*" when the MachineGuid is unknown.</param>
/// <param name="Directory">e.g. ProgramData\Microsoft\Crypto\RSA\MachineKeys; user keys use %APPDATA%.</param>
public sealed record ExpectedKeyFile(string Prefix, string FileName, string Directory, bool IsCng);

/// <summary>
/// The file-name rule of Windows key containers. CryptoAPI: MD5 of the lower-cased ANSI container name plus one NUL
/// byte. CNG: MD5 of the lower-cased UTF-16LE key name plus a 2-byte NUL. Either digest is printed as four
/// little-endian dwords (%08x each), then "_" and the MachineGuid.
/// (KeyDoctor.Formats.KeyFiles.ContainerName implements the same rule for the key-file reader; the two are to be
/// merged.)
/// </summary>
internal static class KeyFileNameRule
{
    public static string CapiPrefix(string containerName)
    {
        var ansi = CodePagesEncodingProvider.Instance.GetEncoding(1252) ?? Encoding.Latin1;
        var name = ansi.GetBytes(containerName.ToLowerInvariant());
        return Print(MD5.HashData([.. name, 0]));
    }

    public static string CngPrefix(string keyName)
    {
        var name = Encoding.Unicode.GetBytes(keyName.ToLowerInvariant());
        return Print(MD5.HashData([.. name, 0, 0]));
    }

    public static ExpectedKeyFile For(KeyProviderInfo info, string? machineGuid)
    {
        var container = info.ContainerName ?? "";
        var prefix = info.IsCng ? CngPrefix(container) : CapiPrefix(container);
        var fileName = prefix + "_" + (string.IsNullOrEmpty(machineGuid) ? "*" : machineGuid.ToLowerInvariant());
        var dss = info.ProviderType is 3 or 13 or 18;
        string directory = (info.IsCng, info.IsMachineKey) switch
        {
            (true, true) => @"ProgramData\Microsoft\Crypto\Keys",
            (true, false) => @"%APPDATA%\Microsoft\Crypto\Keys",
            (false, true) => dss ? @"ProgramData\Microsoft\Crypto\DSS\MachineKeys" : @"ProgramData\Microsoft\Crypto\RSA\MachineKeys",
            (false, false) => dss ? @"%APPDATA%\Microsoft\Crypto\DSS\<user SID>" : @"%APPDATA%\Microsoft\Crypto\RSA\<user SID>",
        };
        return new ExpectedKeyFile(prefix, fileName, directory, info.IsCng);
    }

    private static string Print(byte[] digest)
    {
        var builder = new StringBuilder(32);
        for (var i = 0; i < 16; i += 4)
            builder.Append(BinaryPrimitives.ReadUInt32LittleEndian(digest.AsSpan(i)).ToString("x8", CultureInfo.InvariantCulture));
        return builder.ToString();
    }
}

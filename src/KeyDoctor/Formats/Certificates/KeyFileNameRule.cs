namespace KeyDoctor.Formats.Certificates;

/// <summary>The key file a KEY_PROV_INFO leads to: folder (relative to the Windows volume) and file name.</summary>
/// <param name="Prefix">The 32 hex digits derived from the container name.</param>
/// <param name="FileName">Prefix + "_" + MachineGuid, or Prefix + "_*" when the MachineGuid is unknown.</param>
/// <param name="Directory">e.g. ProgramData\Microsoft\Crypto\RSA\MachineKeys; user keys use %APPDATA%.</param>
public sealed record ExpectedKeyFile(string Prefix, string FileName, string Directory, bool IsCng);

/// <summary>Where Windows keeps the key a KEY_PROV_INFO names; the name rule is <see cref="KeyFiles.ContainerName"/>.</summary>
internal static class KeyFileNameRule
{
    public static ExpectedKeyFile For(KeyProviderInfo info, string? machineGuid)
    {
        var prefix = info.KeyFilePrefix;
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
}

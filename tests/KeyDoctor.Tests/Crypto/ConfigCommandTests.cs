using System.Security.Cryptography;
using System.Text.Json;
using KeyDoctor.Crypto.ProtectedConfig;

namespace KeyDoctor.Tests.Crypto;

/// <summary>Round trip: a configuration written per iiscrypto.md §3 for a known key, then verified and decrypted.</summary>
public sealed class ConfigCommandTests
{
    internal static string WriteConfig(string folder, RSA aesKey, RSA wasKey, string secret)
    {
        var aesSession = RandomNumberGenerator.GetBytes(16);
        var wasSession = RandomNumberGenerator.GetBytes(16);
        var aesBlob = Convert.ToBase64String(ProtectedConfigCrypto.WrapSessionKey(aesSession, aesKey, useOaep: false));
        var wasBlob = Convert.ToBase64String(ProtectedConfigCrypto.WrapSessionKey(wasSession, wasKey, useOaep: true));
        var poolPassword = Convert.ToBase64String(ProtectedConfigCrypto.EncryptValue(wasSession, secret));
        var vdirPassword = Convert.ToBase64String(ProtectedConfigCrypto.EncryptValue(aesSession, "vdir-" + secret));
        var path = Path.Combine(folder, "applicationHost.config");
        File.WriteAllText(path, $"""
            <configuration>
              <configProtectedData>
                <providers>
                  <add name="AesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisConfigurationKey" useMachineContainer="true" useOAEP="false" sessionKey="{aesBlob}" />
                  <add name="IISWASOnlyAesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisWasKey" useMachineContainer="true" useOAEP="true" sessionKey="{wasBlob}" />
                </providers>
              </configProtectedData>
              <system.applicationHost>
                <applicationPools>
                  <add name="Pool"><processModel identityType="SpecificUser" userName="svc" password="[enc:IISWASOnlyAesProvider:{poolPassword}:enc]" /></add>
                </applicationPools>
                <sites>
                  <site name="S" id="1"><application path="/"><virtualDirectory path="/" physicalPath="c:\x" userName="u" password="[enc:AesProvider:{vdirPassword}:enc]" /></application></site>
                </sites>
              </system.applicationHost>
            </configuration>
            """);
        return path;
    }

    [Fact]
    public void VerifySaysWhichProviderTheKeyOpensAndDecryptMasksUnlessRevealed()
    {
        var folder = Directory.CreateTempSubdirectory("kd-config-").FullName;
        try
        {
            using var aesKey = RSA.Create(2048);
            using var wasKey = RSA.Create(2048);
            var config = WriteConfig(folder, aesKey, wasKey, "S3cret!");
            var keyPath = Path.Combine(folder, "iisWasKey.xml");
            File.WriteAllText(keyPath, wasKey.ToXmlString(true));

            var verify = Cli.Run("config", "verify", "--key", keyPath, config, "--json");
            Assert.Equal(0, verify.ExitCode);
            using (var json = JsonDocument.Parse(verify.Stdout))
            {
                var statuses = json.RootElement.GetProperty("providers").EnumerateArray()
                    .Select(p => p.GetProperty("name").GetString() + "=" + p.GetProperty("status").GetString());
                Assert.Equal(["AesProvider=does-not-open", "IISWASOnlyAesProvider=opens"], statuses);
            }

            var masked = Cli.Run("config", "decrypt", "--key", keyPath, config, "--json");
            Assert.Equal(1, masked.ExitCode); // the AesProvider value stays closed
            Assert.DoesNotContain("S3cret!", masked.Stdout + masked.Stderr);
            using (var json = JsonDocument.Parse(masked.Stdout))
            {
                var values = json.RootElement.GetProperty("values").EnumerateArray().ToList();
                Assert.Equal(["decrypted", "not-opened"], values.Select(v => v.GetProperty("status").GetString()));
                Assert.Equal("********", values[0].GetProperty("value").GetString());
                Assert.Equal("this key does not open provider AesProvider", values[1].GetProperty("message").GetString());
            }

            var revealed = Cli.Run("config", "decrypt", "--key", keyPath, config, "--reveal", "--json");
            Assert.Contains("\"value\":\"S3cret!\"", revealed.Stdout.Replace(" ", ""));

            var wrongKeyPath = Path.Combine(folder, "other.xml");
            using var other = RSA.Create(1024);
            File.WriteAllText(wrongKeyPath, other.ToXmlString(true));
            var wrong = Cli.Run("config", "verify", "--key", wrongKeyPath, config);
            Assert.Equal(1, wrong.ExitCode);
            Assert.Contains("this key does not open provider IISWASOnlyAesProvider (key is 1024-bit", wrong.Stdout);
            Assert.Equal("", wrong.Stderr);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void RekeyWritesANewFileThatTheNewKeyOpens()
    {
        var folder = Directory.CreateTempSubdirectory("kd-rekey-").FullName;
        try
        {
            using var aesKey = RSA.Create(2048);
            using var wasKey = RSA.Create(2048);
            using var newKey = RSA.Create(2048);
            var config = WriteConfig(folder, wasKey, wasKey, "S3cret!"); // one container for both providers
            var original = File.ReadAllText(config);
            var oldPath = Path.Combine(folder, "old.xml");
            var newPath = Path.Combine(folder, "new.xml");
            var newPublic = Path.Combine(folder, "new-public.xml");
            File.WriteAllText(oldPath, wasKey.ToXmlString(true));
            File.WriteAllText(newPath, newKey.ToXmlString(true));
            File.WriteAllText(newPublic, newKey.ToXmlString(false));

            var rekey = Cli.Run("config", "rekey", "--from", oldPath, "--to", newPublic, config, "--json");
            Assert.Equal(0, rekey.ExitCode);
            var rekeyed = Path.Combine(folder, "applicationHost.rekeyed.config");
            Assert.Equal(original, File.ReadAllText(config)); // never in place

            Assert.Equal(1, Cli.Run("config", "verify", "--key", oldPath, rekeyed).ExitCode);
            var decrypted = Cli.Run("config", "decrypt", "--key", newPath, rekeyed, "--reveal", "--json");
            Assert.Equal(0, decrypted.ExitCode);
            Assert.Contains("\"value\":\"S3cret!\"", decrypted.Stdout.Replace(" ", ""));
            Assert.Contains("\"value\":\"vdir-S3cret!\"", decrypted.Stdout.Replace(" ", ""));

            Assert.Equal(2, Cli.Run("config", "rekey", "--from", oldPath, "--to", newPublic, config).ExitCode); // exists
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}

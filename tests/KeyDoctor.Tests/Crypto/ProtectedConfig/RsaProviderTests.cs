using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KeyDoctor.Crypto.ProtectedConfig;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Tests.Crypto.ProtectedConfig;

/// <summary>
/// Native RSA protected-configuration providers (IISWASOnlyRsaProvider, type ""): values written per research §3.4
/// (cbSimpleBlob | SIMPLEBLOB(CALG_3DES) | 3DES-CBC), then verified, decrypted and re-keyed through the CLI.
/// </summary>
public sealed class RsaProviderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kd-rsaprov-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteConfig(RSA wasKey, RSA appKey, params string[] secrets)
    {
        var pool = Convert.ToBase64String(ProtectedConfigCrypto.EncryptRsaValue(secrets[0], wasKey, useOaep: false));
        var vdir = Convert.ToBase64String(ProtectedConfigCrypto.EncryptRsaValue(secrets[1], appKey, useOaep: true));
        var path = Path.Combine(_folder, "applicationHost.config");
        File.WriteAllText(path, $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <configuration>
              <configProtectedData>
                <providers>
                  <add name="IISWASOnlyRsaProvider" type="" description="Uses RsaCryptoServiceProvider to encrypt and decrypt" keyContainerName="iisWasKey" cspProviderName="" useMachineContainer="true" useOAEP="false" />
                  <add name="Rsa_app2" type="" keyContainerName="app2Key" cspProviderName="" useMachineContainer="true" useOAEP="true" />
                  <add name="IISCngProvider" type="Microsoft.ApplicationHost.CngProtectedConfigurationProvider" keyContainerName="iisCngConfigurationKey" useMachineContainer="true" />
                </providers>
              </configProtectedData>
              <system.applicationHost>
                <applicationPools>
                  <add name="Pool"><processModel identityType="SpecificUser" userName="svc" password="[enc:IISWASOnlyRsaProvider:{pool}:enc]" /></add>
                </applicationPools>
                <sites>
                  <site name="Café" id="1"><application path="/"><virtualDirectory path="/" physicalPath="c:\x" userName="u" password="[enc:Rsa_app2:{vdir}:enc]" /></application></site>
                </sites>
              </system.applicationHost>
            </configuration>
            """, new UTF8Encoding(false));
        return path;
    }

    private string KeyFile(string name, RSA key, bool includePrivate = true)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, key.ToXmlString(includePrivate));
        return path;
    }

    [Fact]
    public void ValueRoundTripsAndAWrongKeyIsNull()
    {
        using var key = RSA.Create(1024);
        using var other = RSA.Create(1024);
        var value = RsaProviderValue.Parse(ProtectedConfigCrypto.EncryptRsaValue("password1", key, useOaep: false));

        Assert.Equal(CapiAlgorithm.TripleDes, value.Header.KeyAlgorithm);
        Assert.Equal(140, value.SimpleBlob.Length); // as in Microsoft's sample: 0x8C-byte SIMPLEBLOB for RSA-1024
        Assert.Equal(32, value.CipherText.Length); // "password1": 4 + 18 + 2 = 24 bytes, padded to 32 as in the sample
        var valueKey = ProtectedConfigCrypto.TryUnwrapRsaValueKey(value, key.ExportParameters(true), useOaep: false);
        Assert.NotNull(valueKey);
        Assert.Equal("password1", ProtectedConfigCrypto.TryDecryptRsaValue(value, valueKey));
        Assert.Null(ProtectedConfigCrypto.TryUnwrapRsaValueKey(value, other.ExportParameters(true), useOaep: false));
    }

    [Fact]
    public void TruncatedAndBitFlippedValuesGiveTypedErrorsOrNull()
    {
        using var key = RSA.Create(1024);
        var payload = ProtectedConfigCrypto.EncryptRsaValue("S3cret!", key, useOaep: false);
        for (var length = 0; length < 4 + 140 + 1; length += 7)
            Assert.True(Assert.Throws<MalformedDataException>(() => RsaProviderValue.Parse(payload.AsSpan(0, length))).Offset >= 0);
        var parameters = key.ExportParameters(true);
        for (var bit = 0; bit < payload.Length * 8; bit += 5)
        {
            // The SIMPLEBLOB's reserved word and wrapping ALG_ID are not used to decrypt (CryptoAPI ignores them too).
            if (bit / 8 is 6 or 7 or (>= 12 and <= 15)) continue;
            var flipped = payload.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            string? secret = null;
            try
            {
                var value = RsaProviderValue.Parse(flipped);
                if (ProtectedConfigCrypto.TryUnwrapRsaValueKey(value, parameters, useOaep: false) is { } k)
                    secret = ProtectedConfigCrypto.TryDecryptRsaValue(value, k);
            }
            catch (MalformedDataException) { }
            // No MAC in this format: a flip in the last cipher block can still decrypt, but never to the original.
            Assert.NotEqual("S3cret!", secret);
        }
    }

    [Fact]
    public void VerifyDecryptAndRekeyThroughTheCli()
    {
        using var wasKey = RSA.Create(2048);
        using var appKey = RSA.Create(1024);
        using var newKey = RSA.Create(2048);
        var config = WriteConfig(wasKey, appKey, "pool-S3cret", "vdir-S3cret");
        var was = KeyFile("iisWasKey.xml", wasKey);

        var verify = Cli.Run("config", "verify", "--key", was, config, "--json");
        Assert.Equal(0, verify.ExitCode);
        using (var json = JsonDocument.Parse(verify.Stdout))
        {
            var providers = json.RootElement.GetProperty("providers").EnumerateArray().ToList();
            Assert.Equal(["IISWASOnlyRsaProvider=opens", "Rsa_app2=does-not-open", "IISCngProvider=not-checked"],
                providers.Select(p => p.GetProperty("name").GetString() + "=" + p.GetProperty("status").GetString()));
            Assert.Equal("this key does not open provider Rsa_app2 (key is 2048-bit, its values were wrapped with a 1024-bit key)",
                providers[1].GetProperty("message").GetString());
            Assert.Contains("not pinned down", providers[2].GetProperty("message").GetString());
        }

        var masked = Cli.Run("config", "decrypt", "--key", was, config);
        Assert.Equal(1, masked.ExitCode); // the Rsa_app2 value stays closed
        Assert.Matches(@"processModel/@password \(line \d+, IISWASOnlyRsaProvider\): \*{8}", masked.Stdout);
        Assert.Contains("this key does not open provider Rsa_app2", masked.Stdout);
        Assert.DoesNotContain("S3cret", masked.Stdout + masked.Stderr);
        var d = Convert.ToBase64String(wasKey.ExportParameters(true).D!);
        Assert.DoesNotContain(d, masked.Stdout + masked.Stderr);

        var app = KeyFile("app2.xml", appKey);
        var revealed = Cli.Run("config", "decrypt", "--key", app, config, "--reveal", "--json");
        Assert.Contains("\"value\":\"vdir-S3cret\"", revealed.Stdout.Replace(" ", ""));

        var original = File.ReadAllBytes(config);
        var output = Path.Combine(_folder, "new.config");
        var rekey = Cli.Run("config", "rekey", "--from", was, "--to", KeyFile("new-public.xml", newKey, includePrivate: false), config, "-o", output);
        Assert.Equal(1, rekey.ExitCode); // written, but Rsa_app2 and the CNG provider were not re-keyed
        Assert.Contains("IISWASOnlyRsaProvider: session key re-wrapped for the new key", rekey.Stdout);
        Assert.Equal(original, File.ReadAllBytes(config));
        var base64Run = new Regex("\\[enc:IISWASOnlyRsaProvider:[^:]+:enc\\]");
        Assert.Equal(base64Run.Replace(Encoding.UTF8.GetString(original), "#"), base64Run.Replace(File.ReadAllText(output), "#"));

        var newPrivate = KeyFile("new.xml", newKey);
        var after = Cli.Run("config", "decrypt", "--key", newPrivate, output, "--reveal", "--json");
        Assert.Contains("\"value\":\"pool-S3cret\"", after.Stdout.Replace(" ", ""));
        var oldAfter = Cli.Run("config", "verify", "--key", was, output, "--json");
        Assert.Equal(1, oldAfter.ExitCode);
        Assert.Contains("this key does not open provider IISWASOnlyRsaProvider", oldAfter.Stdout);
    }

    [Fact]
    public void RealSamplesParseAndAStrangeKeyIsAFindingNotAnException()
    {
        using var stranger = RSA.Create(1024);
        var key = KeyFile("stranger.xml", stranger);
        foreach (var sample in new[] { "iis/applicationHost.cc0.config", "iis/applicationHost.jexus-original.config" })
        {
            var path = Fixtures.Path(sample);
            var parsed = ApplicationHostConfig.Read(path);
            Assert.All(parsed.Providers.Where(p => p.HasSessionKeyAttribute), p => Assert.NotNull(p.SessionKey));
            Assert.All(parsed.EncryptedAttributes, a => Assert.NotNull(a.Value));

            var verify = Cli.Run("config", "verify", "--key", key, path, "--json");
            Assert.Equal(1, verify.ExitCode);
            Assert.Equal("", verify.Stderr);
            using var json = JsonDocument.Parse(verify.Stdout);
            foreach (var p in json.RootElement.GetProperty("providers").EnumerateArray())
            {
                var name = p.GetProperty("name").GetString()!;
                var expected = name.Contains("Aes") ? "does-not-open" : "not-checked";
                Assert.Equal(expected, p.GetProperty("status").GetString());
                if (name.Contains("Aes")) Assert.StartsWith($"this key does not open provider {name} (key is 1024-bit", p.GetProperty("message").GetString());
                if (name == "IISWASOnlyRsaProvider") Assert.Contains("encrypts no value", p.GetProperty("message").GetString());
            }
            var decrypt = Cli.Run("config", "decrypt", "--key", key, path);
            Assert.Equal("", decrypt.Stderr);
        }
        var jexus = Cli.Run("config", "decrypt", "--key", key, Fixtures.Path("iis/applicationHost.jexus-original.config"));
        Assert.Contains("this key does not open provider AesProvider", jexus.Stdout);
    }
}

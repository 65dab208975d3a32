using System.Security.Cryptography;
using System.Text.Json;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Tests.Iis;

namespace KeyDoctor.Tests.Crypto.Metabase;

public sealed class MetabaseVerifyTests
{
    [Fact]
    public void SaysWhichHalfOfTheKeySetFails()
    {
        var folder = Directory.CreateTempSubdirectory("kd-metabase-").FullName;
        try
        {
            using var exchange = RSA.Create(512);
            using var signature = RSA.Create(512);
            using var stranger = RSA.Create(512);
            var sessionKey = MetabaseBlobWriter.SessionKey(RandomNumberGenerator.GetBytes(5), exchange, signature);
            var secret = MetabaseBlobWriter.EncryptedData([1, 2, 3, 4], [1, 2, 3, 4, 5], signature);
            var metabase = Path.Combine(folder, "MetaBase.xml");
            File.WriteAllText(metabase, IisSamples.Metabase(IisCryptoBlobWriter.ToHex(sessionKey), IisCryptoBlobWriter.ToHex(secret)));

            string KeySetFile(string name, RSA exchangeKey, RSA signatureKey)
            {
                var path = Path.Combine(folder, name);
                File.WriteAllText(path, KeySetXml.Write(new KeySet("Microsoft Internet Information Server",
                [
                    new KeySetEntry(CapiKeyNumber.Exchange, exchangeKey.ExportParameters(true)),
                    new KeySetEntry(CapiKeyNumber.Signature, signatureKey.ExportParameters(true)),
                ])));
                return path;
            }

            var good = Cli.Run("metabase", "verify", "--key", KeySetFile("good.xml", exchange, signature), metabase, "--json");
            Assert.Equal(0, good.ExitCode);
            using (var json = JsonDocument.Parse(good.Stdout))
                Assert.Equal((true, true), (json.RootElement.GetProperty("exchangeKeyOpens").GetBoolean(), json.RootElement.GetProperty("signatureValid").GetBoolean()));

            var badSignature = Cli.Run("metabase", "verify", "--key", KeySetFile("sig.xml", exchange, stranger), metabase);
            Assert.Equal(1, badSignature.ExitCode);
            Assert.Contains("the AT_KEYEXCHANGE key opens the SessionKey; the AT_SIGNATURE key does not verify its signature (IISADMIN: NTE_BAD_SIGNATURE)", badSignature.Stdout);

            var badExchange = Cli.Run("metabase", "verify", "--key", KeySetFile("kx.xml", stranger, signature), metabase);
            Assert.Equal(1, badExchange.ExitCode);
            Assert.Contains("does not open the SessionKey", badExchange.Stdout);
            Assert.Contains("the AT_SIGNATURE key verifies its signature", badExchange.Stdout);
            Assert.Equal("", badExchange.Stderr);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}

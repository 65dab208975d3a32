using KeyDoctor.Formats;
using KeyDoctor.Formats.Certificates;

namespace KeyDoctor.Tests.Certificates;

public class SerializedCertificateEntryTests
{
    [Fact]
    public void BlobPropertiesCertificateAndKeyLinkAreRead()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate();
        var info = CertificateBlobBuilder.KeyProviderInfo("te-5f1c3a2e-0d7b-4c59-9a1e-2b8f6d4c7e10",
            "Microsoft Enhanced RSA and AES Cryptographic Provider", 24, 0x20, 1);
        var entry = SerializedCertificateEntry.Parse(CertificateBlobBuilder.Blob(certificate, info, "IIS site"));

        Assert.Empty(entry.Problems);
        Assert.Equal([2u, 3u, 11u, 0xC8u, 32u], entry.Properties.Select(p => p.Id).ToArray());
        Assert.Equal("CERT_KEY_PROV_INFO_PROP_ID", entry.Properties[0].Name);
        Assert.Equal("CERT_PROP_ID_0xC8", entry.Properties[3].Name);
        Assert.All(entry.Properties, p => Assert.Equal(1u, p.Reserved));
        Assert.Equal(certificate.Thumbprint, entry.ComputedSha1);
        Assert.Equal(certificate.Thumbprint, entry.StoredSha1);
        Assert.Equal("CN=keydoctor.test", entry.Certificate!.Subject);
        Assert.Equal("IIS site", entry.FriendlyName);

        var key = entry.KeyProviderInfo!;
        Assert.Equal("te-5f1c3a2e-0d7b-4c59-9a1e-2b8f6d4c7e10", key.ContainerName);
        Assert.Equal("Microsoft Enhanced RSA and AES Cryptographic Provider", key.ProviderName);
        Assert.Equal(("PROV_RSA_AES", "AT_KEYEXCHANGE", true, false), (key.ProviderTypeName, key.KeySpecName, key.IsMachineKey, key.IsCng));
        var file = key.ExpectedKeyFile("4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");
        Assert.Equal(@"ProgramData\Microsoft\Crypto\RSA\MachineKeys", file.Directory);
        Assert.Equal(file.Prefix + "_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b", file.FileName);
    }

    [Theory] // keys/VECTORS.md: published CryptoAPI container names and their file-name prefixes
    [InlineData("Microsoft Internet Information Server", "c2319c42033a5ca7f44e731bfd3fa2b5")]
    [InlineData("MS IIS DCOM Server", "7a436fe806e483969f48a894af2fe9a1")]
    [InlineData("iisConfigurationKey", "6de9cb26d2b98c01ec4e9e8b34824aa2")]
    [InlineData("iisWasKey", "76944fb33636aeddb9590521c2e8815a")]
    [InlineData("NetFrameworkConfigurationKey", "d6d986f09a1ee04e24c949879fdb506c")]
    public void CapiFileNamePrefixMatchesPublishedNames(string container, string prefix)
    {
        var info = new KeyProviderInfo(container, "Microsoft Strong Cryptographic Provider", 1, 0x20, 1, []);
        Assert.Equal(prefix, info.ExpectedKeyFile(null).Prefix);
        Assert.Equal(prefix + "_*", info.ExpectedKeyFile(null).FileName);
    }

    [Fact]
    public void CngFileNamePrefixMatchesThePublishedKey()
    {
        // keys/VECTORS.md: the real CNG key "Google Chromekey1" is stored as 7096db7a..._<MachineGuid>.
        var info = new KeyProviderInfo("Google Chromekey1", "Microsoft Software Key Storage Provider", 0, 0x20, 0, []);
        var file = info.ExpectedKeyFile("F26C165B-0000-0000-0000-000000000000");
        Assert.Equal("7096db7aeb75c0d3497ecd56d355a695", file.Prefix);
        Assert.Equal(@"ProgramData\Microsoft\Crypto\Keys", file.Directory);
        Assert.True(file.IsCng);
        Assert.EndsWith("_f26c165b-0000-0000-0000-000000000000", file.FileName, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("32 b5 39 8e 12 34 56 78 9a bc de f0 01 23 45 67 89 ab cd ef", "32B5398E123456789ABCDEF0012345678 9ABCDEF")]
    [InlineData("\u200e32b5398e123456789abcdef00123456789abcdef", "32B5398E123456789ABCDEF0012345678 9ABCDEF")]
    [InlineData("32:B5:39:8E:12:34:56:78:9A:BC:DE:F0:01:23:45:67:89:AB:CD:EF", "32B5398E123456789ABCDEF0012345678 9ABCDEF")]
    [InlineData("32b5", null)]
    [InlineData("zz b5 39 8e 12 34 56 78 9a bc de f0 01 23 45 67 89 ab cd ef", null)]
    public void ThumbprintsAreAcceptedAsCertutilAcceptsThem(string text, string? expected) =>
        Assert.Equal(expected?.Replace(" ", "", StringComparison.Ordinal), Thumbprint.Normalize(text));

    [Fact]
    public void TruncatedAndFlippedBlobsAreProblemsNotCrashes()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate();
        var blob = CertificateBlobBuilder.Blob(certificate,
            CertificateBlobBuilder.KeyProviderInfo("c", "p", 1, 0x20, 2), "n");
        Assert.Throws<MalformedDataException>(() => SerializedCertificateEntry.Parse(blob[..11]));
        var cut = SerializedCertificateEntry.Parse(blob[..(blob.Length - 10)]);
        Assert.Contains(cut.Problems, p => p.Contains("CERT_CERT_PROP_ID", StringComparison.Ordinal));
        Assert.Contains(cut.Problems, p => p.Contains("no encoded certificate", StringComparison.Ordinal));
        Assert.Null(cut.Certificate);

        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var copy = (byte[])blob.Clone();
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
            try
            {
                var entry = SerializedCertificateEntry.Parse(copy);
                _ = entry.Certificate?.Subject;
                _ = entry.KeyProviderInfo?.ExpectedKeyFile(null);
                _ = entry.FriendlyName + entry.StoredSha1 + entry.ComputedSha256;
            }
            catch (MalformedDataException) { }
        }
    }
}

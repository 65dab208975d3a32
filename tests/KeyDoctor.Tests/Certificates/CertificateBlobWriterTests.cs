using KeyDoctor.Formats.Certificates;

namespace KeyDoctor.Tests.Certificates;

/// <summary>Writing a certificate Blob back: byte-identical for what was read, and a key link added where Windows puts it.</summary>
public sealed class CertificateBlobWriterTests
{
    [Fact]
    public void ABlobReadAndWrittenIsTheSameBytes()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate();
        var blob = CertificateBlobBuilder.Blob(certificate, CertificateBlobBuilder.KeyProviderInfo("c", "p", 24, 0x20, 1), "name");
        Assert.Equal(blob, SerializedCertificateEntry.Serialize(SerializedCertificateEntry.Parse(blob).Properties));
    }

    [Fact]
    public void AKeyLinkIsInsertedBeforeLargerIdsAndReadsBackAsWritten()
    {
        using var certificate = CertificateBlobBuilder.CreateCertificate();
        var entry = SerializedCertificateEntry.Parse(CertificateBlobBuilder.Blob(certificate, null));
        var link = new KeyProviderInfo("iis-site-key", "Microsoft Enhanced RSA and AES Cryptographic Provider", 24, KeyProviderInfo.MachineKeySetFlag, 1, []);
        Assert.Equal(CertificateBlobBuilder.KeyProviderInfo("iis-site-key", "Microsoft Enhanced RSA and AES Cryptographic Provider", 24, 0x20, 1), link.Serialize());

        var relinked = SerializedCertificateEntry.Parse(SerializedCertificateEntry.Serialize(entry.WithProperty(CertificatePropertyIds.KeyProviderInfo, link.Serialize())));
        Assert.Equal([2u, 3u, 0xC8u, 32u], relinked.Properties.Select(p => p.Id));
        Assert.Equal(link with { Parameters = relinked.KeyProviderInfo!.Parameters }, relinked.KeyProviderInfo);
        Assert.Equal(certificate.RawData, relinked.EncodedCertificate);
        Assert.Empty(relinked.Problems);

        // Set again: replaced in place, not added twice.
        var twice = SerializedCertificateEntry.Parse(SerializedCertificateEntry.Serialize(relinked.WithProperty(CertificatePropertyIds.KeyProviderInfo, link.Serialize())));
        Assert.Single(twice.Properties, p => p.Id == CertificatePropertyIds.KeyProviderInfo);
    }
}

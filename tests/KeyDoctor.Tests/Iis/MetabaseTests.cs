using System.Text;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Tests.Iis;

public class MetabaseTests
{
    private static readonly (System.Security.Cryptography.RSA Exchange, System.Security.Cryptography.RSA Signature) Keys =
        IisSamples.MetabaseKeys();

    private static readonly (string SessionKeyHex, string SecretHex) Blobs = IisSamples.MetabaseBlobs(Keys.Exchange, Keys.Signature);

    private static MetabaseXml Parse(string xml) => MetabaseXml.Parse(Encoding.UTF8.GetBytes(xml));

    [Fact]
    public void ValidSessionKeyAndSecurePropertiesAreRead()
    {
        var metabase = Parse(IisSamples.Metabase(Blobs.SessionKeyHex, Blobs.SecretHex));

        Assert.Equal("urn:microsoft-catalog:XML_Metabase_V64_0", metabase.Namespace);
        Assert.Equal((443L, 6L), (metabase.Global!.ChangeNumber!.Value, metabase.Global.HistoryMajorVersion!.Value));
        var sessionKey = metabase.SessionKey;
        Assert.Equal(MetabaseBlobStatus.Valid, sessionKey.Status);
        Assert.Equal((512, 64), (sessionKey.Blob!.SimpleBlob.WrappingKeyBits, sessionKey.Blob.SignedHashLength));
        Assert.True(sessionKey.Blob.VerifySignature(Keys.Signature));

        Assert.Equal(
            [("IIsWebService", "/LM/W3SVC", "AnonymousUserPass", (uint?)6021), ("IIsWebServer", "/LM/W3SVC/1", "DeploymentPassword", 50001)],
            metabase.SecureProperties.Select(p => (p.KeyType, p.Location, p.Name, p.Id)));
        Assert.All(metabase.SecureProperties, p =>
        {
            Assert.Equal(MetabaseBlobStatus.Valid, p.Status);
            Assert.Equal(4 + 28, p.EncryptedDataLength); // reserved DWORD + "IUSR-pass-123" + NUL in UTF-16
        });

        var site = metabase.Keys.Single(k => k.Location == "/LM/W3SVC/1");
        Assert.Equal((1L, "Default Web Site"), (site.SiteId!.Value, site.ServerComment));
        Assert.Equal([":80:", "10.0.0.5:8080:www.example.com"], site.ServerBindings);
        Assert.Equal([":443:"], site.SecureBindings);
        Assert.Equal((IisSamples.Thumbprint, "MY"), (site.SslCertHash, site.SslStoreName));
        var intranet = metabase.Keys.Single(k => k.Location == "/LM/W3SVC/2");
        Assert.Equal("00112233445566778899AABBCCDDEEFF00112233", intranet.SslCertHash); // from <Custom ID="5506">
        Assert.Empty(metabase.Problems);
    }

    [Fact]
    public void DamagedSessionKeyIsReportedPreciselyNotThrown()
    {
        // Drop the last signature byte: BlobDataLength no longer fits what follows.
        var damaged = Blobs.SessionKeyHex[..^2];
        var sessionKey = Parse(IisSamples.Metabase(damaged, Blobs.SecretHex)).SessionKey;

        Assert.Equal(MetabaseBlobStatus.Malformed, sessionKey.Status);
        Assert.Equal(4, sessionKey.Offset);
        Assert.Equal("IIS_CRYPTO_BLOB: BlobDataLength is 152 but only 151 bytes follow the header (at offset 0x4)", sessionKey.Problem);
    }

    [Fact]
    public void SessionKeyOfTheWrongKindIsMalformed()
    {
        var sessionKey = Parse(IisSamples.Metabase(Blobs.SecretHex, Blobs.SecretHex)).SessionKey;
        Assert.Equal((MetabaseBlobStatus.Malformed, "SessionKey is a EncryptedData blob, not a session key (IcKb)"),
            (sessionKey.Status, sessionKey.Problem));
    }

    [Fact]
    public void MissingSessionKeyIsReported()
    {
        var sessionKey = Parse(IisSamples.Metabase(null, Blobs.SecretHex)).SessionKey;
        Assert.Equal((MetabaseBlobStatus.Missing, "IIS_Global has no SessionKey"), (sessionKey.Status, sessionKey.Problem));
    }

    [Fact]
    public void DamagedSecurePropertyIsReportedPerProperty()
    {
        var metabase = Parse(IisSamples.Metabase(Blobs.SessionKeyHex, "49634462ffff"));
        Assert.All(metabase.SecureProperties, p =>
        {
            Assert.Equal(MetabaseBlobStatus.Malformed, p.Status);
            Assert.Contains("needs 4 bytes but only 2 remain", p.Problem);
        });
    }

    [Fact]
    public void OtherXmlIsNotAMetabase()
    {
        var ex = Assert.Throws<MalformedDataException>(() => Parse("<configuration><system.webServer/></configuration>"));
        Assert.Contains("not an IIS 6 metabase", ex.Reason);
        ex = Assert.Throws<MalformedDataException>(() => Parse(IisSamples.Metabase(Blobs.SessionKeyHex, Blobs.SecretHex, ns: "urn:example")));
        Assert.Contains("is not urn:microsoft-catalog:XML_Metabase", ex.Reason);
    }

    [Fact]
    public void HistoryPicksTheNewestRestorableCopy()
    {
        using var image = new TempImage();
        var good = IisSamples.Metabase(Blobs.SessionKeyHex, Blobs.SecretHex);
        image.Write(@"History\MetaBase_0000000006_0000000000.xml", good);
        image.Write(@"History\MBSchema_0000000006_0000000000.xml", "<MBSchema/>");
        image.Write(@"History\MetaBase_0000000006_0000000002.xml", IisSamples.Metabase(Blobs.SessionKeyHex[..^2], Blobs.SecretHex));
        image.Write(@"History\MBSchema_0000000006_0000000002.xml", "<MBSchema/>");
        image.Write(@"History\MetaBase_0000000007_0000000000.xml", good); // its schema is missing
        image.Write(@"History\MetaBase_0000000005_0000000009.xml", good);
        image.Write(@"History\MBSchema_0000000005_0000000009.xml", "<MBSchema/>");
        image.Write(@"History\notes.txt", "");

        var history = MetabaseHistory.Scan(Path.Combine(image.Root, "History"));
        Assert.Equal([(7L, 0L), (6, 2), (6, 0), (5, 9)], history.Select(e => (e.MajorVersion, e.MinorVersion)));

        var choice = MetabaseHistory.PickLastGood(history);
        Assert.Equal((6L, 0L), (choice.Chosen!.MajorVersion, choice.Chosen.MinorVersion));
        Assert.Equal(["no matching MBSchema file", "SessionKey Malformed: IIS_CRYPTO_BLOB: BlobDataLength is 152 but only 151 bytes follow the header (at offset 0x4)"],
            choice.Rejected.Select(r => r.Reason));
    }

    [Fact]
    public void TwoNamesOfOneVersionResolveByNameNotByDirectoryOrder()
    {
        using var image = new TempImage();
        // The same version spelt three ways: the ordinal-first name wins on every OS, in every directory order.
        image.Write(@"History\MetaBase_7_0.xml", "<a/>");
        image.Write(@"History\MetaBase_0000000007_0000000000.xml", "<b/>");
        image.Write(@"History\metabase_07_00.xml", "<c/>");
        var entry = Assert.Single(MetabaseHistory.Scan(Path.Combine(image.Root, "History")));
        Assert.Equal("MetaBase_0000000007_0000000000.xml", Path.GetFileName(entry.MetabasePath));
    }

    [Fact]
    public void MetaBackBackupsAreListedByNameAndVersion()
    {
        using var image = new TempImage();
        image.Touch(@"MetaBack\Before SSL.MD0");
        image.Touch(@"MetaBack\Before SSL.SC0");
        image.Touch(@"MetaBack\Before SSL.MD1");
        image.Touch(@"MetaBack\nightly.md3");
        image.Touch(@"MetaBack\nightly.sc3");

        var backups = MetabaseHistory.ScanBackups(Path.Combine(image.Root, "MetaBack"));
        Assert.Equal([("Before SSL", 1, false), ("Before SSL", 0, true), ("nightly", 3, true)],
            backups.Select(b => (b.Name, b.Version, b.SchemaPath is not null)));
    }
}

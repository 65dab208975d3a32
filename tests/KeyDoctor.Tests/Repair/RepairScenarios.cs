using System.Security.Cryptography;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Repair;

/// <summary>One broken server per repairable check, as the scan tests break them (built, ready to scan).</summary>
internal static class RepairScenarios
{
    public const string StaleHash = "0123456789ABCDEF0123456789ABCDEF01234567";

    public static readonly IReadOnlyDictionary<string, Func<ScanImage>> ByFinding = new Dictionary<string, Func<ScanImage>>
    {
        ["KD1001"] = () =>
        {
            var image = ScanImage.Healthy(out _);
            using var rsa = RSA.Create(1024);
            for (var i = 0; i < 5; i++) image.KeyFile($"old-container-{i}", rsa, ScanImage.OldGuid);
            image.KeyFile("iisConfigurationKey", rsa, ScanImage.OldGuid);
            return Built(image);
        },
        ["KD1002"] = () =>
        {
            var image = ScanImage.Healthy(out _);
            var (exchange, signature) = Iis.IisSamples.MetabaseKeys();
            var (sessionKey, secret) = Iis.IisSamples.MetabaseBlobs(exchange, signature);
            image.Put(@"Windows\System32\inetsrv\MetaBase.xml", Iis.IisSamples.Metabase(sessionKey, secret));
            return Built(image);
        },
        ["KD1003"] = () =>
        {
            var image = Built(ScanImage.Healthy(out _));
            var path = Directory.GetFiles(Path.Combine(image.Root, "ProgramData/Microsoft/Crypto/RSA/MachineKeys")).Single();
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..200]);
            return image;
        },
        ["KD1004"] = () =>
        {
            var image = Built(ScanImage.Healthy(out _));
            var manifest = new BundleManifest
            {
                CreatedUtc = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
                Directories = { new BundleEntry(WindowsPaths.MachineKeys) { Attributes = NtfsAttributes.Compressed, Sddl = "O:SYG:SYD:PAI(A;;FA;;;BA)(A;;FA;;;SY)" } },
            };
            File.WriteAllBytes(Path.Combine(image.Root, BundleManifest.FileName), manifest.ToJson());
            return image;
        },
        ["KD2001"] = () => Bound(image => image.Certificate("CN=nokey", "c", keyLink: false).Certificate.Thumbprint),
        ["KD2002"] = () =>
        {
            var image = Bound(i => i.Certificate("CN=dragged", "dragged-key", keyFile: false).Certificate.Thumbprint);
            image.Put($@"Users\alice\AppData\Roaming\Microsoft\Crypto\RSA\S-1-5-21-1-2-3-1001\{ContainerName.CapiPrefix("dragged-key")}_{ScanImage.Guid}", "k");
            return image;
        },
        ["KD2003"] = () => Bound(image => image.Certificate("CN=sig", "sig-key", keySpec: 2).Certificate.Thumbprint),
        ["KD2004"] = () =>
        {
            // The bound certificate is gone; a valid one for the site's host name is in the store.
            var image = new ScanImage();
            image.Certificate("CN=shop.example.com", "renewed-key");
            image.HttpSysBinding("0.0.0.0:443", StaleHash);
            image.Site("Shop", 1, "*:443:shop.example.com");
            return Built(image);
        },
        ["KD2005"] = () =>
        {
            var image = ScanImage.Healthy(out _);
            image.ExtraApplicationHost = StaleCustomMetadata;
            return Built(image);
        },
        ["KD2006"] = () =>
        {
            var image = ScanImage.Healthy(out _);
            image.Site("Other", 2, "*:8443:");
            return Built(image);
        },
        ["KD2007"] = () => Bound(image => image.Certificate("CN=old", "old-key", notAfter: new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)).Certificate.Thumbprint),
        ["KD2008"] = () => Bound(image => image.Certificate("CN=lost", "lost-key", keyFile: false).Certificate.Thumbprint),
        ["KD2009"] = () => Bound(image =>
        {
            var thumbprint = image.Certificate("CN=swapped", "swapped-key", keyFile: false).Certificate.Thumbprint;
            using var other = RSA.Create(2048);
            image.KeyFile("swapped-key", other);
            return thumbprint;
        }),
        ["KD3001"] = () =>
        {
            var image = ScanImage.Healthy(out _);
            image.Providers = $"""<add name="AesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisConfigurationKey" useMachineContainer="true" sessionKey="{Iis.IisSamples.AesSessionKey}" />""";
            image.ExtraApplicationHost = """<applicationPools><add name="p"><processModel password="[enc:AesProvider:wI5whfVYdG8CDd+HEpQ4EdjgdQSTp6RWGRhRNrNLs1NWfEyJeukGRB33KtflqTG5pwBdpFCeEY1j8wigviESNw==:enc]" /></add></applicationPools>""";
            return Built(image);
        },
    };

    /// <summary>A customMetadata section whose 5506 names a certificate that is not in the store (with 5511 and an unrelated property kept).</summary>
    public const string StaleCustomMetadata =
        "\r\n    <customMetadata>\r\n" +
        "        <!-- written by an ABO tool -->\r\n" +
        "        <key path=\"LM/W3SVC/1\">\r\n" +
        "            <property id=\"5506\" dataType=\"Binary\" userType=\"1\" attributes=\"None\" value=\"ABEiM0RVZneImaq7zN3u/wARIjM=\" />\r\n" +
        "            <property id=\"5511\" dataType=\"String\" userType=\"1\" attributes=\"None\" value=\"MY\" />\r\n" +
        "        </key>\r\n" +
        "        <key path=\"LM/W3SVC/INFO\">\r\n" +
        "            <property id=\"4012\" dataType=\"String\" userType=\"1\" attributes=\"None\" value=\"NCSA Common Log File Format\" />\r\n" +
        "        </key>\r\n" +
        "    </customMetadata>\r\n";

    private static ScanImage Bound(Func<ScanImage, string> certificate)
    {
        var image = new ScanImage();
        image.HttpSysBinding("0.0.0.0:443", certificate(image));
        image.Site("S", 1, "*:443:");
        return Built(image);
    }

    private static ScanImage Built(ScanImage image)
    {
        image.Build();
        return image;
    }
}

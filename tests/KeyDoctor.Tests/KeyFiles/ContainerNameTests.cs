using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Tests.KeyFiles;

public class ContainerNameTests
{
    // VECTORS.md "CAPI container file names" plus the two real files' names.
    [Theory]
    [InlineData("Microsoft Internet Information Server", "c2319c42033a5ca7f44e731bfd3fa2b5")]
    [InlineData("MS IIS DCOM Server", "7a436fe806e483969f48a894af2fe9a1")]
    [InlineData("iisConfigurationKey", "6de9cb26d2b98c01ec4e9e8b34824aa2")]
    [InlineData("iisWasKey", "76944fb33636aeddb9590521c2e8815a")]
    [InlineData("NetFrameworkConfigurationKey", "d6d986f09a1ee04e24c949879fdb506c")]
    [InlineData("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", "79e1ac78150e8bea8ad238e14d63145b")]
    [InlineData("winetest", "9d20fd8d05ed2b8455d125d0bf6d6a70")] // Wine rsaenh test, checked against Windows
    [InlineData("JoeSoft", "7b90a71bfc56f2582e916a51aed6df9a")] // a published certutil -store listing
    public void CapiPrefixMatchesPublishedNames(string container, string prefix)
    {
        Assert.Equal(prefix, ContainerName.CapiPrefix(container));
        Assert.Equal(prefix, ContainerName.CapiPrefix(container.ToUpperInvariant()));
    }

    [Theory]
    [InlineData("Google Chromekey1", "7096db7aeb75c0d3497ecd56d355a695")]
    [InlineData("Microsoft Connected Devices Platform device certificate", "de7cf8a7901d2ad13e5c67c29e5d1662")]
    [InlineData("iisCngConfigurationKey", "f0e91f6485ac2d09485e4ec18135601e")]
    [InlineData("iisCngWasKey", "597367cc37b886d7ee6c493e3befb421")]
    public void CngPrefixMatchesPublishedNames(string name, string prefix) =>
        Assert.Equal(prefix, ContainerName.CngPrefix(name));

    [Fact]
    public void CapiAndCngPrefixesDifferForTheSameName() =>
        Assert.NotEqual(ContainerName.CapiPrefix("iisWasKey"), ContainerName.CngPrefix("iisWasKey"));

    [Fact]
    public void FileNameSplitsIntoPrefixAndGuid()
    {
        Assert.True(ContainerName.TrySplitFileName(KeyFixtures.MimikatzCapiName, out var prefix, out var guid));
        Assert.Equal("79e1ac78150e8bea8ad238e14d63145b", ContainerName.Format(prefix));
        Assert.Equal(Guid.Parse("4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b"), guid);
        Assert.Equal(KeyFixtures.MimikatzCapiName,
            ContainerName.FileName("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", KeyProviderKind.Capi, guid!.Value));

        Assert.True(ContainerName.TrySplitFileName("79e1ac78150e8bea8ad238e14d63145b", out _, out var none));
        Assert.Null(none);
        Assert.True(ContainerName.TrySplitFileName("79E1AC78150E8BEA8AD238E14D63145B_not-a-guid", out var upper, out none));
        Assert.Equal(prefix, upper);
        Assert.Null(none);
        Assert.False(ContainerName.TrySplitFileName("desktop.ini", out _, out _));
        Assert.False(ContainerName.TrySplitFileName("79e1ac78150e8bea8ad238e14d63145g_x", out _, out _));
    }

    [Fact]
    public void StoredAnsiBytesHashLikeTheName()
    {
        var bytes = "Microsoft Internet Information Server"u8;
        Assert.Equal("c2319c42033a5ca7f44e731bfd3fa2b5", ContainerName.Format(ContainerName.CapiDigest(bytes)));
    }

    [Fact]
    public void CatalogueContainsTheVectorNamesWithTheirPublishedPrefixes()
    {
        var expected = new Dictionary<string, string>
        {
            ["Microsoft Internet Information Server"] = "c2319c42033a5ca7f44e731bfd3fa2b5",
            ["MS IIS DCOM Server"] = "7a436fe806e483969f48a894af2fe9a1",
            ["iisConfigurationKey"] = "6de9cb26d2b98c01ec4e9e8b34824aa2",
            ["iisWasKey"] = "76944fb33636aeddb9590521c2e8815a",
            ["NetFrameworkConfigurationKey"] = "d6d986f09a1ee04e24c949879fdb506c",
            ["WMSvc Certificate Key Container"] = "bedbf0b4da5f8061b6444baedf4c00b1",
            ["IIS Express Development Certificate Container"] = "fad662b360941f26a1193357aab3c12d",
            ["TSSecKeySet1"] = "f686aace6942fb7f7ceb231212eef4a4",
        };
        foreach (var (name, prefix) in expected)
        {
            var entry = Assert.Single(WellKnownContainers.All, c => c.Name == name && c.Kind == KeyProviderKind.Capi);
            Assert.Equal(prefix, entry.Prefix);
            Assert.True(ContainerName.TryParsePrefix(prefix, out var digest));
            Assert.Same(entry, WellKnownContainers.Find(digest, KeyProviderKind.Capi));
        }
        var cng = Assert.Single(WellKnownContainers.All, c => c.Name == "iisCngConfigurationKey");
        Assert.Equal(KeyProviderKind.Cng, cng.Kind);
        Assert.Equal("f0e91f6485ac2d09485e4ec18135601e", cng.Prefix);
        Assert.Equal("597367cc37b886d7ee6c493e3befb421", Assert.Single(WellKnownContainers.All, c => c.Name == "iisCngWasKey").Prefix);
        // Every catalogue prefix is distinct within its store.
        Assert.Equal(WellKnownContainers.All.Count, WellKnownContainers.All.Select(c => (c.Prefix, c.Kind)).Distinct().Count());
    }
}

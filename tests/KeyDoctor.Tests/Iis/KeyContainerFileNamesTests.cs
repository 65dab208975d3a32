using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Tests.Iis;

public class KeyContainerFileNamesTests
{
    [Theory] // ../shared/fixtures/keys/VECTORS.md
    [InlineData("Microsoft Internet Information Server", "c2319c42033a5ca7f44e731bfd3fa2b5")]
    [InlineData("MS IIS DCOM Server", "7a436fe806e483969f48a894af2fe9a1")]
    [InlineData("iisConfigurationKey", "6de9cb26d2b98c01ec4e9e8b34824aa2")]
    [InlineData("iisWasKey", "76944fb33636aeddb9590521c2e8815a")]
    [InlineData("NetFrameworkConfigurationKey", "d6d986f09a1ee04e24c949879fdb506c")]
    [InlineData("IISWASKEY", "76944fb33636aeddb9590521c2e8815a")]
    public void CapiPrefixMatchesKnownMachineKeyFiles(string container, string prefix) =>
        Assert.Equal(prefix, KeyContainerFileNames.CapiPrefix(container));

    [Fact]
    public void CngPrefixMatchesTheRealChromeKeyFile()
    {
        var name = Path.GetFileName(Directory.GetFiles(Fixtures.Path("keys/nemesis"), "7096db7a*").Single());
        Assert.StartsWith(KeyContainerFileNames.CngPrefix("Google Chromekey1") + "_", name);
    }
}

using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Tests.Iis;

public class RedirectionAndAdministrationTests
{
    [Fact]
    public void RedirectionConfigKeepsTheEncryptedPasswordButNeverAPlainOne()
    {
        var encrypted = RedirectionConfig.Parse(Encoding.UTF8.GetBytes("""
            <configuration>
              <configProtectedData><providers>
                <add name="IISRsaProvider" type="" keyContainerName="iisConfigurationKey" useMachineContainer="true" useOAEP="false" />
              </providers></configProtectedData>
              <configurationRedirection enabled="true" path="\\fs01\iisconfig$" userName="CONTOSO\iis"
                password="[enc:IISRsaProvider:jAAAAAECAAADZgAAAKQAAAUkBfhWFbUHIt/qtlo+:enc]" />
            </configuration>
            """));
        Assert.True(encrypted.Enabled);
        Assert.Equal((@"\\fs01\iisconfig$", @"CONTOSO\iis"), (encrypted.Path, encrypted.UserName));
        Assert.Equal(RedirectionPasswordKind.Encrypted, encrypted.PasswordKind);
        Assert.Equal(("IISRsaProvider", 30), (encrypted.Password!.Provider, encrypted.Password.CiphertextLength));
        Assert.Equal("iisConfigurationKey", encrypted.Providers.Single().KeyContainerName);
        Assert.Equal("6de9cb26d2b98c01ec4e9e8b34824aa2", encrypted.Providers.Single().ExpectedKeyFilePrefix);

        var plain = RedirectionConfig.Parse(Encoding.UTF8.GetBytes(
            """<configuration><configurationRedirection enabled="maybe" path="C:\x" password="hunter2" /></configuration>"""));
        Assert.False(plain.Enabled);
        Assert.Equal(RedirectionPasswordKind.Plaintext, plain.PasswordKind);
        Assert.Null(plain.Password);
        Assert.DoesNotContain("hunter2", plain.ToString());
        Assert.Equal("enabled is 'maybe', not true or false", Assert.Single(plain.Problems).Message);

        var off = RedirectionConfig.Parse(Encoding.UTF8.GetBytes("<configuration />"));
        Assert.Equal((false, RedirectionPasswordKind.None), (off.Enabled, off.PasswordKind));
    }

    [Fact]
    public void AdministrationConfigListsTheProvidersItsValuesNeed()
    {
        var config = AdministrationConfig.Parse(Encoding.UTF8.GetBytes("""
            <configuration>
              <moduleProviders><add name="SSL" type="Microsoft.Web.Management.Iis.Ssl.SslModuleProvider" /></moduleProviders>
              <system.webServer><management><authentication><credentials>
                <add name="alice" password="[enc:AesProvider:AAAAAAAAAAAAAAAAAAAAAA==:enc]" />
                <add name="bob" password="[enc:IISCngProvider:AAAA:enc]" />
                <add name="carol" password="[enc:AesProvider:AAAA:enc]" />
              </credentials></authentication></management></system.webServer>
            </configuration>
            """));
        Assert.Empty(config.Providers);
        Assert.Equal(["AesProvider", "IISCngProvider"], config.ReferencedProviders);
        Assert.Equal("configuration/system.webServer/management/authentication/credentials/add[@name='bob']",
            config.EncryptedAttributes[1].ElementPath);
    }

    [Fact]
    public void RedirectionPathsAreMappedIntoTheImageCaseInsensitively()
    {
        using var image = new TempImage();
        image.Write(@"Shared\IIS\applicationHost.config", "<configuration/>");
        var redirection = RedirectionConfig.Parse(Encoding.UTF8.GetBytes(
            """<configuration><configurationRedirection enabled="true" path="c:\SHARED\iis\" /></configuration>"""));

        var target = IisConfigLocator.ResolveRedirection(redirection, image.Root);
        Assert.Null(target.Problem);
        Assert.EndsWith(Path.Combine("Shared", "IIS", "applicationHost.config"), target.ApplicationHostConfig);
        Assert.Null(target.AdministrationConfig);

        var escape = RedirectionConfig.Parse(Encoding.UTF8.GetBytes(
            """<configuration><configurationRedirection enabled="true" path="C:\..\..\etc" /></configuration>"""));
        Assert.Equal("'C:\\..\\..\\etc' does not exist in the image", IisConfigLocator.ResolveRedirection(escape, image.Root).Problem);
    }

    [Fact]
    public void RedirectionFileThatIsNotXmlThrowsMalformed()
    {
        var ex = Assert.Throws<MalformedDataException>(() => RedirectionConfig.Parse("\u00ff\u00fe<"u8.ToArray()));
        Assert.Equal("redirection.config", ex.Format);
    }
}

using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Tests.Iis;

/// <summary>A throw-away image folder (a fake system drive) for tests that need files on disk.</summary>
public sealed class TempImage : IDisposable
{
    public TempImage() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "kd-iis-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes a file at a Windows-style relative path (backslashes allowed) and returns its full path.</summary>
    public string Write(string relative, string content)
    {
        var path = Path.Combine(Root, relative.Replace('\\', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    public string Touch(string relative) => Write(relative, "");

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Builds IIS configuration text for tests.</summary>
public static class IisSamples
{
    public const string Thumbprint = "A178873B314030E17463122E23BB285AF0C51338";

    /// <summary>The thumbprint as customMetadata stores it; equals the KB 2025598 sample value oXiHOzFAMOF0YxIuI7soWvDFEzg=.</summary>
    public static string ThumbprintBase64 => Convert.ToBase64String(Convert.FromHexString(Thumbprint));

    public const string AesSessionKey =
        "AQIAAA5mAAAApAAAOHu5OC3Qn3oIUM4NSrhagz4EYLTYlfupe8w2DVcit4toBSCYpbis44B4DB+uf0tH4PLtc9Wk75RQapnIXDfsyocG5uxuLn72M9sOCAw1bsrhlaPGffEc5FzF4QRMwCRvR2eClfzOAKs8UipoMvQjuPk2MR74p7J5vRYrIlq/lfnSqKSk1pIQGnoazCCbVxLL3hUwdh+Rdg0E3qVvuVAHYamOKQOS22wxAKlzjXafaQAxr69f/L8kAdbn65JwE5cEp+baLtkMqcGDXei73gYysLJkWL/d/6wKskG75RBLwYtMEw+oeKY54ZvEB1zHt3lBb/zwqOEOCIcdAGd/Rhv3vA==";

    /// <summary>An applicationHost.config with one https site, customMetadata 5506/5511 for it, and an encrypted password.</summary>
    public static string ApplicationHostWithLegacyHash(string thumbprintBase64) => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <configuration>
            <configProtectedData>
                <providers>
                    <add name="AesProvider" type="Microsoft.ApplicationHost.AesProtectedConfigurationProvider" keyContainerName="iisConfigurationKey" cspProviderName="" useOAEP="false" useMachineContainer="true" sessionKey="{AesSessionKey}" />
                </providers>
            </configProtectedData>
            <system.applicationHost>
                <applicationPools>
                    <add name="Shop" >
                        <processModel identityType="SpecificUser" userName="shop" password="[enc:AesProvider:wI5whfVYdG8CDd+HEpQ4EdjgdQSTp6RWGRhRNrNLs1NWfEyJeukGRB33KtflqTG5pwBdpFCeEY1j8wigviESNw==:enc]" />
                    </add>
                </applicationPools>
                <customMetadata>
                    <key path="LM/W3SVC/7">
                        <property id="5506" dataType="Binary" userType="1" attributes="None" value="{thumbprintBase64}" />
                        <property id="5511" dataType="String" userType="1" attributes="None" value="MY" />
                        <property id="1023" dataType="MultiSZ" value=":80:" />
                    </key>
                </customMetadata>
                <sites>
                    <site name="Shop" id="7">
                        <application path="/" applicationPool="Shop">
                            <virtualDirectory path="/" physicalPath="D:\sites\shop" />
                        </application>
                        <bindings>
                            <binding protocol="https" bindingInformation="10.0.0.5:443:" sslFlags="0" />
                            <binding protocol="https" bindingInformation="*:443:shop.example.com" sslFlags="1" />
                            <binding protocol="https" bindingInformation="[::]:8443:" />
                            <binding protocol="https" bindingInformation="*:443:ccs.example.com" sslFlags="Sni, CentralCertStore" />
                            <binding protocol="net.tcp" bindingInformation="808:*" />
                        </bindings>
                    </site>
                </sites>
            </system.applicationHost>
        </configuration>
        """;

    /// <summary>A MetaBase.xml with the given IIS_Global SessionKey attribute (omitted when null).</summary>
    public static string Metabase(string? sessionKeyHex, string anonymousUserPassHex, string ns = "urn:microsoft-catalog:XML_Metabase_V64_0")
    {
        var sessionKey = sessionKeyHex is null ? "" : $"\n        SessionKey=\"{sessionKeyHex}\"";
        return $"""
            <?xml version ="1.0"?>
            <configuration xmlns="{ns}">
            <MBProperty>
            <IIS_Global	Location ="."
                    BINSchemaTimeStamp="248e296f33bfc201"
                    ChangeNumber="443"
                    HistoryMajorVersionNumber="6"{sessionKey}
                    XMLSchemaTimeStamp="a4c7356f33bfc201"
                >
            </IIS_Global>
            <IIsWebService	Location ="/LM/W3SVC"
                    AnonymousUserPass="{anonymousUserPassHex}"
                    AppPoolId="DefaultAppPool"
                >
            </IIsWebService>
            <IIsWebServer	Location ="/LM/W3SVC/1"
                    SecureBindings=":443:"
                    ServerBindings=":80:
                        10.0.0.5:8080:www.example.com"
                    ServerComment="Default Web Site"
                    SSLCertHash="a178873b314030e17463122e23bb285af0c51338"
                    SSLStoreName="MY"
                >
                <Custom
                    Name="DeploymentPassword"
                    ID="50001"
                    Value="{anonymousUserPassHex}"
                    Type="STRING"
                    UserType="IIS_MD_UT_SERVER"
                    Attributes="INHERIT | SECURE"
                />
            </IIsWebServer>
            <IIsWebServer	Location ="/LM/W3SVC/2"
                    ServerBindings=":81:"
                    ServerComment="Intranet"
                >
                <Custom
                    Name="SSLCertHash"
                    ID="5506"
                    Value="00112233445566778899aabbccddeeff00112233"
                    Type="BINARY"
                    UserType="IIS_MD_UT_SERVER"
                    Attributes="NO_ATTRIBUTES"
                />
            </IIsWebServer>
            </MBProperty>
            </configuration>
            """;
    }

    /// <summary>Two 512-bit RSA key pairs (exchange, signature) as the IIS 6 metabase container holds.</summary>
    public static (RSA Exchange, RSA Signature) MetabaseKeys() => (RSA.Create(512), RSA.Create(512));

    /// <summary>A valid session key blob and a secure property encrypted with that session key, both as hex.</summary>
    public static (string SessionKeyHex, string SecretHex) MetabaseBlobs(RSA exchange, RSA signature)
    {
        var rc4Key = new byte[] { 0x5F, 0xD4, 0x6C, 0xD3, 0x11 };
        var sessionKey = MetabaseBlobWriter.SessionKey(rc4Key, exchange, signature);
        var secret = MetabaseBlobWriter.EncryptedData(Encoding.Unicode.GetBytes("IUSR-pass-123\0"),
            KeyDoctor.Crypto.Metabase.MetabaseCrypto.Rc4Key(rc4Key, KeyDoctor.Crypto.Metabase.Rc4Salt.ZeroSalt), signature);
        return (IisCryptoBlobWriter.ToHex(sessionKey), IisCryptoBlobWriter.ToHex(secret));
    }
}

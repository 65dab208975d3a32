using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Tests.Crypto.Metabase;

/// <summary>
/// IIS 6 metabase secrets end to end: a MetaBase.xml written with our own writer per MS-IMSA 2.2.2 / 3.1.4.1 and the
/// CryptoAPI salt rule, then decrypted, verified, re-keyed and verified again.
/// </summary>
public sealed class MetabaseDecryptTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kd-mbdecrypt-").FullName;
    private readonly RSA _exchange = RSA.Create(512);
    private readonly RSA _signature = RSA.Create(512);

    public void Dispose()
    {
        _exchange.Dispose();
        _signature.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static byte[] Utf16z(string text) => Encoding.Unicode.GetBytes(text + "\0");

    /// <summary>A MetaBase.xml with STRING, BINARY, DWORD, MULTISZ and EXPANDSZ secure values, one blob used twice.</summary>
    private string WriteMetabase(string name, Rc4Salt salt = Rc4Salt.ZeroSalt, RSA? signWith = null)
    {
        signWith ??= _signature;
        var key = RandomNumberGenerator.GetBytes(5);
        var session = MetabaseBlobWriter.SessionKey(key, _exchange, signWith);
        string Blob(byte[] clear) => IisCryptoBlobWriter.ToHex(MetabaseCrypto.Encrypt([0, 0, 0, 0, .. clear], key, salt, signWith));
        var anonymous = Blob(Utf16z("IUSR-pass-123"));
        var acl = Blob([1, 0, 4, 0x80, 0x14, 0, 0, 0]);
        var dword = Blob([0x2A, 0, 0, 0]);
        var multi = Blob([.. Encoding.Unicode.GetBytes("first\0second\0\0")]);
        var expand = Blob(Utf16z("%SystemRoot%\\x"));
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, $"""
            <?xml version ="1.0"?>
            <!-- keep me: comments and layout must survive a rekey -->
            <configuration xmlns="urn:microsoft-catalog:XML_Metabase_V64_0">
            <MBProperty>
            <IIS_Global	Location ="."
            		ChangeNumber="443"
            		SessionKey="{IisCryptoBlobWriter.ToHex(session)}"
            	>
            </IIS_Global>
            <IIsWebService	Location ="/LM/W3SVC"
            		AdminACL="{acl}"
            		AnonymousUserPass="{anonymous}"
            	>
            </IIsWebService>
            <IIsWebVirtualDir	Location ="/LM/W3SVC/1/ROOT"
            		AnonymousUserPass="{anonymous}"
            	>
            	<Custom Name="Counter" ID="50001" Value="{dword}" Type="DWORD" UserType="IIS_MD_UT_SERVER" Attributes="INHERIT | SECURE" />
            	<Custom Name="Hosts" ID="50002" Value="{multi}" Type="MULTISZ" UserType="IIS_MD_UT_SERVER" Attributes="INHERIT | SECURE" />
            	<Custom Name="Where" ID="50003" Value="{expand}" Type="EXPANDSZ" UserType="IIS_MD_UT_SERVER" Attributes="INHERIT | SECURE" />
            </IIsWebVirtualDir>
            </MBProperty>
            </configuration>
            """, new UTF8Encoding(true)); // with a BOM, which a rekey must keep
        return path;
    }

    private string KeySetFile(string name, RSA exchange, RSA signature, bool exchangePrivate = true)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, KeySetXml.Write(new KeySet("Microsoft Internet Information Server",
        [
            new KeySetEntry(CapiKeyNumber.Exchange, exchange.ExportParameters(exchangePrivate)),
            new KeySetEntry(CapiKeyNumber.Signature, signature.ExportParameters(true)),
        ])));
        return path;
    }

    [Fact]
    public void FortyBitKeyGetsElevenZeroSaltBytesAndLongerKeysNone()
    {
        byte[] key = [1, 2, 3, 4, 5];
        Assert.Equal([1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], MetabaseCrypto.Rc4Key(key, Rc4Salt.ZeroSalt));
        Assert.Equal(key, MetabaseCrypto.Rc4Key(key, Rc4Salt.None));
        var longKey = RandomNumberGenerator.GetBytes(16);
        Assert.Equal(longKey, MetabaseCrypto.Rc4Key(longKey, Rc4Salt.ZeroSalt));
    }

    [Theory]
    [InlineData(Rc4Salt.ZeroSalt)]
    [InlineData(Rc4Salt.None)]
    public void TheSignatureSettlesWhichSaltRuleWroteABlob(Rc4Salt written)
    {
        var key = RandomNumberGenerator.GetBytes(5);
        var blob = (IisEncryptedDataBlob)IisCryptoBlob.Parse(MetabaseCrypto.Encrypt([0, 0, 0, 0, .. Utf16z("pw")], key, written, _signature));

        var decrypted = MetabaseCrypto.Decrypt(blob, key, _signature);

        Assert.Equal(MetabaseSignatureCheck.Valid, decrypted.Signature);
        Assert.Equal(written, decrypted.Salt);
        Assert.Equal(Utf16z("pw"), decrypted.ClearText.ToArray());
        // The two rules give different key streams: the salt is not a no-op.
        Assert.NotEqual(MetabaseCrypto.Rc4Key(key, Rc4Salt.ZeroSalt), MetabaseCrypto.Rc4Key(key, Rc4Salt.None));
    }

    [Fact]
    public void WithoutASignatureKeyTheZeroReservedPrefixPicksTheRule()
    {
        var key = RandomNumberGenerator.GetBytes(5);
        var blob = (IisEncryptedDataBlob)IisCryptoBlob.Parse(MetabaseCrypto.Encrypt([0, 0, 0, 0, .. Utf16z("pw")], key, Rc4Salt.None, _signature));
        var decrypted = MetabaseCrypto.Decrypt(blob, key, signaturePublicKey: null);
        Assert.Equal((MetabaseSignatureCheck.NotChecked, Rc4Salt.None, 0u), (decrypted.Signature, decrypted.Salt, decrypted.Reserved));
    }

    [Fact]
    public void DecryptMasksUnlessRevealedAndDecodesEveryType()
    {
        var metabase = WriteMetabase("MetaBase.xml");
        var keys = KeySetFile("iis.xml", _exchange, _signature);

        var masked = Cli.Run("metabase", "decrypt", "--key", keys, metabase);
        Assert.Equal(0, masked.ExitCode);
        Assert.Contains("the AT_KEYEXCHANGE key opens the SessionKey (40-bit RC4); the AT_SIGNATURE key verifies its signature", masked.Stdout);
        Assert.Contains("RC4 key: 40-bit key + 11 zero salt bytes (CryptoAPI default), confirmed by the signatures", masked.Stdout);
        Assert.Contains("/LM/W3SVC AnonymousUserPass (ID 6021, STRING), line", masked.Stdout);
        Assert.Contains("********  [signature verified]", masked.Stdout);
        Assert.DoesNotContain("IUSR-pass-123", masked.Stdout + masked.Stderr);
        AssertNoKeyMaterial(masked.Stdout + masked.Stderr);

        var revealed = Cli.Run("metabase", "decrypt", "--key", keys, metabase, "--reveal", "--json");
        Assert.Equal(0, revealed.ExitCode);
        using var json = JsonDocument.Parse(revealed.Stdout);
        var session = json.RootElement.GetProperty("sessionKey");
        Assert.True(session.GetProperty("opens").GetBoolean());
        Assert.Equal(40, session.GetProperty("keyBits").GetInt32());
        var values = json.RootElement.GetProperty("values").EnumerateArray()
            .ToDictionary(v => v.GetProperty("location").GetString() + " " + v.GetProperty("name").GetString(),
                v => (Type: v.GetProperty("dataType").GetString(), Value: v.GetProperty("value").GetString(), Status: v.GetProperty("status").GetString()));
        Assert.Equal(("STRING", "IUSR-pass-123", "decrypted"), values["/LM/W3SVC AnonymousUserPass"]);
        Assert.Equal(("BINARY", "0100048014000000", "decrypted"), values["/LM/W3SVC AdminACL"]);
        Assert.Equal(("DWORD", "42", "decrypted"), values["/LM/W3SVC/1/ROOT Counter"]);
        Assert.Equal(("MULTISZ", "first\nsecond", "decrypted"), values["/LM/W3SVC/1/ROOT Hosts"]);
        Assert.Equal(("EXPANDSZ", "%SystemRoot%\\x", "decrypted"), values["/LM/W3SVC/1/ROOT Where"]);
        AssertNoKeyMaterial(revealed.Stdout);
    }

    [Fact]
    public void AWrongKeyIsAnAnswerNotAnException()
    {
        var metabase = WriteMetabase("MetaBase.xml");
        using var stranger = RSA.Create(512);
        using var big = RSA.Create(1024);

        foreach (var wrong in new[] { KeySetFile("stranger.xml", stranger, _signature), KeySetFile("big.xml", big, big) })
        {
            var result = Cli.Run("metabase", "decrypt", "--key", wrong, metabase, "--json");
            Assert.Equal(1, result.ExitCode);
            Assert.Equal("", result.Stderr);
            using var json = JsonDocument.Parse(result.Stdout);
            Assert.StartsWith("this key does not open the metabase session key", json.RootElement.GetProperty("sessionKey").GetProperty("message").GetString());
            Assert.All(json.RootElement.GetProperty("values").EnumerateArray(),
                v => Assert.Equal("not-opened", v.GetProperty("status").GetString()));
        }

        // The right exchange key with a stranger's signature key: values decrypt but are reported unverified.
        var badSig = Cli.Run("metabase", "decrypt", "--key", KeySetFile("badsig.xml", _exchange, stranger), metabase, "--json");
        Assert.Equal(1, badSig.ExitCode);
        using var doc = JsonDocument.Parse(badSig.Stdout);
        Assert.False(doc.RootElement.GetProperty("sessionKey").GetProperty("signatureValid").GetBoolean());
        Assert.All(doc.RootElement.GetProperty("values").EnumerateArray(),
            v => Assert.Equal("signature-invalid", v.GetProperty("status").GetString()));
    }

    [Fact]
    public void RekeyWritesAVerifiedCopyAndChangesOnlyTheBlobs()
    {
        var metabase = WriteMetabase("MetaBase.xml");
        var original = File.ReadAllBytes(metabase);
        using var newExchange = RSA.Create(1024);
        using var newSignature = RSA.Create(1024);
        var oldKeys = KeySetFile("old.xml", _exchange, _signature);
        var newKeys = KeySetFile("new.xml", newExchange, newSignature);
        var output = Path.Combine(_folder, "NEW-MetaBase.xml");

        var rekey = Cli.Run("metabase", "rekey", "--from", oldKeys, "--to", newKeys, metabase, "-o", output);

        Assert.Equal(0, rekey.ExitCode);
        Assert.Contains("new SessionKey and 6 secure properties re-encrypted and signed for the new key set", rekey.Stdout);
        Assert.Contains("verified: the new key set decrypts every value to the original", rekey.Stdout);
        Assert.Equal(original, File.ReadAllBytes(metabase)); // never in place
        var rekeyed = File.ReadAllBytes(output);
        Assert.Equal(original[..3], rekeyed[..3]); // BOM kept
        var hex = new Regex("[0-9a-f]{64,}");
        Assert.Equal(hex.Replace(Encoding.UTF8.GetString(original), "#"), hex.Replace(Encoding.UTF8.GetString(rekeyed), "#"));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output));

        Assert.Equal(1, Cli.Run("metabase", "decrypt", "--key", oldKeys, output).ExitCode);
        var again = Cli.Run("metabase", "decrypt", "--key", newKeys, output, "--reveal", "--json");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("\"value\":\"IUSR-pass-123\"", again.Stdout.Replace(" ", ""));

        // A second rekey to the same output is refused; a rekey from the wrong key writes nothing.
        Assert.Equal(2, Cli.Run("metabase", "rekey", "--from", oldKeys, "--to", newKeys, metabase, "-o", output).ExitCode);
        var wrongOut = Path.Combine(_folder, "never.xml");
        var wrong = Cli.Run("metabase", "rekey", "--from", newKeys, "--to", oldKeys, metabase, "-o", wrongOut);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("this key does not open the metabase session key", wrong.Stdout);
        Assert.False(File.Exists(wrongOut));
        AssertNoKeyMaterial(rekey.Stdout + wrong.Stdout);
    }

    [Fact]
    public void RekeyNeedsTheNewSignaturePrivateKey()
    {
        var metabase = WriteMetabase("MetaBase.xml");
        using var other = RSA.Create(512);
        var publicOnly = Path.Combine(_folder, "public.xml");
        File.WriteAllText(publicOnly, KeySetXml.Write(new KeySet(null,
            [new KeySetEntry(CapiKeyNumber.Exchange, other.ExportParameters(false)), new KeySetEntry(CapiKeyNumber.Signature, other.ExportParameters(false))])));
        var result = Cli.Run("metabase", "rekey", "--from", KeySetFile("old.xml", _exchange, _signature), "--to", publicOnly, metabase);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no AT_SIGNATURE private key", result.Stderr);
    }

    [Fact]
    public void BitFlipsAndTruncationsGiveTypedResultsNeverExceptions()
    {
        var metabase = WriteMetabase("MetaBase.xml");
        var text = File.ReadAllText(metabase);
        var parsed = MetabaseXml.Parse(Encoding.UTF8.GetBytes(text));
        var keySet = new KeySet(null,
            [new KeySetEntry(CapiKeyNumber.Exchange, _exchange.ExportParameters(true)), new KeySetEntry(CapiKeyNumber.Signature, _signature.ExportParameters(false))]);
        var sessionHex = parsed.SessionKey.Hex!;
        var valueHex = parsed.SecureProperties[0].Hex!;
        var sessionBytes = IisCryptoBlob.DecodeHex(sessionHex);
        var valueBytes = IisCryptoBlob.DecodeHex(valueHex);

        // Single-bit flips of the session key blob: malformed, does-not-open or unverified, never a crash. The 4
        // alignment bytes after the 76-byte SIMPLEBLOB are not covered by anything (real files hold garbage there).
        var padding = 16 + 76;
        for (var bit = 0; bit < sessionBytes.Length * 8; bit += 3)
        {
            if (bit / 8 is var b && b >= padding && b < padding + 4) continue;
            var flipped = sessionBytes.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            var opened = MetabaseSecrets.Open(MetabaseXml.Parse(Encoding.UTF8.GetBytes(text.Replace(sessionHex, Convert.ToHexStringLower(flipped)))), keySet);
            Assert.False(opened.SessionKey is not null && opened.SessionKeySignatureValid == true && opened.AllDecrypted,
                $"bit {bit} went unnoticed");
        }
        // Flipped cipher text bits: the value's signature catches them.
        for (var bit = 16 * 8; bit < (16 + 8) * 8; bit++)
        {
            var flipped = valueBytes.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            var opened = MetabaseSecrets.Open(MetabaseXml.Parse(Encoding.UTF8.GetBytes(text.Replace(valueHex, Convert.ToHexStringLower(flipped)))), keySet);
            Assert.Contains(opened.Secrets, s => s.Status == MetabaseSecretStatus.SignatureInvalid);
        }
        // Truncations: a typed MalformedDataException with an offset from the parser, "malformed" from decrypt.
        for (var length = 0; length < valueBytes.Length; length += 5)
        {
            var ex = Assert.Throws<MalformedDataException>(() => IisCryptoBlob.Parse(valueBytes.AsSpan(0, length)));
            Assert.True(ex.Offset >= 0);
            var opened = MetabaseSecrets.Open(MetabaseXml.Parse(Encoding.UTF8.GetBytes(text.Replace(valueHex, Convert.ToHexStringLower(valueBytes[..length])))), keySet);
            Assert.Contains(opened.Secrets, s => s.Status is MetabaseSecretStatus.Malformed or MetabaseSecretStatus.Empty);
        }
    }

    [Fact]
    public void PasswordSaltedBackupValuesOpenWithTheBackupPassword()
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = MetabaseCrypto.DerivePasswordHash(salt, "backup-pw");
        var blob = MetabaseBlobWriter.SaltedData([0, 0, 0, 0, .. Utf16z("svc-secret")], MetabaseCrypto.Rc4Key(hash[..5], Rc4Salt.ZeroSalt), salt);
        var parsed = (IisSaltedDataBlob)IisCryptoBlob.Parse(blob);

        var opened = MetabaseCrypto.TryDecryptSalted(parsed, "backup-pw");
        Assert.NotNull(opened);
        Assert.Equal(Utf16z("svc-secret"), opened.ClearText.ToArray());
        Assert.Null(MetabaseCrypto.TryDecryptSalted(parsed, "wrong"));

        var metabase = Path.Combine(_folder, "backup.xml");
        File.WriteAllText(metabase, Iis.IisSamples.Metabase(null, IisCryptoBlobWriter.ToHex(blob)));
        var keys = KeySetFile("iis.xml", _exchange, _signature);
        var without = Cli.Run("metabase", "decrypt", "--key", keys, metabase, "--json");
        Assert.Equal(1, without.ExitCode);
        Assert.Contains("password-protected", without.Stdout);
        var passwordFile = Path.Combine(_folder, "backup-password.txt");
        File.WriteAllText(passwordFile, "backup-pw\n");
        var with = Cli.Run("metabase", "decrypt", "--key", keys, metabase, "--backup-password-file", passwordFile, "--reveal", "--json");
        Assert.Contains("\"value\":\"svc-secret\"", with.Stdout.Replace(" ", ""));
    }

    private void AssertNoKeyMaterial(string output)
    {
        foreach (var rsa in new[] { _exchange, _signature })
        {
            var p = rsa.ExportParameters(true);
            foreach (var secret in new[] { p.D!, p.P!, p.Q! })
            {
                Assert.DoesNotContain(Convert.ToBase64String(secret), output);
                Assert.DoesNotContain(Convert.ToHexString(secret), output, StringComparison.OrdinalIgnoreCase);
            }
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats;

namespace KeyDoctor.Tests.Crypto;

public sealed class KeySetTests
{
    private static readonly RSAParameters Exchange = NewKey();
    private static readonly RSAParameters Signature = NewKey();

    private static RSAParameters NewKey()
    {
        using var rsa = RSA.Create(1024);
        return rsa.ExportParameters(true);
    }

    [Fact]
    public void PrivateKeyBlobAndKeyFileBodyShareTheirKeyFields()
    {
        // A PRIVATEKEYBLOB and a key-file body differ only in their headers: swap one for the other and both readers
        // must give the same key (Formats.KeyFiles.CapiRsaPrivateFields is the one field layout).
        var blob = CapiPrivateKeyBlob.Write(Exchange, CapiKeyNumber.Exchange);
        var modulusBytes = Exchange.Modulus!.Length;
        var body = new byte[20 + blob.Length - 20];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body, 0x32415352);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), (uint)modulusBytes);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), (uint)modulusBytes * 8);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(12), (uint)modulusBytes - 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(16), 65537);
        blob.AsSpan(20).CopyTo(body.AsSpan(20));

        var fromFile = KeyDoctor.Formats.KeyFiles.CapiPrivateKeyBlob.Parse(body).Rsa!.Value;
        var fromBlob = CapiPrivateKeyBlob.Read(blob).Parameters;
        foreach (var (a, b) in new[] { (fromFile.Modulus, fromBlob.Modulus), (fromFile.D, fromBlob.D), (fromFile.InverseQ, fromBlob.InverseQ), (fromFile.Exponent, fromBlob.Exponent) })
            Assert.Equal(a, b);
        Assert.Equal(Exchange.D, fromFile.D);
    }

    [Fact]
    public void BareRsaKeyValueIsTheAspnetRegiisFormAndRoundTrips()
    {
        var set = new KeySet(null, [new KeySetEntry(CapiKeyNumber.Exchange, Exchange)]);
        var xml = KeySetXml.Write(set);
        Assert.StartsWith("<RSAKeyValue><Modulus>", xml);

        // The BCL's own ToXmlString form (what aspnet_regiis -px -pri writes) reads back to the same key.
        using var rsa = RSA.Create();
        rsa.ImportParameters(Exchange);
        var fromBcl = KeySetXml.Read(Encoding.UTF8.GetBytes(rsa.ToXmlString(true)));
        Assert.Equal(Exchange.D, Assert.Single(fromBcl.Keys).Parameters.D);
        Assert.Equal(Exchange.Modulus, KeySetXml.Read(Encoding.UTF8.GetBytes(xml)).Exchange!.Parameters.Modulus);
    }

    [Fact]
    public void KeyDoctorKeySetCarriesBothKeyNumbers()
    {
        var set = new KeySet("iisWasKey", [new KeySetEntry(CapiKeyNumber.Signature, Signature), new KeySetEntry(CapiKeyNumber.Exchange, Exchange)]);
        var xml = KeySetXml.Write(set);
        Assert.StartsWith("<KeyDoctorKeySet version=\"1\" container=\"iisWasKey\"><RSAKeyValue keyNumber=\"AT_KEYEXCHANGE\">", xml);

        var read = KeySetXml.Read(Encoding.UTF8.GetBytes(xml));
        Assert.Equal("iisWasKey", read.Container);
        Assert.Equal(Exchange.D, read.Exchange!.Parameters.D);
        Assert.Equal(Signature.D, read.Signature!.Parameters.D);
    }

    [Theory]
    [InlineData("<RSAKeyValue><Modulus>AQAB</Modulus></RSAKeyValue>", "has no <Exponent>")]
    [InlineData("<RSAKeyValue><Modulus>@@</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>", "is not base64")]
    [InlineData("<Other/>", "is neither")]
    [InlineData("<!DOCTYPE x [<!ENTITY a 'b'>]><RSAKeyValue/>", "not well-formed")]
    [InlineData("<KeyDoctorKeySet><RSAKeyValue keyNumber='3'/></KeyDoctorKeySet>", "is not AT_KEYEXCHANGE")]
    public void BadXmlIsAFormatError(string xml, string reason)
    {
        var ex = Assert.Throws<MalformedDataException>(() => KeySetXml.Read(Encoding.UTF8.GetBytes(xml)));
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void BitFlippedKeySetXmlIsAKeyOrAFormatError()
    {
        var xml = Encoding.UTF8.GetBytes(KeySetXml.Write(new KeySet("c", [new KeySetEntry(CapiKeyNumber.Exchange, Exchange)])));
        for (var i = 0; i < xml.Length; i += 3)
        {
            var copy = (byte[])xml.Clone();
            copy[i] ^= 0x20;
            try { KeySetXml.Read(copy); }
            catch (MalformedDataException) { }
        }
        for (var length = 0; length < xml.Length; length += 11)
            Assert.Throws<MalformedDataException>(() => KeySetXml.Read(xml.AsSpan(0, length)));
    }

    [Fact]
    public void PrivateKeyBlobMatchesTheBclCspBlob()
    {
        using var csp = new RSACryptoServiceProvider();
        csp.ImportParameters(Exchange);
        var bcl = csp.ExportCspBlob(includePrivateParameters: true);
        Assert.Equal(Convert.ToHexString(bcl), Convert.ToHexString(CapiPrivateKeyBlob.Write(Exchange, CapiKeyNumber.Exchange)));
        Assert.Equal(Exchange.D, CapiPrivateKeyBlob.Read(bcl).Parameters.D);
    }

    [Fact]
    public void PvkRoundTripsWithItsKeyNumber()
    {
        var pvk = PvkFile.Write(new KeySetEntry(CapiKeyNumber.Signature, Signature));
        Assert.Equal("1EF1B5B0" + "00000000" + "02000000" + "00000000" + "00000000", Convert.ToHexString(pvk, 0, 20));
        var read = PvkFile.Read(pvk);
        Assert.Equal(CapiKeyNumber.Signature, read.KeyNumber);
        Assert.Equal(Signature.InverseQ, read.Parameters.InverseQ);
    }

    [Fact]
    public void TruncatedOrBitFlippedPvkIsAFormatErrorOrAKey()
    {
        var pvk = PvkFile.Write(new KeySetEntry(CapiKeyNumber.Exchange, Exchange));
        for (var length = 0; length < pvk.Length; length += 7)
            Assert.Throws<MalformedDataException>(() => PvkFile.Read(pvk.AsSpan(0, length)));
        for (var bit = 0; bit < 44 * 8; bit++)
        {
            var copy = (byte[])pvk.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            try { PvkFile.Read(copy); }
            catch (MalformedDataException) { }
        }
    }

    [Fact]
    public void OwnerOnlyFileIsMode0600AndNeverOverwrites()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kd-{Guid.NewGuid():N}.pvk");
        try
        {
            OwnerOnlyFile.WriteAllBytes(path, [1, 2, 3]);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Throws<IOException>(() => OwnerOnlyFile.WriteAllBytes(path, [4]));
            Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        }
        finally { File.Delete(path); }
    }
}

public sealed class KeySetConverterTests
{
    private static readonly RSAParameters Key = NewKey();

    private static RSAParameters NewKey()
    {
        using var rsa = RSA.Create(1024);
        return rsa.ExportParameters(true);
    }

    [Theory]
    [InlineData(KeySetFileFormat.Xml, "<RSAKeyValue>")]
    [InlineData(KeySetFileFormat.Pkcs1Pem, "-----BEGIN RSA PRIVATE KEY-----")]
    [InlineData(KeySetFileFormat.Pkcs8Pem, "-----BEGIN PRIVATE KEY-----")]
    [InlineData(KeySetFileFormat.Pvk, "\u001E\u00F1")]
    public void EveryFormRoundTripsTheSameKey(KeySetFileFormat format, string start)
    {
        var set = new KeySet(null, [new KeySetEntry(CapiKeyNumber.Exchange, Key)]);
        var bytes = KeySetConverter.Write(set, format);
        Assert.StartsWith(start, Encoding.Latin1.GetString(bytes));
        Assert.Equal(format, KeySetConverter.Detect(bytes));
        var read = KeySetConverter.Read(bytes);
        Assert.Equal(Key.D, read.Exchange!.Parameters.D);
        Assert.Equal(Key.Modulus, read.Exchange.Parameters.Modulus);
    }

    [Fact]
    public void PfxNeedsTheMatchingCertificate()
    {
        using var rsa = RSA.Create();
        rsa.ImportParameters(Key);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=KeyDoctor test", rsa,
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(withKey.RawData);
        var set = new KeySet(null, [new KeySetEntry(CapiKeyNumber.Signature, Key)]);

        var pfx = KeySetConverter.Write(set, KeySetFileFormat.Pfx, CapiKeyNumber.Signature, certificate, "pw");
        var read = KeySetConverter.Read(pfx, CapiKeyNumber.Signature, "pw");
        Assert.Equal(Key.D, read.Signature!.Parameters.D);
        Assert.Throws<MalformedDataException>(() => KeySetConverter.Read(pfx, CapiKeyNumber.Signature, "wrong"));

        using var other = RSA.Create(1024);
        using var otherCert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=other", other,
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        Assert.Throws<ArgumentException>(() => KeySetConverter.Write(set, KeySetFileFormat.Pfx, CapiKeyNumber.Signature, otherCert));
    }

    [Fact]
    public void PublicOnlyPemIsAFormatError()
    {
        using var rsa = RSA.Create();
        rsa.ImportParameters(Key);
        Assert.Throws<MalformedDataException>(() => KeySetConverter.Read(Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())));
    }
}

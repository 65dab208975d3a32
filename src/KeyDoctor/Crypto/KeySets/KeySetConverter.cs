using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyDoctor.Formats;

namespace KeyDoctor.Crypto.KeySets;

/// <summary>The file forms a key set can take. Only XML carries both key numbers in one file.</summary>
public enum KeySetFileFormat { Xml, Pkcs1Pem, Pkcs8Pem, Pvk, Pfx }

/// <summary>Moves RSA keys between aspnet_regiis XML, PEM (PKCS#1, PKCS#8), PVK and PFX, on every OS.</summary>
public static class KeySetConverter
{
    /// <summary>Recognises a file by its content: PVK magic, PEM armour, XML, else PKCS#12.</summary>
    public static KeySetFileFormat Detect(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 4 && BitConverter.ToUInt32(data[..4]) == PvkFile.Magic) return KeySetFileFormat.Pvk;
        var text = data.TrimStart("\uFEFF"u8).TrimStart(" \t\r\n"u8);
        if (text.StartsWith("-----BEGIN RSA PRIVATE KEY"u8)) return KeySetFileFormat.Pkcs1Pem;
        if (text.StartsWith("-----BEGIN"u8)) return KeySetFileFormat.Pkcs8Pem;
        if (text.StartsWith("<"u8)) return KeySetFileFormat.Xml;
        return KeySetFileFormat.Pfx;
    }

    /// <summary>Reads any supported form. PEM, PVK and PFX hold one key, taken as <paramref name="keyNumber"/>.</summary>
    public static KeySet Read(ReadOnlySpan<byte> data, CapiKeyNumber keyNumber = CapiKeyNumber.Exchange, string? pfxPassword = null)
    {
        switch (Detect(data))
        {
            case KeySetFileFormat.Xml:
                return KeySetXml.Read(data);
            case KeySetFileFormat.Pvk:
                return new KeySet(null, [PvkFile.Read(data)]);
            case KeySetFileFormat.Pkcs1Pem or KeySetFileFormat.Pkcs8Pem:
                var pem = Encoding.UTF8.GetString(data);
                return Single(keyNumber, rsa => rsa.ImportFromPem(pem), "PEM");
            default:
                try
                {
                    using var certificate = X509CertificateLoader.LoadPkcs12(data, pfxPassword, X509KeyStorageFlags.Exportable);
                    using var rsa = certificate.GetRSAPrivateKey()
                        ?? throw new MalformedDataException("PFX", 0, "the PFX holds no RSA private key");
                    return new KeySet(null, [new KeySetEntry(keyNumber, rsa.ExportParameters(true))]);
                }
                catch (CryptographicException ex)
                {
                    throw new MalformedDataException("PFX", 0, $"not XML, PEM, PVK, or a PFX this password opens ({ex.Message})", ex);
                }
        }
    }

    /// <summary>
    /// Writes <paramref name="keySet"/> as <paramref name="format"/>. Single-key forms take <paramref name="keyNumber"/>;
    /// PFX needs the certificate of that key.
    /// </summary>
    public static byte[] Write(KeySet keySet, KeySetFileFormat format, CapiKeyNumber keyNumber = CapiKeyNumber.Exchange,
        X509Certificate2? certificate = null, string? pfxPassword = null)
    {
        if (format == KeySetFileFormat.Xml) return Encoding.UTF8.GetBytes(KeySetXml.Write(keySet));
        var key = keySet.Keys.FirstOrDefault(k => k.KeyNumber == keyNumber)
            ?? throw new ArgumentException($"the key set holds no {KeySetXml.Name(keyNumber)} key");
        if (!key.HasPrivateKey) throw new ArgumentException($"the {KeySetXml.Name(keyNumber)} key is public only");
        using var rsa = RSA.Create();
        rsa.ImportParameters(key.Parameters);
        switch (format)
        {
            case KeySetFileFormat.Pkcs1Pem: return Encoding.ASCII.GetBytes(rsa.ExportRSAPrivateKeyPem() + "\n");
            case KeySetFileFormat.Pkcs8Pem: return Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem() + "\n");
            case KeySetFileFormat.Pvk: return PvkFile.Write(key);
            default:
                if (certificate is null) throw new ArgumentException("a PFX needs the key's certificate (--cert)");
                using (var certificateKey = certificate.GetRSAPublicKey())
                {
                    if (certificateKey is null || !certificateKey.ExportParameters(false).Modulus.AsSpan().SequenceEqual(key.Parameters.Modulus))
                        throw new ArgumentException("the certificate's public key is not this key");
                }
                using (var withKey = certificate.CopyWithPrivateKey(rsa))
                    return withKey.Export(X509ContentType.Pfx, pfxPassword);
        }
    }

    private static KeySet Single(CapiKeyNumber keyNumber, Action<RSA> import, string format)
    {
        using var rsa = RSA.Create();
        try { import(rsa); }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new MalformedDataException(format, 0, $"no RSA private key could be read ({ex.Message})", ex);
        }
        try { return new KeySet(null, [new KeySetEntry(keyNumber, rsa.ExportParameters(true))]); }
        catch (CryptographicException ex)
        {
            throw new MalformedDataException(format, 0, "the PEM holds a public key only", ex);
        }
    }
}

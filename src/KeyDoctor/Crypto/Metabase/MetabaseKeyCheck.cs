using System.Security.Cryptography;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Crypto.Metabase;

/// <summary>Which half of a key set fails an IIS 6 metabase SessionKey: null means "not checked" (key missing).</summary>
public sealed record MetabaseKeyVerdict(bool? ExchangeKeyOpens, bool? SignatureValid, string Message)
{
    public bool Healthy => ExchangeKeyOpens == true && SignatureValid == true;
}

/// <summary>
/// Checks the metabase SessionKey (MS-IMSA 2.2.2) against the "Microsoft Internet Information Server" key set the
/// way IISADMIN needs it at start: the AT_KEYEXCHANGE key must unwrap the SIMPLEBLOB (else NTE_BAD_KEYSET/NTE_BAD_DATA)
/// and the AT_SIGNATURE key must verify the MD5/RSA signature of it (else NTE_BAD_SIGNATURE).
/// </summary>
public static class MetabaseKeyCheck
{
    public static MetabaseKeyVerdict Verify(IisSessionKeyBlob sessionKey, KeySet keySet)
    {
        bool? opens = null;
        if (keySet.Exchange is { HasPrivateKey: true } exchange)
        {
            opens = CapiRsa.TryDecrypt(sessionKey.SimpleBlobBytes.AsSpan(Formats.Iis.CapiSimpleBlob.HeaderLength), exchange.Parameters,
                RSAEncryptionPadding.Pkcs1) is { Length: > 0 and <= 32 };
        }
        bool? signed = null;
        if (keySet.Signature is { } signature)
        {
            using var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters { Modulus = signature.Parameters.Modulus, Exponent = signature.Parameters.Exponent });
            signed = sessionKey.VerifySignature(rsa);
        }
        var parts = new List<string>
        {
            opens switch
            {
                true => "the AT_KEYEXCHANGE key opens the SessionKey",
                false => "the AT_KEYEXCHANGE key does not open the SessionKey (IISADMIN: NTE_BAD_KEYSET / NTE_BAD_DATA)",
                null => "no AT_KEYEXCHANGE private key to try",
            },
            signed switch
            {
                true => "the AT_SIGNATURE key verifies its signature",
                false => "the AT_SIGNATURE key does not verify its signature (IISADMIN: NTE_BAD_SIGNATURE)",
                null => "no AT_SIGNATURE key to check the signature",
            },
        };
        return new MetabaseKeyVerdict(opens, signed, string.Join("; ", parts));
    }
}

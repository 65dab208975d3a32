using System.Security.Cryptography;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Crypto.Metabase;

/// <summary>
/// Builds IIS_CRYPTO_BLOBs from keys (MS-IMSA 3.1.4.1): wraps, encrypts and signs, then hands the parts to the
/// layout writer <see cref="IisCryptoBlobWriter"/>. RSA output is in CryptoAPI's little-endian order; signatures are
/// PKCS#1 v1.5 over MD5. The RC4 key is used exactly as given: the CryptoAPI salting of a 40-bit session key is
/// applied by <see cref="MetabaseCrypto.Rc4Key"/> (docs/formats/iis-crypto-blob.md). Used by the re-key and by tests.
/// </summary>
public static class MetabaseBlobWriter
{
    /// <summary>
    /// A session-key blob ("IcKb"): <paramref name="sessionKey"/> as a SIMPLEBLOB wrapped with
    /// <paramref name="exchangeKey"/>, signed with <paramref name="signatureKey"/>.
    /// </summary>
    public static byte[] SessionKey(ReadOnlySpan<byte> sessionKey, RSA exchangeKey, RSA signatureKey, uint keyAlgorithm = CapiAlgorithm.Rc4)
    {
        var simple = CapiRsa.WrapSessionKey(sessionKey, exchangeKey, RSAEncryptionPadding.Pkcs1, keyAlgorithm);
        return IisCryptoBlobWriter.SessionKey(simple, CapiMd5Signature.Sign(simple, signatureKey));
    }

    /// <summary>
    /// An encrypted-data blob ("IcDb"): <c>Reserved(4)=0 ‖ cleartext</c>, RC4-encrypted with
    /// <paramref name="rc4Key"/>, with the signed MD5 of that prefixed clear text.
    /// </summary>
    public static byte[] EncryptedData(ReadOnlySpan<byte> cleartext, ReadOnlySpan<byte> rc4Key, RSA signatureKey)
    {
        var prefixed = new byte[4 + cleartext.Length];
        cleartext.CopyTo(prefixed.AsSpan(4));
        return EncryptedDataWithPrefix(prefixed, rc4Key, signatureKey);
    }

    /// <summary>
    /// An encrypted-data blob over a CLEARTEXT_WITH_PREFIX_BLOB given whole (Reserved included), so a rekey keeps
    /// the prefix a file was written with even where it is not the zero MS-IMSA asks for.
    /// </summary>
    public static byte[] EncryptedDataWithPrefix(ReadOnlySpan<byte> prefixedCleartext, ReadOnlySpan<byte> rc4Key, RSA signatureKey)
    {
        if (prefixedCleartext.Length < 4) throw new ArgumentException("the clear text needs its 4-byte Reserved prefix", nameof(prefixedCleartext));
        var data = prefixedCleartext.ToArray();
        var signature = CapiMd5Signature.Sign(data, signatureKey);
        Rc4.Apply(rc4Key, data);
        return IisCryptoBlobWriter.EncryptedData(data, signature);
    }

    /// <summary>
    /// A password-salted data blob ("IcSb"). <paramref name="rc4Key"/> is the key already derived from salt and
    /// password (<see cref="MetabaseCrypto.DerivePasswordHash"/>).
    /// </summary>
    public static byte[] SaltedData(ReadOnlySpan<byte> prefixedCleartext, ReadOnlySpan<byte> rc4Key, ReadOnlySpan<byte> salt)
    {
        var data = prefixedCleartext.ToArray();
        Rc4.Apply(rc4Key, data);
        return IisCryptoBlobWriter.SaltedData(data, salt);
    }

    /// <summary>A public-key blob ("IcPb") for <paramref name="key"/>'s public half.</summary>
    public static byte[] PublicKey(RSA key, bool signatureKey) =>
        IisCryptoBlobWriter.PublicKey(key.ExportParameters(includePrivateParameters: false), signatureKey);
}

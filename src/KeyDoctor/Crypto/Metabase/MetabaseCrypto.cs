using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Crypto.Metabase;

/// <summary>How a 40-bit CryptoAPI RC4 session key becomes the RC4 key schedule input.</summary>
public enum Rc4Salt
{
    /// <summary>
    /// The CryptoAPI default ("Salt Value Functionality"): a 40-bit key imported or generated without
    /// CRYPT_NO_SALT gets eleven zero salt bytes, so RC4 runs over key(5) ‖ 00×11.
    /// </summary>
    ZeroSalt,
    /// <summary>CRYPT_NO_SALT (or a key longer than 40 bits): RC4 runs over the key bytes alone.</summary>
    None,
}

/// <summary>What checking a data blob's MD5/RSA signature found.</summary>
public enum MetabaseSignatureCheck
{
    /// <summary>The signature key verifies the MD5 of the decrypted CLEARTEXT_WITH_PREFIX_BLOB.</summary>
    Valid,
    /// <summary>It does not, under any salt rule: wrong signature key, wrong session key or altered data.</summary>
    Invalid,
    /// <summary>The blob carries no signature (SignedHashLength 0, or a password-salted IcSb blob).</summary>
    Absent,
    /// <summary>No signature key was given.</summary>
    NotChecked,
}

/// <summary>
/// One decrypted secure property: the whole CLEARTEXT_WITH_PREFIX_BLOB (MS-IMSA 2.2.2.5.1) and how it was
/// checked. <see cref="Salt"/> is the salt rule under which the signature (or the zero prefix) held.
/// </summary>
public sealed record MetabaseDecrypted(byte[] PrefixedCleartext, MetabaseSignatureCheck Signature, Rc4Salt Salt)
{
    /// <summary>The Reserved DWORD that MS-IMSA says MUST be zero.</summary>
    public uint Reserved => BinaryPrimitives.ReadUInt32LittleEndian(PrefixedCleartext);

    public ReadOnlySpan<byte> ClearText => PrefixedCleartext.AsSpan(4);
}

/// <summary>
/// IIS 6 metabase secrets (MS-IMSA 3.1.4.1; research notes §1.3-1.5): the IcKb SessionKey is a SIMPLEBLOB with a
/// 40-bit RC4 key wrapped by the AT_KEYEXCHANGE key, signed (MD5, PKCS#1 v1.5) with AT_SIGNATURE; each IcDb blob is
/// RC4 over <c>Reserved(4)=0 ‖ value</c>, started afresh from the key, with the signed MD5 of that clear text.
/// A wrong key is an answer (null or Invalid), never an exception.
/// </summary>
public static class MetabaseCrypto
{
    /// <summary>CryptoAPI's default key length for RC4 in the Base provider and MS-IMSA's session key size.</summary>
    public const int FortyBitKeyLength = 5;
    private const int SaltedKeyLength = 16;

    /// <summary>
    /// Unwraps the RC4 session key with the exchange private key, or null when this key does not open it (a modulus
    /// of another size, PKCS#1 padding that does not check, a key length RC4 in CryptoAPI never has).
    /// </summary>
    public static byte[]? TryUnwrapSessionKey(IisSessionKeyBlob sessionKey, RSAParameters exchangeKey)
    {
        var key = CapiRsa.TryDecrypt(sessionKey.SimpleBlobBytes.AsSpan(CapiSimpleBlob.HeaderLength), exchangeKey, RSAEncryptionPadding.Pkcs1);
        return key is { Length: >= FortyBitKeyLength and <= SaltedKeyLength } ? key : null;
    }

    /// <summary>
    /// Checks the session key's signed hash with the signature public key of the container that wrote the blob (for
    /// the metabase, AT_SIGNATURE of "Microsoft Internet Information Server"; its public half is readable from the
    /// key file without DPAPI). False means the container is not the one that wrote this metabase (IISADMIN fails
    /// with 0x80090006), or the blob has no signature.
    /// </summary>
    public static bool VerifySignature(this IisSessionKeyBlob sessionKey, RSA signaturePublicKey) =>
        sessionKey.SignedHash.Length != 0 && CapiMd5Signature.Verify(sessionKey.SimpleBlobBytes, sessionKey.SignedHash, signaturePublicKey);

    /// <summary>A new SessionKey blob: a fresh RC4 key of <paramref name="keyLength"/> bytes, wrapped and signed.</summary>
    public static (byte[] SessionKey, byte[] Blob) NewSessionKey(RSA exchangeKey, RSA signatureKey, int keyLength = FortyBitKeyLength)
    {
        var key = RandomNumberGenerator.GetBytes(keyLength);
        return (key, MetabaseBlobWriter.SessionKey(key, exchangeKey, signatureKey));
    }

    /// <summary>
    /// The bytes RC4 is keyed with. Only a 40-bit key is salted: CryptoAPI allocates salt by default for
    /// "keys of exactly 40 bits" and for no other length.
    /// </summary>
    public static byte[] Rc4Key(ReadOnlySpan<byte> sessionKey, Rc4Salt salt)
    {
        if (salt == Rc4Salt.None || sessionKey.Length != FortyBitKeyLength) return sessionKey.ToArray();
        var salted = new byte[SaltedKeyLength];
        sessionKey.CopyTo(salted);
        return salted;
    }

    /// <summary>
    /// Decrypts an IcDb blob. The salt rule is settled per blob by evidence: the first rule under which the
    /// signature verifies wins; without a signature to check, the first rule that gives the zero Reserved prefix
    /// MS-IMSA requires; failing both, <paramref name="preferred"/> (default: the CryptoAPI zero salt).
    /// </summary>
    public static MetabaseDecrypted Decrypt(IisEncryptedDataBlob blob, ReadOnlySpan<byte> sessionKey, RSA? signaturePublicKey,
        Rc4Salt preferred = Rc4Salt.ZeroSalt)
    {
        var rules = sessionKey.Length == FortyBitKeyLength ? new[] { preferred, Other(preferred) } : [Rc4Salt.None];
        var candidates = new List<(byte[] Plain, Rc4Salt Salt)>();
        foreach (var rule in rules)
        {
            var plain = blob.EncryptedData.ToArray();
            Rc4.Apply(Rc4Key(sessionKey, rule), plain);
            candidates.Add((plain, rule));
        }
        if (blob.SignedHash.IsEmpty || signaturePublicKey is null)
        {
            var check = blob.SignedHash.IsEmpty ? MetabaseSignatureCheck.Absent : MetabaseSignatureCheck.NotChecked;
            var (plain, salt) = candidates.FirstOrDefault(c => HasZeroPrefix(c.Plain), candidates[0]);
            return new MetabaseDecrypted(plain, check, salt);
        }
        foreach (var (plain, salt) in candidates)
            if (CapiMd5Signature.Verify(plain, blob.SignedHash.Span, signaturePublicKey))
                return new MetabaseDecrypted(plain, MetabaseSignatureCheck.Valid, salt);
        return new MetabaseDecrypted(candidates[0].Plain, MetabaseSignatureCheck.Invalid, candidates[0].Salt);
    }

    /// <summary>Encrypts and signs a whole CLEARTEXT_WITH_PREFIX_BLOB into an IcDb blob under a session key.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> prefixedCleartext, ReadOnlySpan<byte> sessionKey, Rc4Salt salt, RSA signatureKey) =>
        MetabaseBlobWriter.EncryptedDataWithPrefix(prefixedCleartext, Rc4Key(sessionKey, salt), signatureKey);

    /// <summary>
    /// Decrypts a password-salted IcSb blob (IISCryptoEncryptDataBlob2): key = CryptDeriveKey(CALG_RC4) over
    /// MD5(salt ‖ ANSI password). The derived key length depends on the provider (40-bit Base, 128-bit Enhanced) and
    /// there is no signature, so each candidate is tried and the zero Reserved prefix decides. Null: none fits.
    /// </summary>
    public static MetabaseDecrypted? TryDecryptSalted(IisSaltedDataBlob blob, string password)
    {
        var hash = DerivePasswordHash(blob.Salt.Span, password);
        foreach (var (key, salt) in PasswordKeyCandidates(hash))
        {
            var plain = blob.Data.ToArray();
            Rc4.Apply(Rc4Key(key, salt), plain);
            if (HasZeroPrefix(plain)) return new MetabaseDecrypted(plain, MetabaseSignatureCheck.Absent, salt);
        }
        return null;
    }

    /// <summary>MD5(salt ‖ password as ANSI): the base data CryptDeriveKey turns into the IcSb RC4 key.</summary>
    public static byte[] DerivePasswordHash(ReadOnlySpan<byte> salt, string password)
    {
        // ANSI on an English system is Windows-1252; Latin-1 matches it for every character a password is likely to hold.
        var bytes = new byte[salt.Length + Encoding.Latin1.GetByteCount(password)];
        salt.CopyTo(bytes);
        Encoding.Latin1.GetBytes(password, bytes.AsSpan(salt.Length));
        return MD5.HashData(bytes);
    }

    private static IEnumerable<(byte[] Key, Rc4Salt Salt)> PasswordKeyCandidates(byte[] hash)
    {
        yield return (hash[..FortyBitKeyLength], Rc4Salt.ZeroSalt);
        yield return (hash[..FortyBitKeyLength], Rc4Salt.None);
        yield return (hash, Rc4Salt.None);
    }

    private static bool HasZeroPrefix(byte[] plain) => plain.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(plain) == 0;

    private static Rc4Salt Other(Rc4Salt salt) => salt == Rc4Salt.ZeroSalt ? Rc4Salt.None : Rc4Salt.ZeroSalt;
}

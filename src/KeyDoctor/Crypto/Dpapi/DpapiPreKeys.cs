using System.Security.Cryptography;
using System.Text;
namespace KeyDoctor.Crypto.Dpapi;

/// <summary>
/// The 20-byte keys that open master keys. SYSTEM master keys open with a half of the LSA secret DPAPI_SYSTEM;
/// user master keys with a key derived from the user's password (or its SHA-1 or NT hash) and SID.
/// </summary>
public static class DpapiPreKeys
{
    /// <summary>
    /// Local account: HMAC-SHA1(SHA1(UTF-16LE password), UTF-16LE(SID + NUL)).
    /// </summary>
    public static byte[] FromPassword(string password, string sid) =>
        FromPasswordHash(SHA1.HashData(Encoding.Unicode.GetBytes(password)), sid);

    /// <summary>
    /// From a password hash the user already has: the SHA-1 of the UTF-16LE password (local accounts) or the NT
    /// hash (domain accounts); either is HMAC'd with the SID.
    /// </summary>
    public static byte[] FromPasswordHash(ReadOnlySpan<byte> passwordHash, string sid) =>
        HMACSHA1.HashData(passwordHash, Encoding.Unicode.GetBytes(sid + "\0"));

    /// <summary>The NT hash: MD4 of the UTF-16LE password.</summary>
    public static byte[] NtHash(string password) => Md4.HashData(Encoding.Unicode.GetBytes(password));

    /// <summary>
    /// The pre-key of domain accounts since Windows 10 1607 (and Protected Users): the NT hash stretched with
    /// PBKDF2-HMAC-SHA256 over the UTF-16LE SID (10,000 rounds, then one more round, first 16 bytes), then HMAC'd
    /// with the SID like the other forms. Standard RFC 2898 PBKDF2 here, unlike the master-key derivation.
    /// </summary>
    public static byte[] FromNtHashStretched(ReadOnlySpan<byte> ntHash, string sid)
    {
        var salt = Encoding.Unicode.GetBytes(sid);
        var first = Rfc2898DeriveBytes.Pbkdf2(ntHash, salt, 10_000, HashAlgorithmName.SHA256, 32);
        var second = Rfc2898DeriveBytes.Pbkdf2(first, salt, 1, HashAlgorithmName.SHA256, 32);
        try
        {
            return FromPasswordHash(second.AsSpan(0, 16), sid);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(first);
            CryptographicOperations.ZeroMemory(second);
        }
    }

    /// <summary>
    /// Every pre-key a password can give, in the order they are likely: local account (SHA-1), domain account
    /// (NT hash), domain account on Windows 10 1607+ (stretched NT hash). The master-key HMAC tells which is right.
    /// </summary>
    public static IReadOnlyList<byte[]> AllFromPassword(string password, string sid)
    {
        var nt = NtHash(password);
        try
        {
            return [FromPassword(password, sid), FromPasswordHash(nt, sid), FromNtHashStretched(nt, sid)];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(nt);
        }
    }

    /// <summary>
    /// Pre-keys from a hash: 20 bytes is the SHA-1 of the password (local account); 16 bytes is the NT hash, which
    /// gives the plain and the stretched domain forms.
    /// </summary>
    public static IReadOnlyList<byte[]> AllFromHash(ReadOnlySpan<byte> hash, string sid) => hash.Length switch
    {
        20 => [FromPasswordHash(hash, sid)],
        Md4.HashLength => [FromPasswordHash(hash, sid), FromNtHashStretched(hash, sid)],
        _ => throw new ArgumentException($"a {hash.Length}-byte hash is neither SHA-1 (20) nor NT (16)", nameof(hash)),
    };
}

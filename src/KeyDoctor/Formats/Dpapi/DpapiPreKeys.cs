using System.Security.Cryptography;
using System.Text;

namespace KeyDoctor.Formats.Dpapi;

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
}

/// <summary>
/// The LSA secret DPAPI_SYSTEM: version 1, then the machine half (opens Protect\S-1-5-18\*) and the user half
/// (opens Protect\S-1-5-18\User\*). Exactly 44 bytes; anything else means the hives do not belong together.
/// </summary>
public sealed record DpapiSystemSecret(byte[] MachineKey, byte[] UserKey)
{
    public const int Length = 44;

    public static DpapiSystemSecret Parse(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != Length)
            throw new MalformedDataException("DPAPI_SYSTEM", 0, $"{secret.Length} bytes, expected {Length}");
        var version = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(secret);
        if (version != 1)
            throw new MalformedDataException("DPAPI_SYSTEM", 0, $"version {version}, expected 1");
        return new DpapiSystemSecret(secret.Slice(4, 20).ToArray(), secret.Slice(24, 20).ToArray());
    }

    public static DpapiSystemSecret FromHex(string hex) => Parse(Convert.FromHexString(hex));

    /// <summary>Never print the halves: they open every machine key.</summary>
    public override string ToString() => "DPAPI_SYSTEM (secret)";
}

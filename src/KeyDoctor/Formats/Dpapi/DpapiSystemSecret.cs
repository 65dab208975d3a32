using System.Buffers.Binary;

namespace KeyDoctor.Formats.Dpapi;

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
        var version = BinaryPrimitives.ReadUInt32LittleEndian(secret);
        if (version != 1)
            throw new MalformedDataException("DPAPI_SYSTEM", 0, $"version {version}, expected 1");
        return new DpapiSystemSecret(secret.Slice(4, 20).ToArray(), secret.Slice(24, 20).ToArray());
    }

    public static DpapiSystemSecret FromHex(string hex) => Parse(Convert.FromHexString(hex));

    /// <summary>Never print the halves: they open every machine key.</summary>
    public override string ToString() => "DPAPI_SYSTEM (secret)";
}

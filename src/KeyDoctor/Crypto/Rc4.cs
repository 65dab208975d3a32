namespace KeyDoctor.Crypto;

/// <summary>
/// RC4 (ARCFOUR), the stream cipher of IIS 6 metabase secrets and of CryptoAPI session keys.
/// Not in the BCL; this is the one implementation in KeyDoctor (checked against RFC 6229).
/// </summary>
public static class Rc4
{
    /// <summary>XORs <paramref name="data"/> in place with the keystream of <paramref name="key"/> (1-256 bytes).</summary>
    public static void Apply(ReadOnlySpan<byte> key, Span<byte> data)
    {
        if (key.Length is 0 or > 256) throw new ArgumentException("RC4 keys are 1 to 256 bytes", nameof(key));
        Span<byte> state = stackalloc byte[256];
        for (var i = 0; i < 256; i++) state[i] = (byte)i;
        for (int i = 0, j = 0; i < 256; i++)
        {
            j = (j + state[i] + key[i % key.Length]) & 0xFF;
            (state[i], state[j]) = (state[j], state[i]);
        }
        for (int n = 0, i = 0, j = 0; n < data.Length; n++)
        {
            i = (i + 1) & 0xFF;
            j = (j + state[i]) & 0xFF;
            (state[i], state[j]) = (state[j], state[i]);
            data[n] ^= state[(state[i] + state[j]) & 0xFF];
        }
    }
}

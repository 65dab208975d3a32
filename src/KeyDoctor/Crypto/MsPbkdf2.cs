using System.Security.Cryptography;

namespace KeyDoctor.Crypto;

/// <summary>
/// The PBKDF2 variant DPAPI uses to derive master-key encryption keys. It differs from RFC 2898 in one place:
/// each iteration feeds the running XOR accumulator (not the previous HMAC output) back into the HMAC, so
/// <see cref="Rfc2898DeriveBytes"/> gives a different, wrong key. With one or two iterations both agree, which the tests use
/// (the variants first differ at round three) together with the published master-key vectors.
/// </summary>
public static class MsPbkdf2
{
    public static byte[] DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int iterations,
                                   HashAlgorithmName hash, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // Real master keys use 4,000-25,000 rounds; refuse absurd counts from a corrupt file instead of spinning.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, 10_000_000);

        using var hmac = IncrementalHash.CreateHMAC(hash, password);
        var blockLength = hmac.HashLengthInBytes;
        var output = new byte[length];
        Span<byte> accumulator = stackalloc byte[blockLength];
        Span<byte> round = stackalloc byte[blockLength];
        Span<byte> counter = stackalloc byte[4];
        var produced = 0;
        for (uint block = 1; produced < length; block++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(counter, block);
            hmac.AppendData(salt);
            hmac.AppendData(counter);
            hmac.GetHashAndReset(accumulator);
            for (var i = 1; i < iterations; i++)
            {
                hmac.AppendData(accumulator); // The DPAPI twist: HMAC over the accumulator.
                hmac.GetHashAndReset(round);
                for (var j = 0; j < blockLength; j++) accumulator[j] ^= round[j];
            }
            var take = Math.Min(blockLength, length - produced);
            accumulator[..take].CopyTo(output.AsSpan(produced));
            produced += take;
        }
        return output;
    }
}

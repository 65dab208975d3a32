using System.Buffers.Binary;
using System.Numerics;

namespace KeyDoctor.Crypto;

/// <summary>
/// MD4 (RFC 1320), only because the NT hash is MD4(UTF-16LE password) and the BCL has no MD4. Not for anything
/// that needs a secure hash. Checked against the RFC 1320 test suite.
/// </summary>
public static class Md4
{
    public const int HashLength = 16;

    public static byte[] HashData(ReadOnlySpan<byte> data)
    {
        uint a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
        Span<uint> x = stackalloc uint[16];
        Span<byte> tail = stackalloc byte[128];

        var whole = data.Length / 64 * 64;
        for (var offset = 0; offset < whole; offset += 64)
            Block(data.Slice(offset, 64), x, ref a, ref b, ref c, ref d);

        // Padding: 0x80, zeros to 56 mod 64, then the bit length as a little-endian 64-bit number.
        var rest = data[whole..];
        tail.Clear();
        rest.CopyTo(tail);
        tail[rest.Length] = 0x80;
        var tailLength = rest.Length < 56 ? 64 : 128;
        BinaryPrimitives.WriteUInt64LittleEndian(tail[(tailLength - 8)..], (ulong)data.Length * 8);
        for (var offset = 0; offset < tailLength; offset += 64)
            Block(tail.Slice(offset, 64), x, ref a, ref b, ref c, ref d);

        var hash = new byte[HashLength];
        BinaryPrimitives.WriteUInt32LittleEndian(hash, a);
        BinaryPrimitives.WriteUInt32LittleEndian(hash.AsSpan(4), b);
        BinaryPrimitives.WriteUInt32LittleEndian(hash.AsSpan(8), c);
        BinaryPrimitives.WriteUInt32LittleEndian(hash.AsSpan(12), d);
        return hash;
    }

    private static void Block(ReadOnlySpan<byte> block, Span<uint> x, ref uint a, ref uint b, ref uint c, ref uint d)
    {
        for (var i = 0; i < 16; i++) x[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(4 * i)..]);
        uint aa = a, bb = b, cc = c, dd = d;

        // Round 1: F(x,y,z) = (x & y) | (~x & z), words in order, shifts 3 7 11 19.
        for (var i = 0; i < 16; i += 4)
        {
            a = BitOperations.RotateLeft(a + ((b & c) | (~b & d)) + x[i], 3);
            d = BitOperations.RotateLeft(d + ((a & b) | (~a & c)) + x[i + 1], 7);
            c = BitOperations.RotateLeft(c + ((d & a) | (~d & b)) + x[i + 2], 11);
            b = BitOperations.RotateLeft(b + ((c & d) | (~c & a)) + x[i + 3], 19);
        }
        // Round 2: G(x,y,z) = majority, words by column, constant 0x5A827999, shifts 3 5 9 13.
        for (var i = 0; i < 4; i++)
        {
            a = BitOperations.RotateLeft(a + ((b & c) | (b & d) | (c & d)) + x[i] + 0x5A827999, 3);
            d = BitOperations.RotateLeft(d + ((a & b) | (a & c) | (b & c)) + x[i + 4] + 0x5A827999, 5);
            c = BitOperations.RotateLeft(c + ((d & a) | (d & b) | (a & b)) + x[i + 8] + 0x5A827999, 9);
            b = BitOperations.RotateLeft(b + ((c & d) | (c & a) | (d & a)) + x[i + 12] + 0x5A827999, 13);
        }
        // Round 3: H(x,y,z) = x ^ y ^ z, words in bit-reversed order, constant 0x6ED9EBA1, shifts 3 9 11 15.
        ReadOnlySpan<int> order = [0, 2, 1, 3];
        foreach (var i in order)
        {
            a = BitOperations.RotateLeft(a + (b ^ c ^ d) + x[i] + 0x6ED9EBA1, 3);
            d = BitOperations.RotateLeft(d + (a ^ b ^ c) + x[i + 8] + 0x6ED9EBA1, 9);
            c = BitOperations.RotateLeft(c + (d ^ a ^ b) + x[i + 4] + 0x6ED9EBA1, 11);
            b = BitOperations.RotateLeft(b + (c ^ d ^ a) + x[i + 12] + 0x6ED9EBA1, 15);
        }
        a += aa; b += bb; c += cc; d += dd;
        x.Clear();
    }
}

using System.Buffers.Binary;
using System.Numerics;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Marvin32, the keyed checksum Windows uses to protect new-format (HvLE) transaction log entries. Written from
/// the published algorithm (two 32-bit lanes mixed per little-endian dword, 0x80 padding, one extra round); the
/// BCL has it only internally.
/// </summary>
public static class Marvin32
{
    /// <summary>The seed of registry log entries (the specification lists it as the bytes 82 EF 4D 88 7A 4E 55 C5,
    /// most significant first; verified against the hashes of real Windows 10 logs).</summary>
    public const ulong RegistryLogSeed = 0x82EF4D887A4E55C5;

    public static ulong Compute(ReadOnlySpan<byte> data, ulong seed)
    {
        var lo = (uint)seed;
        var hi = (uint)(seed >> 32);
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            lo += BinaryPrimitives.ReadUInt32LittleEndian(data[(i * 4)..]);
            Mix(ref lo, ref hi);
        }
        var tail = data[(blocks * 4)..];
        uint final = tail.Length switch
        {
            0 => 0x80u,
            1 => 0x8000u | tail[0],
            2 => 0x800000u | BinaryPrimitives.ReadUInt16LittleEndian(tail),
            _ => 0x80000000u | ((uint)tail[2] << 16) | BinaryPrimitives.ReadUInt16LittleEndian(tail),
        };
        lo += final;
        Mix(ref lo, ref hi);
        Mix(ref lo, ref hi);
        return ((ulong)hi << 32) | lo;
    }

    private static void Mix(ref uint lo, ref uint hi)
    {
        hi ^= lo;
        lo = BitOperations.RotateLeft(lo, 20);
        lo += hi;
        hi = BitOperations.RotateLeft(hi, 9);
        hi ^= lo;
        lo = BitOperations.RotateLeft(lo, 27);
        lo += hi;
        hi = BitOperations.RotateLeft(hi, 19);
    }
}

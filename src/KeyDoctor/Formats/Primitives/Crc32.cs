using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// CRC-32 as in IEEE 802.3, zlib and RFC 1952 (reflected polynomial 0xEDB88320, initial value and final XOR
/// 0xFFFFFFFF). EVTX checksums use it. Not CRC-32C: the BCL's hardware CRC intrinsics compute the Castagnoli
/// polynomial, which gives different values. Long inputs are folded with carry-less multiplication
/// (PCLMULQDQ, Intel's "Fast CRC Computation for Generic Polynomials" method) where the CPU has it; the rest
/// is table-driven, slicing-by-8.
/// </summary>
public static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues <paramref name="crc"/> (the result of an earlier call) over more bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var c = ~crc;
        if (data.Length >= 64 && Pclmulqdq.IsSupported && Sse2.IsSupported)
        {
            var folded = data.Length & ~15;
            c = Fold(c, data[..folded]);
            data = data[folded..];
        }
        return ~Slice8(c, data);
    }

    /// <summary>Table-driven CRC of the register <paramref name="c"/> (not inverted) over <paramref name="data"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static uint Slice8(uint c, ReadOnlySpan<byte> data)
    {
        var table = Table.AsSpan();
        while (data.Length >= 8)
        {
            var low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ c;
            var high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            c = table[(7 * 256) + (int)(low & 0xFF)] ^ table[(6 * 256) + (int)((low >> 8) & 0xFF)]
              ^ table[(5 * 256) + (int)((low >> 16) & 0xFF)] ^ table[(4 * 256) + (int)(low >> 24)]
              ^ table[(3 * 256) + (int)(high & 0xFF)] ^ table[(2 * 256) + (int)((high >> 8) & 0xFF)]
              ^ table[256 + (int)((high >> 16) & 0xFF)] ^ table[(int)(high >> 24)];
            data = data[8..];
        }
        foreach (var b in data)
            c = table[(int)((c ^ b) & 0xFF)] ^ (c >> 8);
        return c;
    }

    /// <summary>
    /// Folds a multiple of 16 bytes (at least 64) into the 32-bit register: four 128-bit lanes are folded 64
    /// bytes at a time, then into one lane, then reduced to 64 and 32 bits and by Barrett reduction.
    /// The constants are x^n mod P for the reflected polynomial (and its Barrett quotient).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint Fold(uint c, ReadOnlySpan<byte> data)
    {
        var k1k2 = Vector128.Create(0x154442bd4UL, 0x1c6e41596UL);
        var k3k4 = Vector128.Create(0x1751997d0UL, 0x0ccaa009eUL);
        var k5 = Vector128.Create(0x163cd6124UL, 0UL);
        var polyMu = Vector128.Create(0x1db710641UL, 0x1f7011641UL);
        var mask32 = Vector128.Create(0xFFFFFFFFUL, 0UL);

        var x1 = Load(data, 0) ^ Vector128.Create((ulong)c, 0UL);
        var x2 = Load(data, 16);
        var x3 = Load(data, 32);
        var x4 = Load(data, 48);
        var pos = 64;
        for (; pos + 64 <= data.Length; pos += 64)
        {
            x1 = FoldLane(x1, k1k2) ^ Load(data, pos);
            x2 = FoldLane(x2, k1k2) ^ Load(data, pos + 16);
            x3 = FoldLane(x3, k1k2) ^ Load(data, pos + 32);
            x4 = FoldLane(x4, k1k2) ^ Load(data, pos + 48);
        }
        x1 = FoldLane(x1, k3k4) ^ x2;
        x1 = FoldLane(x1, k3k4) ^ x3;
        x1 = FoldLane(x1, k3k4) ^ x4;
        for (; pos + 16 <= data.Length; pos += 16)
            x1 = FoldLane(x1, k3k4) ^ Load(data, pos);

        // 128 -> 64 bits (appends 32 zero bits), then 64 -> 32 bits.
        x1 = Sse2.ShiftRightLogical128BitLane(x1, 8) ^ Pclmulqdq.CarrylessMultiply(k3k4, x1, 0x01);
        var high = Sse2.ShiftRightLogical128BitLane(x1, 4);
        x1 = Pclmulqdq.CarrylessMultiply(x1 & mask32, k5, 0x00) ^ high;

        // Barrett reduction to the 32-bit remainder.
        var t = Pclmulqdq.CarrylessMultiply(x1 & mask32, polyMu, 0x10) & mask32;
        t = Pclmulqdq.CarrylessMultiply(t, polyMu, 0x00) ^ x1;
        return t.AsUInt32().GetElement(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> FoldLane(Vector128<ulong> x, Vector128<ulong> k) =>
        Pclmulqdq.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.CarrylessMultiply(x, k, 0x11);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Load(ReadOnlySpan<byte> data, int offset) =>
        Vector128.Create<byte>(data.Slice(offset, 16)).AsUInt64();

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        // Slice k holds the CRC of a byte followed by k zero bytes, so eight bytes fold in one step.
        for (var slice = 1; slice < 8; slice++)
            for (var i = 0; i < 256; i++)
            {
                var previous = table[((slice - 1) * 256) + i];
                table[(slice * 256) + i] = (previous >> 8) ^ table[(int)(previous & 0xFF)];
            }
        return table;
    }
}

using System.Buffers.Binary;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// A key security ("sk") record: a reference-counted, self-relative SECURITY_DESCRIPTOR shared by keys and
/// linked with its siblings in a circular list (flink/blink).
/// </summary>
public sealed record SecurityKey(uint Flink, uint Blink, uint ReferenceCount, byte[] Descriptor)
{
    public const int FixedSize = 20;

    internal static string? TryParse(ReadOnlySpan<byte> cell, out SecurityKey? key)
    {
        key = null;
        if (cell.Length < FixedSize) return $"security cell is {cell.Length} bytes, needs at least {FixedSize}";
        if (cell[0] != (byte)'s' || cell[1] != (byte)'k') return $"expected a security record (\"sk\"), found \"{KeyNode.Signature(cell)}\"";
        var size = BinaryPrimitives.ReadUInt32LittleEndian(cell[16..]);
        if (size > (uint)(cell.Length - FixedSize)) return $"security descriptor of {size} bytes runs past its cell";
        key = new SecurityKey(
            BinaryPrimitives.ReadUInt32LittleEndian(cell[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(cell[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(cell[12..]),
            cell.Slice(FixedSize, (int)size).ToArray());
        return null;
    }
}

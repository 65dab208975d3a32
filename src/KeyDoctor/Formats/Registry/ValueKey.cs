using System.Buffers.Binary;

namespace KeyDoctor.Formats.Registry;

/// <summary>A key value ("vk") record over its cell data.</summary>
internal readonly ref struct ValueKey
{
    public const int FixedSize = 20;
    public const ushort FlagCompressedName = 0x0001;
    public const uint InlineDataFlag = 0x80000000;

    /// <summary>Values larger than this are split into "db" big-data segments (hive minor version 4 and later).</summary>
    public const int BigDataThreshold = 16344;

    private readonly ReadOnlySpan<byte> _cell;

    private ValueKey(ReadOnlySpan<byte> cell) => _cell = cell;

    public static string? TryParse(ReadOnlySpan<byte> cell, out ValueKey value)
    {
        value = default;
        if (cell.Length < FixedSize) return $"value cell is {cell.Length} bytes, needs at least {FixedSize}";
        if (cell[0] != (byte)'v' || cell[1] != (byte)'k') return $"expected a value (\"vk\"), found \"{KeyNode.Signature(cell)}\"";
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(cell[2..]);
        if (FixedSize + nameLength > cell.Length) return $"value name of {nameLength} bytes runs past its cell";
        value = new ValueKey(cell);
        return null;
    }

    public ushort NameLength => BinaryPrimitives.ReadUInt16LittleEndian(_cell[2..]);
    public uint RawDataSize => BinaryPrimitives.ReadUInt32LittleEndian(_cell[4..]);
    public uint DataOffset => BinaryPrimitives.ReadUInt32LittleEndian(_cell[8..]);
    public uint Type => BinaryPrimitives.ReadUInt32LittleEndian(_cell[12..]);
    public ushort Flags => BinaryPrimitives.ReadUInt16LittleEndian(_cell[16..]);

    /// <summary>The data lives in the data-offset field itself (4 bytes or fewer).</summary>
    public bool IsInline => (RawDataSize & InlineDataFlag) != 0;

    public uint DataSize => RawDataSize & ~InlineDataFlag;
    public bool HasCompressedName => (Flags & FlagCompressedName) != 0;
    public ReadOnlySpan<byte> NameBytes => _cell.Slice(FixedSize, NameLength);
    public string Name => KeyNode.DecodeName(NameBytes, HasCompressedName);
    public bool NameEquals(ReadOnlySpan<char> name) => KeyNode.NameEquals(NameBytes, HasCompressedName, name);

    /// <summary>Position of the data-offset field inside the cell (where inline data is stored).</summary>
    public const int InlineDataPosition = 8;
}

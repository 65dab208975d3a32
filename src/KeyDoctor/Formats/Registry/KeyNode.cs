using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Registry;

/// <summary>A key node ("nk") record over its cell data. Field offsets follow the REGF specification.</summary>
internal readonly ref struct KeyNode
{
    public const int FixedSize = 76;
    public const ushort FlagVolatile = 0x0001;
    public const ushort FlagHiveExit = 0x0002;
    public const ushort FlagHiveEntry = 0x0004;
    public const ushort FlagNoDelete = 0x0008;
    public const ushort FlagSymbolicLink = 0x0010;
    public const ushort FlagCompressedName = 0x0020;

    private readonly ReadOnlySpan<byte> _cell;

    private KeyNode(ReadOnlySpan<byte> cell) => _cell = cell;

    /// <summary>Parses the cell as a key node; null reason on success.</summary>
    public static string? TryParse(ReadOnlySpan<byte> cell, out KeyNode node)
    {
        node = default;
        if (cell.Length < FixedSize) return $"key node cell is {cell.Length} bytes, needs at least {FixedSize}";
        if (cell[0] != (byte)'n' || cell[1] != (byte)'k') return $"expected a key node (\"nk\"), found \"{Signature(cell)}\"";
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(cell[72..]);
        if (FixedSize + nameLength > cell.Length) return $"key name of {nameLength} bytes runs past its cell";
        node = new KeyNode(cell);
        return null;
    }

    public ushort Flags => BinaryPrimitives.ReadUInt16LittleEndian(_cell[2..]);
    public ulong LastWrittenRaw => BinaryPrimitives.ReadUInt64LittleEndian(_cell[4..]);
    public uint Parent => U32(16);
    public uint SubkeyCount => U32(20);
    public uint SubkeyListOffset => U32(28);
    public uint ValueCount => U32(36);
    public uint ValueListOffset => U32(40);
    public uint SecurityOffset => U32(44);
    public uint ClassNameOffset => U32(48);
    public ushort NameLength => BinaryPrimitives.ReadUInt16LittleEndian(_cell[72..]);
    public ushort ClassNameLength => BinaryPrimitives.ReadUInt16LittleEndian(_cell[74..]);
    public bool HasCompressedName => (Flags & FlagCompressedName) != 0;
    public ReadOnlySpan<byte> NameBytes => _cell.Slice(FixedSize, NameLength);

    public string Name => DecodeName(NameBytes, HasCompressedName);

    /// <summary>Compares the stored name with <paramref name="name"/> case-insensitively, without allocating.</summary>
    public bool NameEquals(ReadOnlySpan<char> name) => NameEquals(NameBytes, HasCompressedName, name);

    /// <summary>
    /// Names flagged "compressed" hold one byte per character; Windows widens each byte to UTF-16 (Latin-1), so
    /// that is what is decoded here. Other names are UTF-16LE.
    /// </summary>
    public static string DecodeName(ReadOnlySpan<byte> bytes, bool compressed) =>
        compressed ? Encoding.Latin1.GetString(bytes) : Encoding.Unicode.GetString(bytes[..(bytes.Length & ~1)]);

    public static bool NameEquals(ReadOnlySpan<byte> bytes, bool compressed, ReadOnlySpan<char> name)
    {
        if (compressed)
        {
            if (bytes.Length != name.Length) return false;
            for (var i = 0; i < bytes.Length; i++)
            {
                var a = (char)bytes[i];
                var b = name[i];
                if (a != b && char.ToUpperInvariant(a) != char.ToUpperInvariant(b)) return false;
            }
            return true;
        }
        if (bytes.Length / 2 != name.Length) return false;
        var chars = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(bytes[..(name.Length * 2)]);
        return chars.Equals(name, StringComparison.OrdinalIgnoreCase);
    }

    internal static string Signature(ReadOnlySpan<byte> cell) =>
        cell.Length < 2 ? "" : string.Concat(Printable(cell[0]), Printable(cell[1]));

    private static string Printable(byte b) => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:x2}";

    private uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_cell[offset..]);
}

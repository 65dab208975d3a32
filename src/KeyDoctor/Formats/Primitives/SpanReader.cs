using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// A forward-only little-endian reader over a span. Every read is bounds-checked and a short read throws
/// <see cref="MalformedDataException"/> with the absolute offset, so readers never index past their input.
/// </summary>
public ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _format;
    private readonly long _baseOffset;

    public SpanReader(ReadOnlySpan<byte> data, string format, long baseOffset = 0)
    {
        _data = data;
        _format = format;
        _baseOffset = baseOffset;
        Position = 0;
    }

    public int Position { get; set; }
    public readonly int Length => _data.Length;
    public readonly int Remaining => _data.Length - Position;
    public readonly long AbsolutePosition => _baseOffset + Position;

    public byte ReadByte() => Take(1)[0];
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public Guid ReadGuid() => new(Take(16));

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0) throw Error($"negative length {count}");
        return Take(count);
    }

    /// <summary>Reads <paramref name="charCount"/> UTF-16LE code units and trims trailing NULs.</summary>
    public string ReadUtf16(int charCount) => Encoding.Unicode.GetString(ReadBytes(checked(charCount * 2))).TrimEnd('\0');

    public void Skip(int count) => Take(count);

    public readonly MalformedDataException Error(string message) => new(_format, AbsolutePosition, message);

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)Remaining)
            throw new MalformedDataException(_format, AbsolutePosition,
                $"needs {count} bytes but only {Remaining} remain");
        var slice = _data.Slice(Position, count);
        Position += count;
        return slice;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// One typed value inside a chunk: its type and where its bytes are. Values stay undecoded until something
/// asks for them, so a filtered scan never pays for rendering.
/// </summary>
internal readonly record struct BinXmlValue(BinXmlValueType Type, int Offset, int Length)
{
    public bool IsNull => Type == BinXmlValueType.Null;
    public bool IsArray => ((byte)Type & 0x80) != 0;
    public BinXmlValueType ItemType => (BinXmlValueType)((byte)Type & 0x7F);
}

/// <summary>Decodes and renders <see cref="BinXmlValue"/>s the way Windows renders them in event XML.</summary>
internal static class BinXmlValues
{
    private static readonly Encoding Ansi = CreateAnsiEncoding();

    private static Encoding CreateAnsiEncoding()
    {
        // ANSI strings are in the writer's code page; windows-1252 is the default on Western systems.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(1252);
    }

    /// <summary>The value as text (strings decoded, numbers in decimal, hex types as 0x…, times in ISO 8601 UTC).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Render(byte[] chunk, BinXmlValue value)
    {
        var bytes = chunk.AsSpan(value.Offset, value.Length);
        switch (value.Type)
        {
            case BinXmlValueType.Null: return "";
            case BinXmlValueType.String: return DecodeUtf16(bytes);
            case BinXmlValueType.AnsiString: return DecodeAnsi(bytes);
        }
        if (value.IsArray)
        {
            var sb = new StringBuilder();
            var first = true;
            foreach (var item in ArrayItems(chunk, value))
            {
                if (!first) sb.Append(',');
                first = false;
                sb.Append(Render(chunk, item));
            }
            return sb.ToString();
        }
        // Scalars need at most 40 characters; a SID up to 8 + 11 per sub-authority (at most 15).
        Span<char> buffer = stackalloc char[value.Type == BinXmlValueType.Sid ? 192 : 48];
        if (TryFormatScalar(bytes, value.Type, buffer, out var written)) return new string(buffer[..written]);
        return Convert.ToHexString(bytes);
    }

    /// <summary>Renders into <paramref name="destination"/> without allocating; false when it does not fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryFormat(byte[] chunk, BinXmlValue value, Span<char> destination, out int written)
    {
        var bytes = chunk.AsSpan(value.Offset, value.Length);
        if (value.Type == BinXmlValueType.String)
        {
            var chars = Utf16Chars(bytes);
            written = chars.Length;
            return chars.TryCopyTo(destination);
        }
        if (value.IsNull)
        {
            written = 0;
            return true;
        }
        if (value.Type == BinXmlValueType.Binary) return Convert.TryToHexString(bytes, destination, out written);
        // windows-1252 maps ASCII to itself: ASCII text needs no decoder (and no string).
        if (value.Type == BinXmlValueType.AnsiString && Ascii.ToUtf16(AnsiBytes(bytes), destination, out written) == OperationStatus.Done)
            return true;
        if (!value.IsArray && value.Type != BinXmlValueType.AnsiString && TryFormatScalar(bytes, value.Type, destination, out written))
            return true;
        var text = Render(chunk, value);
        written = text.Length;
        return text.TryCopyTo(destination);
    }

    /// <summary>Appends the rendered value without an intermediate string where possible.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AppendTo(StringBuilder sb, byte[] chunk, BinXmlValue value)
    {
        var bytes = chunk.AsSpan(value.Offset, value.Length);
        if (value.Type == BinXmlValueType.String)
        {
            sb.Append(Utf16Chars(bytes));
            return;
        }
        Span<char> buffer = stackalloc char[value.Type == BinXmlValueType.Sid ? 192 : 48];
        if (!value.IsArray && value.Type != BinXmlValueType.AnsiString && TryFormatScalar(bytes, value.Type, buffer, out var written))
        {
            sb.Append(buffer[..written]);
            return;
        }
        sb.Append(Render(chunk, value));
    }

    /// <summary>The UTF-16 characters of a string value up to its first NUL, without copying.</summary>
    public static ReadOnlySpan<char> Utf16Chars(ReadOnlySpan<byte> bytes)
    {
        var chars = MemoryMarshal.Cast<byte, char>(bytes[..(bytes.Length & ~1)]);
        var nul = chars.IndexOf('\0');
        return nul >= 0 ? chars[..nul] : chars;
    }

    public static string DecodeUtf16(ReadOnlySpan<byte> bytes) => new(Utf16Chars(bytes));

    private static string DecodeAnsi(ReadOnlySpan<byte> bytes) => Ansi.GetString(AnsiBytes(bytes));

    /// <summary>The bytes of an ANSI string value up to its first NUL.</summary>
    private static ReadOnlySpan<byte> AnsiBytes(ReadOnlySpan<byte> bytes)
    {
        var nul = bytes.IndexOf((byte)0);
        return nul >= 0 ? bytes[..nul] : bytes;
    }

    /// <summary>Reads an unsigned integer value (any integer, hex or bool type) for typed fields.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryGetUInt64(byte[] chunk, BinXmlValue value, out ulong result)
    {
        var bytes = chunk.AsSpan(value.Offset, value.Length);
        switch (value.Type)
        {
            case BinXmlValueType.Int8 or BinXmlValueType.UInt8:
            case BinXmlValueType.Int16 or BinXmlValueType.UInt16:
            case BinXmlValueType.Int32 or BinXmlValueType.UInt32:
            case BinXmlValueType.Int64 or BinXmlValueType.UInt64:
            case BinXmlValueType.HexInt32 or BinXmlValueType.HexInt64 or BinXmlValueType.SizeT:
                result = ReadUnsigned(bytes, FixedSize(value.Type) ?? bytes.Length);
                return true;
            case BinXmlValueType.String:
                return ulong.TryParse(Utf16Chars(bytes), NumberStyles.None, CultureInfo.InvariantCulture, out result);
            default:
                result = 0;
                return false;
        }
    }

    /// <summary>Reads a FILETIME or SYSTEMTIME value as a UTC time.</summary>
    public static DateTime? TryGetTime(byte[] chunk, BinXmlValue value)
    {
        var bytes = chunk.AsSpan(value.Offset, value.Length);
        return value.Type switch
        {
            BinXmlValueType.FileTime when bytes.Length >= 8 => FromFileTime(BinaryPrimitives.ReadUInt64LittleEndian(bytes)),
            BinXmlValueType.SystemTime when bytes.Length >= 16 => FromSystemTime(bytes),
            BinXmlValueType.String => DateTime.TryParse(Utf16Chars(bytes), CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null,
            _ => null,
        };
    }

    /// <summary>FILETIME (100 ns since 1601) to UTC; null when out of DateTime's range.</summary>
    public static DateTime? FromFileTime(ulong fileTime) =>
        fileTime <= (ulong)(DateTime.MaxValue.Ticks - DateTime.FromFileTimeUtc(0).Ticks)
            ? new DateTime(DateTime.FromFileTimeUtc(0).Ticks + (long)fileTime, DateTimeKind.Utc)
            : null;

    private static DateTime? FromSystemTime(ReadOnlySpan<byte> b)
    {
        Span<int> f = stackalloc int[8];
        for (var i = 0; i < 8; i++) f[i] = BinaryPrimitives.ReadUInt16LittleEndian(b[(i * 2)..]);
        try
        {
            return new DateTime(f[0], f[1], f[3], f[4], f[5], f[6], f[7], DateTimeKind.Utc);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Splits an array value into its items (fixed-size types by size, strings at NULs, SIDs by length).</summary>
    public static List<BinXmlValue> ArrayItems(byte[] chunk, BinXmlValue value)
    {
        var items = new List<BinXmlValue>();
        var itemType = value.ItemType;
        var end = value.Offset + value.Length;
        var pos = value.Offset;
        switch (itemType)
        {
            case BinXmlValueType.String:
                while (pos + 1 < end)
                {
                    var start = pos;
                    while (pos + 1 < end && (chunk[pos] | chunk[pos + 1]) != 0) pos += 2;
                    items.Add(new BinXmlValue(itemType, start, pos - start));
                    pos += 2;
                }
                break;
            case BinXmlValueType.AnsiString:
                while (pos < end)
                {
                    var start = pos;
                    while (pos < end && chunk[pos] != 0) pos++;
                    items.Add(new BinXmlValue(itemType, start, pos - start));
                    pos++;
                }
                break;
            case BinXmlValueType.Sid:
                while (pos + 8 <= end)
                {
                    var size = Math.Min(8 + (4 * chunk[pos + 1]), end - pos);
                    items.Add(new BinXmlValue(itemType, pos, size));
                    pos += size;
                }
                break;
            default:
                var itemSize = FixedSize(itemType) ?? (itemType == BinXmlValueType.SizeT ? (value.Length % 8 == 0 ? 8 : 4) : 0);
                if (itemSize == 0) break;
                for (; pos + itemSize <= end; pos += itemSize) items.Add(new BinXmlValue(itemType, pos, itemSize));
                break;
        }
        return items;
    }

    /// <summary>Size in bytes of fixed-size types; null for variable-size ones.</summary>
    public static int? FixedSize(BinXmlValueType type) => type switch
    {
        BinXmlValueType.Int8 or BinXmlValueType.UInt8 => 1,
        BinXmlValueType.Int16 or BinXmlValueType.UInt16 => 2,
        BinXmlValueType.Int32 or BinXmlValueType.UInt32 or BinXmlValueType.HexInt32 or BinXmlValueType.Real32 or BinXmlValueType.Bool => 4,
        BinXmlValueType.Int64 or BinXmlValueType.UInt64 or BinXmlValueType.HexInt64 or BinXmlValueType.Real64 or BinXmlValueType.FileTime => 8,
        BinXmlValueType.Guid or BinXmlValueType.SystemTime => 16,
        _ => null,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadUnsigned(ReadOnlySpan<byte> bytes, int size)
    {
        if (bytes.Length >= size)
        {
            switch (size)
            {
                case 1: return bytes[0];
                case 2: return BinaryPrimitives.ReadUInt16LittleEndian(bytes);
                case 4: return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
                case >= 8: return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            }
        }
        return ReadPadded(bytes, size);
    }

    // Out of line: its buffer would keep ReadUnsigned from being inlined.
    private static ulong ReadPadded(ReadOnlySpan<byte> bytes, int size)
    {
        // Short values in dirty records read as if zero-padded instead of failing the record.
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        bytes[..Math.Min(Math.Min(size, 8), bytes.Length)].CopyTo(padded);
        return BinaryPrimitives.ReadUInt64LittleEndian(padded);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryFormatScalar(ReadOnlySpan<byte> b, BinXmlValueType type, Span<char> dest, out int written)
    {
        var inv = CultureInfo.InvariantCulture;
        var size = FixedSize(type) ?? (type == BinXmlValueType.SizeT && b.Length < 8 ? 4 : 8);
        var raw = ReadUnsigned(b, size);
        switch (type)
        {
            case BinXmlValueType.Int8: return ((sbyte)raw).TryFormat(dest, out written, default, inv);
            case BinXmlValueType.UInt8: return ((byte)raw).TryFormat(dest, out written, default, inv);
            case BinXmlValueType.Int16: return ((short)raw).TryFormat(dest, out written, default, inv);
            case BinXmlValueType.UInt16: return ((ushort)raw).TryFormat(dest, out written, default, inv);
            case BinXmlValueType.Int32: return ((int)raw).TryFormat(dest, out written, default, inv);
            case BinXmlValueType.UInt32: return ((uint)raw).TryFormat(dest, out written, default, inv);
            case BinXmlValueType.Int64: return ((long)raw).TryFormat(dest, out written, default, inv);
            case BinXmlValueType.UInt64: return raw.TryFormat(dest, out written, default, inv);
            case BinXmlValueType.Real32: return BitConverter.Int32BitsToSingle((int)raw).TryFormat(dest, out written, "R", inv);
            case BinXmlValueType.Real64: return BitConverter.Int64BitsToDouble((long)raw).TryFormat(dest, out written, "R", inv);
            case BinXmlValueType.Bool:
                // Real logs hold values other than 0 and 1: anything non-zero is true.
                var text = raw != 0 ? "true" : "false";
                written = text.Length;
                return text.TryCopyTo(dest);
            case BinXmlValueType.HexInt32 or BinXmlValueType.HexInt64 or BinXmlValueType.SizeT:
                return FormatHex(raw, dest, out written);
            case BinXmlValueType.Guid when b.Length >= 16:
                return new Guid(b[..16]).TryFormat(dest, out written, "B") && Ascii.ToUpperInPlace(dest[..written], out _) == OperationStatus.Done;
            case BinXmlValueType.FileTime when b.Length >= 8:
                var ft = FromFileTime(raw);
                if (ft is null) break;
                return ft.Value.TryFormat(dest, out written, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", inv);
            case BinXmlValueType.SystemTime when b.Length >= 16:
                var st = FromSystemTime(b);
                if (st is null) break;
                return st.Value.TryFormat(dest, out written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", inv);
            case BinXmlValueType.Sid when b.Length >= 8:
                return FormatSid(b, dest, out written);
        }
        written = 0;
        return false;
    }

    private static bool FormatHex(ulong v, Span<char> dest, out int written)
    {
        dest[0] = '0';
        dest[1] = 'x';
        var ok = v.TryFormat(dest[2..], out var n, "x", CultureInfo.InvariantCulture);
        written = n + 2;
        return ok;
    }

    /// <summary>S-revision-authority-sub1-…; the 48-bit authority is big-endian, in hex when it is 2^32 or more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool FormatSid(ReadOnlySpan<byte> b, Span<char> dest, out int written)
    {
        var inv = CultureInfo.InvariantCulture;
        var count = Math.Min(b[1], (b.Length - 8) / 4);
        ulong authority = 0;
        for (var i = 2; i < 8; i++) authority = (authority << 8) | b[i];
        var pos = 0;
        var ok = Put(dest, ref pos, "S-") && Put(dest, ref pos, b[0]) && Put(dest, ref pos, "-")
                 && (authority < (1UL << 32)
                     ? Put(dest, ref pos, authority)
                     : Put(dest, ref pos, "0x") && authority.TryFormat(dest[pos..], out var n, "X12", inv) && Advance(ref pos, n));
        for (var i = 0; ok && i < count; i++)
            ok = Put(dest, ref pos, "-") && Put(dest, ref pos, BinaryPrimitives.ReadUInt32LittleEndian(b[(8 + (4 * i))..]));
        written = ok ? pos : 0;
        return ok;
    }

    private static bool Put(Span<char> dest, ref int pos, string text)
    {
        if (!text.TryCopyTo(dest[pos..])) return false;
        pos += text.Length;
        return true;
    }

    private static bool Put(Span<char> dest, ref int pos, ulong number) =>
        number.TryFormat(dest[pos..], out var n, default, CultureInfo.InvariantCulture) && Advance(ref pos, n);

    private static bool Advance(ref int pos, int n)
    {
        pos += n;
        return true;
    }
}

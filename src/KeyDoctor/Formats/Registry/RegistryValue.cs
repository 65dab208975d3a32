using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// A registry value: its name ("" for the default value), its type number and its raw bytes exactly as stored.
/// The typed accessors decode on demand and never throw for odd data: a DWORD of the wrong length or a string
/// without its terminating NUL is what real hives contain (libregf "corruption scenarios").
/// </summary>
public sealed class RegistryValue
{
    public RegistryValue(string name, RegistryValueType type, ReadOnlyMemory<byte> data, string? problem = null)
    {
        Name = name;
        Type = type;
        Data = data;
        Problem = problem;
    }

    public string Name { get; }

    /// <summary>The stored type number (may be outside the named REG_* values).</summary>
    public RegistryValueType Type { get; }

    /// <summary>The stored bytes (the value's data size, never more).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Why the data may be incomplete (e.g. its size field exceeds its cell), or null.</summary>
    public string? Problem { get; }

    public bool IsStringType => IsString(Type);

    /// <summary>
    /// UTF-16LE text up to the first NUL (a trailing odd byte is ignored); null for non-string types.
    /// </summary>
    public string? AsString() => IsStringType ? DecodeString(Data.Span) : null;

    /// <summary>The strings of a REG_MULTI_SZ (trailing empty strings dropped), or null for other types.</summary>
    public IReadOnlyList<string>? AsMultiString() =>
        Type == RegistryValueType.MultiString ? DecodeMultiString(Data.Span) : null;

    /// <summary>The number of a REG_DWORD (either byte order) or REG_QWORD whose length is right, else null.</summary>
    public ulong? AsNumber() => NumberOf(Type, Data.Span);

    /// <summary>REG_SZ, REG_EXPAND_SZ and REG_LINK hold UTF-16LE text.</summary>
    public static bool IsString(RegistryValueType type) =>
        type is RegistryValueType.String or RegistryValueType.ExpandString or RegistryValueType.Link;

    /// <summary>The UTF-16LE text of string data up to the first NUL, as characters (a trailing odd byte is ignored).</summary>
    public static ReadOnlySpan<char> StringChars(ReadOnlySpan<byte> data)
    {
        var chars = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(data[..(data.Length & ~1)]);
        var nul = chars.IndexOf('\0');
        return nul >= 0 ? chars[..nul] : chars;
    }

    /// <summary>See <see cref="AsNumber"/>.</summary>
    public static ulong? NumberOf(RegistryValueType type, ReadOnlySpan<byte> data) => type switch
    {
        RegistryValueType.DWordLittleEndian when data.Length == 4 => BinaryPrimitives.ReadUInt32LittleEndian(data),
        RegistryValueType.DWordBigEndian when data.Length == 4 => BinaryPrimitives.ReadUInt32BigEndian(data),
        RegistryValueType.QWordLittleEndian when data.Length == 8 => BinaryPrimitives.ReadUInt64LittleEndian(data),
        _ => null,
    };

    /// <summary>
    /// The natural .NET form: string (REG_SZ/EXPAND_SZ/LINK), string[] (MULTI_SZ), ulong (DWORD/QWORD of the
    /// right length), else the raw bytes as byte[].
    /// </summary>
    public object Decode()
    {
        if (IsStringType) return DecodeString(Data.Span);
        if (Type == RegistryValueType.MultiString) return DecodeMultiString(Data.Span).ToArray();
        if (AsNumber() is { } number) return number;
        return Data.ToArray();
    }

    public override string ToString() => $"{(Name.Length == 0 ? "(default)" : Name)} {Type.ToRegName()} ({Data.Length} bytes)";

    /// <summary>See <see cref="AsString"/>.</summary>
    public static string DecodeString(ReadOnlySpan<byte> data)
    {
        var chars = StringChars(data);
        return BitConverter.IsLittleEndian ? new string(chars) : Encoding.Unicode.GetString(data[..(chars.Length * 2)]);
    }

    /// <summary>See <see cref="AsMultiString"/>.</summary>
    public static List<string> DecodeMultiString(ReadOnlySpan<byte> data)
    {
        var even = data[..(data.Length & ~1)];
        var text = Encoding.Unicode.GetString(even);
        var parts = new List<string>(text.Split('\0'));
        while (parts.Count > 0 && parts[^1].Length == 0) parts.RemoveAt(parts.Count - 1);
        return parts;
    }
}

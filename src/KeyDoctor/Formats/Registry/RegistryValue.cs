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

    public bool IsStringType => Type is RegistryValueType.String or RegistryValueType.ExpandString or RegistryValueType.Link;

    /// <summary>
    /// UTF-16LE text up to the first NUL (a trailing odd byte is ignored); null for non-string types.
    /// </summary>
    public string? AsString() => IsStringType ? DecodeString(Data.Span) : null;

    /// <summary>The strings of a REG_MULTI_SZ (trailing empty strings dropped), or null for other types.</summary>
    public IReadOnlyList<string>? AsMultiString() =>
        Type == RegistryValueType.MultiString ? DecodeMultiString(Data.Span) : null;

    /// <summary>The number of a REG_DWORD (either byte order) or REG_QWORD whose length is right, else null.</summary>
    public ulong? AsNumber()
    {
        var span = Data.Span;
        return Type switch
        {
            RegistryValueType.DWordLittleEndian when span.Length == 4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
            RegistryValueType.DWordBigEndian when span.Length == 4 => BinaryPrimitives.ReadUInt32BigEndian(span),
            RegistryValueType.QWordLittleEndian when span.Length == 8 => BinaryPrimitives.ReadUInt64LittleEndian(span),
            _ => null,
        };
    }

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

    internal static string DecodeString(ReadOnlySpan<byte> data)
    {
        var even = data[..(data.Length & ~1)];
        var chars = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(even);
        var nul = chars.IndexOf('\0');
        if (nul >= 0) chars = chars[..nul];
        return BitConverter.IsLittleEndian ? new string(chars) : Encoding.Unicode.GetString(even[..(chars.Length * 2)]);
    }

    internal static List<string> DecodeMultiString(ReadOnlySpan<byte> data)
    {
        var even = data[..(data.Length & ~1)];
        var text = Encoding.Unicode.GetString(even);
        var parts = new List<string>(text.Split('\0'));
        while (parts.Count > 0 && parts[^1].Length == 0) parts.RemoveAt(parts.Count - 1);
        return parts;
    }
}

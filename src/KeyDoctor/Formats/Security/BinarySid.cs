using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace KeyDoctor.Formats.Security;

/// <summary>A binary SID (revision 1, sub-authority count, 48-bit big-endian authority, little-endian sub-authorities).</summary>
public static class BinarySid
{
    /// <summary>The SID as S-1-...; null when the bytes do not hold one.</summary>
    public static string? TryFormat(ReadOnlySpan<byte> sid)
    {
        if (sid.Length < 8 || sid[0] != 1 || sid[1] > 15 || sid.Length < 8 + 4 * sid[1]) return null;
        ulong authority = 0;
        for (var i = 2; i < 8; i++) authority = authority << 8 | sid[i];
        var text = new StringBuilder("S-1-").Append(authority.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < sid[1]; i++)
            text.Append('-').Append(BinaryPrimitives.ReadUInt32LittleEndian(sid[(8 + 4 * i)..]).ToString(CultureInfo.InvariantCulture));
        return text.ToString();
    }
}

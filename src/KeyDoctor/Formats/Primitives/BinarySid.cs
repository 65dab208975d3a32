using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace KeyDoctor.Formats.Primitives;

/// <summary>A binary security identifier (revision, sub-authority count, 48-bit big-endian authority, sub-authorities).</summary>
public static class BinarySid
{
    /// <summary>S-1-5-…; null when the bytes are not a whole SID of revision 1.</summary>
    public static string? Format(ReadOnlySpan<byte> sid)
    {
        if (sid.Length < 8 || sid[0] != 1 || sid[1] > 15 || sid.Length < 8 + (4 * sid[1])) return null;
        ulong authority = 0;
        for (var i = 2; i < 8; i++) authority = (authority << 8) | sid[i];
        var text = new StringBuilder("S-1-").Append(authority.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < sid[1]; i++)
            text.Append('-').Append(BinaryPrimitives.ReadUInt32LittleEndian(sid[(8 + (4 * i))..]).ToString(CultureInfo.InvariantCulture));
        return text.ToString();
    }
}

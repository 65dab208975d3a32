using System.Buffers.Binary;
using System.Net;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// The PML string table: a count, an offset per string (from the table start), and the strings (a byte size,
/// then UTF-16LE). Processes and modules refer to strings by index.
/// </summary>
internal static class PmlStringTable
{
    public static string[] Parse(ReadOnlySpan<byte> table, long fileOffset)
    {
        var reader = new SpanReader(table, PmlHeader.Format, fileOffset);
        var count = reader.ReadUInt32();
        if (count > table.Length / 4)
            throw reader.Error($"string table claims {count} strings in {table.Length} bytes");
        var strings = new string[count];
        var offsets = reader.ReadBytes(checked((int)count * 4));
        for (var i = 0; i < count; i++)
        {
            var at = BinaryPrimitives.ReadUInt32LittleEndian(offsets[(i * 4)..]);
            var item = new SpanReader(table, PmlHeader.Format, fileOffset) { Position = (int)Math.Min(at, (uint)table.Length) };
            var size = item.ReadUInt32();
            strings[i] = System.Text.Encoding.Unicode.GetString(item.ReadBytes((int)Math.Min(size, int.MaxValue) & ~1)).TrimEnd('\0');
        }
        return strings;
    }
}

/// <summary>
/// The PML process table: a count, the process indexes, an offset per process, and the process records (ids,
/// authentication id, session, times, integrity, user, name, image path, command line, version strings as
/// string-table indexes, then the loaded modules, which are skipped).
/// </summary>
internal static class PmlProcessTable
{
    public static Dictionary<int, ProcmonProcess> Parse(ReadOnlySpan<byte> table, long fileOffset, string[] strings, bool is64Bit)
    {
        var reader = new SpanReader(table, PmlHeader.Format, fileOffset);
        var count = reader.ReadUInt32();
        if (count > table.Length / 8)
            throw reader.Error($"process table claims {count} processes in {table.Length} bytes");
        reader.Skip(checked((int)count * 4)); // the indexes are repeated in each record
        var offsets = reader.ReadBytes(checked((int)count * 4));
        var processes = new Dictionary<int, ProcmonProcess>((int)count);
        for (var i = 0; i < count; i++)
        {
            var at = BinaryPrimitives.ReadUInt32LittleEndian(offsets[(i * 4)..]);
            if (at >= table.Length) throw new MalformedDataException(PmlHeader.Format, fileOffset + 4 + (4 * count) + (4 * i), $"process {i} starts outside the process table");
            var record = new SpanReader(table, PmlHeader.Format, fileOffset) { Position = (int)at };
            var index = (int)record.ReadUInt32();
            var pid = record.ReadUInt32();
            var parent = record.ReadUInt32();
            record.Skip(4);
            var authenticationId = record.ReadUInt64();
            var session = record.ReadUInt32();
            record.Skip(4 + 8 + 8); // unknown, start and end FILETIMEs
            record.Skip(4); // virtualized
            var process64 = record.ReadUInt32() != 0;
            string Text(ref SpanReader r)
            {
                var s = r.ReadUInt32();
                return s < strings.Length ? strings[s] : "";
            }
            processes[index] = new ProcmonProcess
            {
                Index = index,
                ProcessId = pid,
                ParentProcessId = parent,
                AuthenticationId = authenticationId,
                Session = session,
                Is64Bit = process64,
                Integrity = Text(ref record),
                User = Text(ref record),
                Name = Text(ref record),
                ImagePath = Text(ref record),
                CommandLine = Text(ref record),
                Company = Text(ref record),
                Version = Text(ref record),
                Description = Text(ref record),
            };
        }
        return processes;
    }
}

/// <summary>Host names (by IP, 16 bytes) and port names (by number and protocol) that network event paths use.</summary>
internal sealed class PmlNetworkNames
{
    private readonly Dictionary<UInt128, string> _hosts = [];
    private readonly Dictionary<(ushort, bool), string> _ports = [];

    public static PmlNetworkNames Parse(ReadOnlySpan<byte> tables, long fileOffset)
    {
        var names = new PmlNetworkNames();
        var reader = new SpanReader(tables, PmlHeader.Format, fileOffset);
        var hosts = reader.ReadUInt32();
        for (var i = 0; i < hosts && reader.Remaining > 0; i++)
        {
            var ip = BinaryPrimitives.ReadUInt128LittleEndian(reader.ReadBytes(16));
            var size = reader.ReadUInt32();
            names._hosts[ip] = System.Text.Encoding.Unicode.GetString(reader.ReadBytes((int)Math.Min(size, int.MaxValue) & ~1)).TrimEnd('\0');
        }
        if (reader.Remaining < 4) return names;
        var ports = reader.ReadUInt32();
        for (var i = 0; i < ports && reader.Remaining > 0; i++)
        {
            var port = reader.ReadUInt16();
            var tcp = reader.ReadUInt16() != 0;
            var size = reader.ReadUInt32();
            names._ports[(port, tcp)] = System.Text.Encoding.Unicode.GetString(reader.ReadBytes((int)Math.Min(size, int.MaxValue) & ~1)).TrimEnd('\0');
        }
        return names;
    }

    public string Host(ReadOnlySpan<byte> ip, bool ipv4)
    {
        if (_hosts.TryGetValue(BinaryPrimitives.ReadUInt128LittleEndian(ip), out var name) && name.Length > 0) return name;
        return (ipv4 ? new IPAddress(ip[..4]) : new IPAddress(ip[..16])).ToString();
    }

    public string Port(ushort port, bool tcp) =>
        _ports.TryGetValue((port, tcp), out var name) ? name : port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

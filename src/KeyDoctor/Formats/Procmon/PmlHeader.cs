using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// The 0x3A8-byte header of a Process Monitor log (PML version 9): the capturing machine, the event count, and
/// where the events, the event-offset array, the process, string and icon tables and the host/port tables are.
/// Procmon writes the table offsets when it closes the file: a capture that was not saved cleanly has zeroes there.
/// </summary>
public sealed record PmlHeader
{
    public const int Size = 0x3A8;
    internal const string Format = "PML";

    public uint Version { get; init; }
    /// <summary>The capture came from a 64-bit Windows: pointers (stack frames, module bases) are 8 bytes.</summary>
    public bool Is64Bit { get; init; }
    public string ComputerName { get; init; } = "";
    public string SystemRoot { get; init; } = "";
    public uint EventCount { get; init; }
    public long EventsOffset { get; init; }
    public long EventOffsetsOffset { get; init; }
    public long ProcessTableOffset { get; init; }
    public long StringTableOffset { get; init; }
    public long IconTableOffset { get; init; }
    public long HostsAndPortsOffset { get; init; }
    public uint WindowsMajor { get; init; }
    public uint WindowsMinor { get; init; }
    public uint WindowsBuild { get; init; }
    public string ServicePack { get; init; } = "";
    public uint LogicalProcessors { get; init; }
    public ulong Memory { get; init; }

    /// <summary>Parses and checks the header against the file length; throws with the offset of the first thing wrong.</summary>
    public static PmlHeader Parse(ReadOnlySpan<byte> data, long fileLength)
    {
        if (data.Length < Size)
            throw new MalformedDataException(Format, 0, $"header needs {Size} bytes but the file has {data.Length}");
        if (!data[..4].SequenceEqual("PML_"u8))
            throw new MalformedDataException(Format, 0, "not a Process Monitor log (no \"PML_\" signature)");
        var reader = new SpanReader(data, Format);
        reader.Skip(4);
        var version = reader.ReadUInt32();
        if (version != 9)
            throw new MalformedDataException(Format, 4, $"PML version {version} is not supported (Process Monitor 3.x writes version 9)");
        var header = new PmlHeader
        {
            Version = version,
            Is64Bit = reader.ReadUInt32() != 0,
            ComputerName = reader.ReadUtf16(0x10),
            SystemRoot = reader.ReadUtf16(0x104),
            EventCount = reader.ReadUInt32(),
        };
        reader.Skip(8);
        header = header with
        {
            EventsOffset = (long)reader.ReadUInt64(),
            EventOffsetsOffset = (long)reader.ReadUInt64(),
            ProcessTableOffset = (long)reader.ReadUInt64(),
            StringTableOffset = (long)reader.ReadUInt64(),
            IconTableOffset = (long)reader.ReadUInt64(),
        };
        reader.Skip(0xC);
        header = header with
        {
            WindowsMajor = reader.ReadUInt32(),
            WindowsMinor = reader.ReadUInt32(),
            WindowsBuild = reader.ReadUInt32(),
        };
        reader.Skip(4);
        header = header with { ServicePack = reader.ReadUtf16(0x19) };
        reader.Skip(0xD6);
        header = header with { LogicalProcessors = reader.ReadUInt32(), Memory = reader.ReadUInt64() };
        var headerSize = reader.ReadUInt64();
        header = header with { HostsAndPortsOffset = (long)reader.ReadUInt64() };

        if (header.EventOffsetsOffset == 0 || header.ProcessTableOffset == 0 || header.StringTableOffset == 0 || header.HostsAndPortsOffset == 0)
            throw new MalformedDataException(Format, 0x240,
                "the table offsets are zero: Process Monitor did not finish saving this capture (save it again from Procmon, File > Save)");
        if (headerSize != Size)
            throw new MalformedDataException(Format, 0x398, $"header size field is 0x{headerSize:X}, not 0x{Size:X}");
        Check(header.EventsOffset, 0x240, "events", fileLength);
        Check(header.EventOffsetsOffset, 0x248, "event offsets", fileLength);
        Check(header.ProcessTableOffset, 0x250, "process table", fileLength);
        Check(header.StringTableOffset, 0x258, "string table", fileLength);
        Check(header.HostsAndPortsOffset, 0x3A0, "host and port tables", fileLength);
        if (header.ProcessTableOffset < header.EventOffsetsOffset
            || (long)header.EventCount * 5 > header.ProcessTableOffset - header.EventOffsetsOffset)
            throw new MalformedDataException(Format, 0x234, $"{header.EventCount} events do not fit the event-offset array before the process table");
        return header;
    }

    private static void Check(long offset, long field, string what, long fileLength)
    {
        if (offset < Size || offset >= fileLength)
            throw new MalformedDataException(Format, field,
                $"the {what} offset 0x{offset:X} is outside the {fileLength}-byte file: the capture is cut short or damaged");
    }
}

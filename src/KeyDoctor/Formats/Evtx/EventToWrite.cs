using System.Text;

namespace KeyDoctor.Formats.Evtx;

/// <summary>The value types <see cref="EvtxWriter"/> writes for EventData (a subset of MS-EVEN6's).</summary>
public enum EventValueKind
{
    String,
    UInt32,
    UInt64,
    HexInt32,
    HexInt64,
    Guid,
    Sid,
    FileTime,
    Binary,
}

/// <summary>One EventData value: written as <c>&lt;Data Name="…"&gt;</c> filled by a typed substitution.</summary>
public sealed record EventDataValue
{
    private EventDataValue(string name, EventValueKind kind, object value)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("a data value needs a name", nameof(name));
        Name = name;
        Kind = kind;
        Value = value;
    }

    public string Name { get; }
    public EventValueKind Kind { get; }
    public object Value { get; }

    public static EventDataValue String(string name, string value) => new(name, EventValueKind.String, value);
    public static EventDataValue UInt32(string name, uint value) => new(name, EventValueKind.UInt32, value);
    public static EventDataValue UInt64(string name, ulong value) => new(name, EventValueKind.UInt64, value);
    public static EventDataValue HexInt32(string name, uint value) => new(name, EventValueKind.HexInt32, value);
    public static EventDataValue HexInt64(string name, ulong value) => new(name, EventValueKind.HexInt64, value);
    public static EventDataValue Guid(string name, Guid value) => new(name, EventValueKind.Guid, value);

    /// <summary>A SID in its string form, e.g. S-1-5-18.</summary>
    public static EventDataValue Sid(string name, string sid) => new(name, EventValueKind.Sid, SidBytes(sid));
    public static EventDataValue FileTime(string name, DateTime utc) => new(name, EventValueKind.FileTime, utc);
    public static EventDataValue Binary(string name, byte[] value) => new(name, EventValueKind.Binary, value.ToArray());

    /// <summary>S-R-A-S1-…-Sn to the binary SID (revision, count, 48-bit big-endian authority, LE sub-authorities).</summary>
    internal static byte[] SidBytes(string sid)
    {
        var parts = sid.Split('-');
        if (parts.Length < 3 || parts[0] != "S" || !byte.TryParse(parts[1], out var revision)
            || !ulong.TryParse(parts[2], out var authority) || authority >= 1UL << 48 || parts.Length - 3 > 15)
            throw new ArgumentException($"'{sid}' is not a SID (S-1-5-…)", nameof(sid));
        var bytes = new byte[8 + (4 * (parts.Length - 3))];
        bytes[0] = revision;
        bytes[1] = (byte)(parts.Length - 3);
        for (var i = 0; i < 6; i++) bytes[2 + i] = (byte)(authority >> (8 * (5 - i)));
        for (var i = 3; i < parts.Length; i++)
        {
            if (!uint.TryParse(parts[i], out var sub)) throw new ArgumentException($"'{sid}' is not a SID", nameof(sid));
            BitConverter.TryWriteBytes(bytes.AsSpan(8 + (4 * (i - 3))), sub);
        }
        return bytes;
    }

    internal (BinXmlValueType Type, byte[] Bytes) Encode() => Kind switch
    {
        EventValueKind.String => (BinXmlValueType.String, Encoding.Unicode.GetBytes((string)Value)),
        EventValueKind.UInt32 => (BinXmlValueType.UInt32, BitConverter.GetBytes((uint)Value)),
        EventValueKind.UInt64 => (BinXmlValueType.UInt64, BitConverter.GetBytes((ulong)Value)),
        EventValueKind.HexInt32 => (BinXmlValueType.HexInt32, BitConverter.GetBytes((uint)Value)),
        EventValueKind.HexInt64 => (BinXmlValueType.HexInt64, BitConverter.GetBytes((ulong)Value)),
        EventValueKind.Guid => (BinXmlValueType.Guid, ((Guid)Value).ToByteArray()),
        EventValueKind.Sid => (BinXmlValueType.Sid, (byte[])Value),
        EventValueKind.FileTime => (BinXmlValueType.FileTime, BitConverter.GetBytes(((DateTime)Value).ToFileTimeUtc())),
        _ => (BinXmlValueType.Binary, (byte[])Value),
    };
}

/// <summary>One event for <see cref="EvtxWriter"/>: the System fields and the EventData values.</summary>
public sealed record EventToWrite
{
    public required string Provider { get; init; }
    public Guid? ProviderGuid { get; init; }
    /// <summary>Classic event source name (e.g. "Service Control Manager"), written as Provider/@EventSourceName.</summary>
    public string? EventSourceName { get; init; }
    public required int EventId { get; init; }
    public int? Qualifiers { get; init; }
    public byte Version { get; init; }
    public byte Level { get; init; } = 4;
    public ushort Task { get; init; }
    public byte Opcode { get; init; }
    public ulong Keywords { get; init; }
    public required DateTime TimeCreated { get; init; }
    public required ulong RecordId { get; init; }
    public required string Computer { get; init; }
    public required string Channel { get; init; }
    /// <summary>System/Security/@UserID, e.g. S-1-5-18; none when null.</summary>
    public string? UserSid { get; init; }
    public uint ProcessId { get; init; }
    public uint ThreadId { get; init; }
    public IReadOnlyList<EventDataValue> Data { get; init; } = [];
}

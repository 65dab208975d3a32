using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Procmon;

/// <summary>One event for <see cref="PmlWriter"/>: registry open/query/set of a value, a file CreateFile, or a file SetInformationFile.</summary>
public sealed record PmlEventToWrite
{
    public required int ProcessIndex { get; init; }
    public uint ThreadId { get; init; } = 1000;
    public required DateTime Time { get; init; }
    public required ProcmonEventClass Class { get; init; }
    /// <summary>PML operation number: registry 0 RegOpenKey, 4 RegSetValue, 5 RegQueryValue; file system 20 CreateFile, 26 SetInformationFile.</summary>
    public required int Operation { get; init; }
    /// <summary>File system sub-operation (the information class): SetInformationFile 0xD SetDispositionInformationFile, 0x40 SetDispositionInformationEx, 0xA SetRenameInformationFile.</summary>
    public byte SubOperation { get; init; }
    /// <summary>SetDispositionInformationFile: the FILE_DISPOSITION_INFORMATION DeleteFile flag written after the path.</summary>
    public bool Delete { get; init; }
    public required string Path { get; init; }
    public uint Status { get; init; }
    public uint DesiredAccess { get; init; } = 0x20019;
    /// <summary>CreateFile: 1 Open, 2 Create, 3 OpenIf.</summary>
    public uint FileDisposition { get; init; } = 1;
    /// <summary>CreateFile's open result (1 Opened, 2 Created), written as extra detail; null for none (a failed open).</summary>
    public uint? OpenResult { get; init; }
    /// <summary>RegQueryValue / RegSetValue: a REG_SZ value's data; null for none (NAME NOT FOUND).</summary>
    public string? StringValue { get; init; }
    /// <summary>Stack frames to record (return addresses are made up); real captures hold 10 to 60.</summary>
    public int StackDepth { get; init; }
}

/// <summary>
/// Writes a Process Monitor capture (PML version 9, 64-bit layout) with the event kinds KeyDoctor's key story
/// needs, in the layout <see cref="PmlReader"/> reads: used to build test traces (a seed's story) and the
/// benchmark capture. Not a general Procmon writer: no stacks, icons or modules.
/// </summary>
public static class PmlWriter
{
    public static void Write(Stream output, string computerName, IReadOnlyList<ProcmonProcess> processes, IEnumerable<PmlEventToWrite> events)
    {
        var strings = new List<string> { "" };
        var stringIndex = new Dictionary<string, int> { [""] = 0 };
        int Str(string? text)
        {
            text ??= "";
            if (!stringIndex.TryGetValue(text, out var i)) { i = strings.Count; strings.Add(text); stringIndex[text] = i; }
            return i;
        }

        output.Write(new byte[PmlHeader.Size]);
        var offsets = new List<uint>();
        uint count = 0;
        var buffer = new MemoryStream();
        foreach (var e in events)
        {
            offsets.Add(checked((uint)output.Position));
            buffer.SetLength(0);
            var (detail, extra) = Detail(e);
            var head = new byte[0x34];
            BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)e.ProcessIndex);
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), e.ThreadId);
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(8), (uint)e.Class);
            BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(12), (ushort)e.Operation);
            BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(20), 10);
            BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(28), e.Time.ToFileTimeUtc());
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(36), e.Status);
            BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(40), (ushort)e.StackDepth);
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(44), (uint)detail.Length);
            var stack = new byte[e.StackDepth * 8];
            for (var frame = 0; frame < e.StackDepth; frame++)
                BinaryPrimitives.WriteUInt64LittleEndian(stack.AsSpan(frame * 8), 0xFFFFF80000000000UL + (ulong)(frame * 0x1234));
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(48), extra is null ? 0u : (uint)(0x34 + stack.Length + detail.Length));
            buffer.Write(head);
            buffer.Write(stack);
            buffer.Write(detail);
            if (extra is not null)
            {
                WriteUInt16(buffer, (ushort)extra.Length);
                buffer.Write(extra);
            }
            buffer.WriteTo(output);
            count++;
        }

        var offsetsAt = output.Position;
        var entry = new byte[5];
        foreach (var offset in offsets)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(entry, offset);
            output.Write(entry);
        }

        var processAt = output.Position;
        var table = new MemoryStream();
        WriteUInt32(table, (uint)processes.Count);
        foreach (var p in processes) WriteUInt32(table, (uint)p.Index);
        var records = processes.Select(p =>
        {
            var r = new MemoryStream();
            WriteUInt32(r, (uint)p.Index);
            WriteUInt32(r, p.ProcessId);
            WriteUInt32(r, p.ParentProcessId ?? 0);
            WriteUInt32(r, 0);
            r.Write(BitConverter.GetBytes(p.AuthenticationId ?? 0x3E7));
            WriteUInt32(r, p.Session ?? 0);
            WriteUInt32(r, 0);
            r.Write(new byte[16]);
            WriteUInt32(r, 0);
            WriteUInt32(r, p.Is64Bit == false ? 0u : 1u);
            foreach (var s in new[] { p.Integrity, p.User, p.Name, p.ImagePath, p.CommandLine, p.Company, p.Version, p.Description }) WriteUInt32(r, (uint)Str(s));
            WriteUInt32(r, 0);
            WriteUInt32(r, 0);
            r.Write(new byte[8]);
            WriteUInt32(r, 0); // no modules
            return r.ToArray();
        }).ToList();
        var at = 4 + (8 * processes.Count);
        foreach (var r in records) { WriteUInt32(table, (uint)at); at += r.Length; }
        foreach (var r in records) table.Write(r);
        table.WriteTo(output);

        var stringsAt = output.Position;
        var stringTable = new MemoryStream();
        WriteUInt32(stringTable, (uint)strings.Count);
        var stringAt = 4 + (4 * strings.Count);
        var encoded = strings.Select(s => Encoding.Unicode.GetBytes(s + "\0")).ToList();
        foreach (var s in encoded) { WriteUInt32(stringTable, (uint)stringAt); stringAt += 4 + s.Length; }
        foreach (var s in encoded) { WriteUInt32(stringTable, (uint)s.Length); stringTable.Write(s); }
        stringTable.WriteTo(output);

        var iconsAt = output.Position;
        WriteUInt32(output, 0);
        var hostsAt = output.Position;
        WriteUInt32(output, 0);
        WriteUInt32(output, 0);

        var header = new byte[PmlHeader.Size];
        "PML_"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 9);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), 1);
        Encoding.Unicode.GetBytes(computerName.Length > 15 ? computerName[..15] : computerName).CopyTo(header.AsSpan(0xC));
        Encoding.Unicode.GetBytes(@"C:\Windows").CopyTo(header.AsSpan(0x2C));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x234), count);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(0x240), PmlHeader.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(0x248), (ulong)offsetsAt);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(0x250), (ulong)processAt);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(0x258), (ulong)stringsAt);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(0x260), (ulong)iconsAt);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x274), 5);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x278), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x27C), 3790);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x38C), 2);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(0x398), PmlHeader.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(0x3A0), (ulong)hostsAt);
        output.Position = 0;
        output.Write(header);
        output.Position = output.Length;
    }

    private static (byte[] Detail, byte[]? Extra) Detail(PmlEventToWrite e)
    {
        var d = new MemoryStream();
        var path = Encoding.Unicode.GetBytes(e.Path);
        var pathInfo = (ushort)e.Path.Length;
        if (e.Class == ProcmonEventClass.Registry)
        {
            WriteUInt16(d, pathInfo);
            byte[]? extra = null;
            switch (e.Operation)
            {
                case 0 or 1: // RegOpenKey, RegCreateKey
                    WriteUInt16(d, 0);
                    WriteUInt32(d, e.DesiredAccess);
                    d.Write(path);
                    if (e.Status == 0) extra = [.. BitConverter.GetBytes(e.DesiredAccess), .. BitConverter.GetBytes(e.Operation == 1 ? 1u : 2u)];
                    break;
                case 4: // RegSetValue: data inside the detail
                {
                    var data = Encoding.Unicode.GetBytes((e.StringValue ?? "") + "\0");
                    WriteUInt16(d, 0);
                    WriteUInt32(d, 1);
                    WriteUInt32(d, (uint)data.Length);
                    WriteUInt32(d, (uint)data.Length);
                    d.Write(path);
                    d.Write(data);
                    break;
                }
                default: // RegQueryValue, KeyValuePartialInformation
                {
                    WriteUInt16(d, 0);
                    var data = e.StringValue is null ? null : Encoding.Unicode.GetBytes(e.StringValue + "\0");
                    WriteUInt32(d, (uint)(data?.Length ?? 144));
                    WriteUInt32(d, 2);
                    d.Write(path);
                    if (data is not null) extra = [.. new byte[4], .. BitConverter.GetBytes(1u), .. BitConverter.GetBytes((uint)data.Length), .. data];
                    break;
                }
            }
            return (d.ToArray(), extra);
        }

        // File system (64-bit layout): sub-operation, padding, the argument block, path info, padding, path.
        d.WriteByte(e.SubOperation);
        d.Write(new byte[3]);
        var arguments = new byte[(8 * 5) + 0x14];
        BinaryPrimitives.WriteUInt32LittleEndian(arguments.AsSpan(0x14), (e.FileDisposition << 24) | 0x60);
        BinaryPrimitives.WriteUInt16LittleEndian(arguments.AsSpan(0x1C), 0x80);
        BinaryPrimitives.WriteUInt16LittleEndian(arguments.AsSpan(0x1E), 3);
        d.Write(arguments);
        WriteUInt16(d, pathInfo);
        WriteUInt16(d, 0);
        d.Write(path);
        if (e.Operation == PmlOperations.CreateFile)
        {
            WriteUInt32(d, e.DesiredAccess);
            d.Write(new byte[4]);
        }
        else if (e.Operation == PmlOperations.SetInformationFile && e.SubOperation == 0xD)
        {
            d.WriteByte(e.Delete ? (byte)1 : (byte)0);
            d.Write(new byte[3]);
        }
        return (d.ToArray(), e.OpenResult is { } open ? BitConverter.GetBytes(open) : null);
    }

    private static void WriteUInt32(Stream s, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        s.Write(b);
    }

    private static void WriteUInt16(Stream s, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        s.Write(b);
    }
}

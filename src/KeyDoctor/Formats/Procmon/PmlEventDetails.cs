using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using KeyDoctor.Formats.Primitives;
using KeyDoctor.Formats.Security;

namespace KeyDoctor.Formats.Procmon;

/// <summary>What an event's detail structure gives: the shown operation and path, the Detail text and typed values.</summary>
internal struct PmlDetails
{
    public string Operation;
    public string Path;
    public string Detail;
    public uint? DesiredAccess;
    public string? Disposition;
    public string? OpenResult;
    public string? ValueType;
    public string? ValueData;
}

/// <summary>
/// Reads the class-specific detail structure that follows an event's stack trace, and the optional extra-detail
/// structure (output values, e.g. a registry value's data or CreateFile's open result). Layouts are Process
/// Monitor's (publicly reverse-engineered; see docs/formats/pml.md). The path always comes first; a detail that
/// runs short leaves the Detail text incomplete rather than failing the event.
/// </summary>
internal static class PmlEventDetails
{
    [ThreadStatic] private static StringBuilder? _text;

    private static readonly string[] RegistryTypes =
    [
        "REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ",
        "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
    ];

    private static readonly string[] KeyInformationClasses = ["Basic", "Node", "Full", "Name", "Cached", "Flags", "Virtualization", "HandleTags", "Trust", "Layer"];
    private static readonly string[] FileDispositions = ["Supersede", "Open", "Create", "OpenIf", "Overwrite", "OverwriteIf"];
    private static readonly string[] OpenResults = ["Superseded", "Opened", "Created", "Overwritten", "Exists", "DoesNotExist"];

    public static PmlDetails Read(ProcmonEventClass eventClass, int operation, string operationName, ReadOnlySpan<byte> detail,
        ReadOnlySpan<byte> extra, bool hasExtra, long offset, bool is64Bit, uint threadId, PmlNetworkNames network)
    {
        var result = new PmlDetails { Operation = operationName, Path = "", Detail = "" };
        var reader = new SpanReader(detail, PmlHeader.Format, offset);
        var text = _text ??= new StringBuilder(256);
        text.Clear();
        try
        {
            switch (eventClass)
            {
                case ProcmonEventClass.Registry:
                    Registry(ref reader, operation, extra, hasExtra, ref result, text);
                    break;
                case ProcmonEventClass.FileSystem:
                    FileSystem(ref reader, operation, extra, hasExtra, is64Bit, ref result, text);
                    break;
                case ProcmonEventClass.Process:
                    Process(ref reader, operation, is64Bit, threadId, ref result, text);
                    break;
                case ProcmonEventClass.Network:
                    Network(ref reader, network, ref result, text);
                    break;
            }
        }
        catch (MalformedDataException) when (result.Path.Length > 0 || eventClass is ProcmonEventClass.Process)
        {
            // The path was read; a short detail only shortens the Detail text.
        }
        result.Detail = Shared(text);
        return result;
    }

    /// <summary>
    /// The Detail text as a string, the same instance as an earlier event's identical text where it repeats (a capture
    /// repeats the same few details thousands of times: one string each instead of one per event).
    /// </summary>
    private static string Shared(StringBuilder text)
    {
        if (text.Length == 0) return "";
        foreach (var chunk in text.GetChunks())
        {
            if (chunk.Length == text.Length) return Strings.Get(chunk.Span);
            break;
        }
        return text.ToString();
    }

    private static StringCache Strings => _strings ??= new StringCache();

    [ThreadStatic] private static StringCache? _strings;

    /// <summary>
    /// One decoding thread's recent strings (paths and Detail texts repeat across events), by content, in a fixed
    /// table: a text's set of two slots comes from a quick hash, a hit is confirmed by comparing the whole text, and
    /// a newcomer takes the place of the set's less recently used string. Memory stays bounded (at most 4,096 strings
    /// of at most 260 characters) however many distinct texts a capture holds, and texts that come back late in a long
    /// capture are shared too.
    /// </summary>
    private sealed class StringCache
    {
        private const int SetBits = 11;
        private const int MinLength = 4;
        private const int MaxLength = 260;

        private readonly string?[] _strings = new string?[2 << SetBits]; // each set: most recently used first

        public string Get(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty) return "";
            if (text.Length is < MinLength or > MaxLength) return new string(text);
            var set = Set(text) * 2;
            var recent = _strings[set];
            if (recent is not null && text.SequenceEqual(recent)) return recent;
            var older = _strings[set + 1];
            _strings[set + 1] = recent;
            return _strings[set] = older is not null && text.SequenceEqual(older) ? older : new string(text);
        }

        /// <summary>
        /// Every eight bytes rotated and folded in, then multiplied so each bit moves the set: a few instructions per
        /// eight bytes where a string hash code costs several per character. Texts that share a set cost a new string
        /// when they crowd it out, never a wrong one.
        /// </summary>
        private static int Set(ReadOnlySpan<char> text)
        {
            var bytes = MemoryMarshal.AsBytes(text);
            var mix = (ulong)bytes.Length;
            foreach (var word in MemoryMarshal.Cast<byte, ulong>(bytes)) mix = BitOperations.RotateLeft(mix, 5) ^ word;
            mix = BitOperations.RotateLeft(mix, 5) ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]); // the last bytes, if not a whole word
            return (int)((mix * 0xC2B2AE3D27D4EB4FUL) >> (64 - SetBits));
        }
    }

    // --- registry -------------------------------------------------------------------------------------------

    private const int RegOpenKey = 0, RegCreateKey = 1, RegQueryKey = 3, RegSetValue = 4, RegQueryValue = 5, RegEnumValue = 6,
        RegEnumKey = 7, RegSetInfoKey = 8, RegLoadKey = 12, RegRenameKey = 14;

    private static void Registry(ref SpanReader reader, int operation, ReadOnlySpan<byte> extra, bool hasExtra, ref PmlDetails result, StringBuilder text)
    {
        var pathInfo = reader.ReadUInt16();
        ushort newPathInfo = 0;
        uint desiredAccess = 0, length = 0, informationClass = 0, index = 0, type = 0, dataLength = 0, setClass = 0;
        switch (operation)
        {
            case RegLoadKey or RegRenameKey:
                newPathInfo = reader.ReadUInt16();
                break;
            case RegOpenKey or RegCreateKey:
                reader.Skip(2);
                desiredAccess = reader.ReadUInt32();
                break;
            case RegQueryKey or RegQueryValue:
                reader.Skip(2);
                length = reader.ReadUInt32();
                informationClass = reader.ReadUInt32();
                break;
            case RegEnumValue or RegEnumKey:
                reader.Skip(2);
                length = reader.ReadUInt32();
                index = reader.ReadUInt32();
                informationClass = reader.ReadUInt32();
                break;
            case RegSetInfoKey:
                reader.Skip(2);
                setClass = reader.ReadUInt32();
                reader.Skip(4);
                length = reader.ReadUInt16();
                reader.Skip(2);
                break;
            case RegSetValue:
                reader.Skip(2);
                type = reader.ReadUInt32();
                length = reader.ReadUInt32();
                dataLength = reader.ReadUInt32();
                break;
        }
        result.Path = ReadString(ref reader, pathInfo);

        switch (operation)
        {
            case RegOpenKey or RegCreateKey:
                if (desiredAccess == 0) return;
                result.DesiredAccess = desiredAccess;
                var access = PmlAccessMasks.RegistryAccess(desiredAccess);
                text.Append("Desired Access: ").Append(access);
                if (!hasExtra) return;
                var extraReader = new SpanReader(extra, PmlHeader.Format);
                var granted = extraReader.ReadUInt32();
                if (access == "Maximum Allowed") text.Append(", Granted Access: ").Append(PmlAccessMasks.RegistryAccess(granted));
                var disposition = extraReader.ReadUInt32();
                if (disposition is 1 or 2)
                {
                    result.Disposition = disposition == 1 ? "REG_CREATED_NEW_KEY" : "REG_OPENED_EXISTING_KEY";
                    text.Append(", Disposition: ").Append(result.Disposition);
                }
                return;
            case RegLoadKey or RegRenameKey:
                text.Append(operation == RegLoadKey ? "Hive Path: " : "New Name: ").Append(ReadString(ref reader, newPathInfo));
                return;
            case RegQueryKey or RegEnumKey:
                if (operation == RegEnumKey) text.Append("Index: ").Append(index);
                else text.Append("Query: ").Append(informationClass < KeyInformationClasses.Length ? KeyInformationClasses[informationClass] : informationClass.ToString(CultureInfo.InvariantCulture));
                if (!hasExtra)
                {
                    text.Append(", Length: ").Append(length);
                    return;
                }
                KeyInformation(extra, informationClass, text);
                return;
            case RegQueryValue or RegEnumValue:
                if (operation == RegEnumValue) text.Append("Index: ").Append(index).Append(", ");
                if (!hasExtra)
                {
                    text.Append("Length: ").Append(length);
                    return;
                }
                ValueInformation(extra, informationClass, ref result, text);
                return;
            case RegSetValue:
                result.ValueType = TypeName(type);
                text.Append("Type: ").Append(result.ValueType).Append(", Length: ").Append(length);
                var data = reader.Remaining > 0 ? reader.ReadBytes(Math.Min(reader.Remaining, (int)Math.Min(length, dataLength))) : [];
                if (data.Length > 0 && type < RegistryTypes.Length)
                {
                    result.ValueData = ValueText(type, data);
                    text.Append(", Data: ").Append(result.ValueData);
                }
                return;
            case RegSetInfoKey:
                text.Append("KeySetInformationClass: ").Append(setClass switch
                {
                    0 => "KeyWriteTimeInformation",
                    1 => "KeyWow64FlagsInformation",
                    5 => "KeySetHandleTagsInformation",
                    _ => $"<Unknown: {setClass}>",
                }).Append(", Length: ").Append(length);
                return;
        }
    }

    private static void KeyInformation(ReadOnlySpan<byte> extra, uint informationClass, StringBuilder text)
    {
        var reader = new SpanReader(extra, PmlHeader.Format);
        switch (informationClass)
        {
            case 3: // KEY_NAME_INFORMATION
                text.Append(", Name: ").Append(Utf16(reader.ReadBytes(Clamp(reader.ReadUInt32(), reader.Remaining))));
                break;
            case 7:
                text.Append(", HandleTags: 0x").Append(reader.ReadUInt32().ToString("x", CultureInfo.InvariantCulture));
                break;
            case 5:
                text.Append(", UserFlags: ").Append(reader.ReadUInt32());
                break;
            case 0: // KEY_BASIC_INFORMATION
                reader.Skip(12);
                text.Append(", Name: ").Append(Utf16(reader.ReadBytes(Clamp(reader.ReadUInt32(), reader.Remaining))));
                break;
            case 1: // KEY_NODE_INFORMATION
                reader.Skip(20);
                text.Append(", Name: ").Append(Utf16(reader.ReadBytes(Clamp(reader.ReadUInt32(), reader.Remaining))));
                break;
            case 2: // KEY_FULL_INFORMATION
                reader.Skip(8 + 4 + 4 + 4);
                text.Append(", SubKeys: ").Append(reader.ReadUInt32());
                reader.Skip(8);
                text.Append(", Values: ").Append(reader.ReadUInt32());
                break;
            case 4: // KEY_CACHED_INFORMATION
                reader.Skip(12);
                text.Append(", SubKeys: ").Append(reader.ReadUInt32());
                reader.Skip(4);
                text.Append(", Values: ").Append(reader.ReadUInt32());
                break;
        }
    }

    private static void ValueInformation(ReadOnlySpan<byte> extra, uint informationClass, ref PmlDetails result, StringBuilder text)
    {
        var reader = new SpanReader(extra, PmlHeader.Format);
        reader.Skip(4);
        var type = reader.ReadUInt32();
        result.ValueType = TypeName(type);
        uint length;
        if (informationClass == 1) // KEY_VALUE_FULL_INFORMATION
        {
            var dataOffset = reader.ReadUInt32();
            length = reader.ReadUInt32();
            var name = Utf16(reader.ReadBytes(Clamp(reader.ReadUInt32(), reader.Remaining)));
            text.Append("Name: ").Append(name).Append(", ");
            reader.Position = (int)Math.Min(dataOffset, (uint)extra.Length);
        }
        else if (informationClass == 2) // KEY_VALUE_PARTIAL_INFORMATION
        {
            length = reader.ReadUInt32();
        }
        else
        {
            text.Append("Type: ").Append(result.ValueType);
            return;
        }
        text.Append("Type: ").Append(result.ValueType).Append(", Length: ").Append(length);
        if (length == 0 || type >= RegistryTypes.Length) return;
        var data = reader.ReadBytes(Math.Min(reader.Remaining, (int)Math.Min(length, int.MaxValue)));
        result.ValueData = ValueText(type, data);
        text.Append(", Data: ").Append(result.ValueData);
    }

    private static string TypeName(uint type) => type < RegistryTypes.Length ? RegistryTypes[type] : $"<Unknown: {type}>";

    /// <summary>Value data the way Procmon shows it: text, a decimal number, or hex bytes.</summary>
    internal static string ValueText(uint type, ReadOnlySpan<byte> data)
    {
        switch (type)
        {
            case 1 or 2 or 6:
                return Utf16(data);
            case 4 when data.Length >= 4:
                return BinaryPrimitives.ReadUInt32LittleEndian(data).ToString(CultureInfo.InvariantCulture);
            case 11 when data.Length >= 8:
                return BinaryPrimitives.ReadUInt64LittleEndian(data).ToString(CultureInfo.InvariantCulture);
            case 7:
                return string.Join(", ", Encoding.Unicode.GetString(data[..(data.Length & ~1)]).Split('\0', StringSplitOptions.RemoveEmptyEntries));
            default:
                var hex = new StringBuilder(data.Length * 3);
                foreach (var b in data)
                {
                    if (hex.Length > 0) hex.Append(' ');
                    hex.Append(b.ToString("X2", CultureInfo.InvariantCulture));
                }
                return hex.ToString();
        }
    }

    // --- file system ----------------------------------------------------------------------------------------

    private static void FileSystem(ref SpanReader reader, int operation, ReadOnlySpan<byte> extra, bool hasExtra, bool is64Bit,
        ref PmlDetails result, StringBuilder text)
    {
        var pointer = is64Bit ? 8 : 4;
        var subOperation = reader.ReadByte();
        reader.Skip(3);
        result.Operation = PmlOperations.FileSystemName(operation, subOperation, result.Operation);
        var arguments = new SpanReader(reader.ReadBytes((pointer * 5) + 0x14), PmlHeader.Format, reader.AbsolutePosition);
        var pathInfo = reader.ReadUInt16();
        reader.Skip(2);
        result.Path = ReadString(ref reader, pathInfo);
        var pad = is64Bit ? 4 : 0;

        switch (operation)
        {
            case PmlOperations.CreateFile:
            {
                var access = reader.ReadUInt32();
                var sidLength = reader.ReadByte();
                reader.Skip(3);
                arguments.Skip(0x10 + pad);
                var dispositionAndOptions = arguments.ReadUInt32();
                arguments.Skip(pad);
                var attributes = arguments.ReadUInt16();
                var share = arguments.ReadUInt16();
                arguments.Skip(4 + (pointer * 2));
                var allocation = arguments.ReadUInt32();
                var disposition = dispositionAndOptions >> 24;
                result.DesiredAccess = access;
                result.Disposition = disposition < FileDispositions.Length ? FileDispositions[disposition] : "<unknown>";
                text.Append("Desired Access: ").Append(PmlAccessMasks.FileAccess(access))
                    .Append(", Disposition: ").Append(result.Disposition)
                    .Append(", Options: ").Append(PmlAccessMasks.Options(dispositionAndOptions & 0xFFFFFF))
                    .Append(", Attributes: ").Append(PmlAccessMasks.FileAttributes(attributes))
                    .Append(", ShareMode: ").Append(PmlAccessMasks.ShareMode(share))
                    .Append(", AllocationSize: ").Append(disposition is 0 or 2 or 3 or 5 ? allocation.ToString("N0", CultureInfo.InvariantCulture) : "n/a");
                if (sidLength > 0 && BinarySid.TryFormat(reader.ReadBytes(sidLength)) is { } sid) text.Append(", Impersonating: ").Append(sid);
                if (hasExtra && extra.Length >= 4)
                {
                    var open = BinaryPrimitives.ReadUInt32LittleEndian(extra);
                    result.OpenResult = open < OpenResults.Length ? OpenResults[open] : "<unknown>";
                    text.Append(", OpenResult: ").Append(result.OpenResult);
                }
                return;
            }
            case PmlOperations.ReadFile or PmlOperations.WriteFile:
            {
                arguments.Skip(4);
                arguments.Skip(4); // I/O flags and priority
                arguments.Skip(4);
                var length = arguments.ReadUInt32();
                arguments.Skip(pad + 4 + pad);
                var position = arguments.ReadInt64();
                if (hasExtra && extra.Length >= 4) length = BinaryPrimitives.ReadUInt32LittleEndian(extra);
                text.Append("Offset: ").Append(position.ToString("N0", CultureInfo.InvariantCulture))
                    .Append(", Length: ").Append(length.ToString("N0", CultureInfo.InvariantCulture));
                return;
            }
            case PmlOperations.FileSystemControl or PmlOperations.DeviceIoControl:
            {
                arguments.Skip(8 + 4 + 4 + pad + 4 + pad);
                text.Append("Control: 0x").Append(arguments.ReadUInt32().ToString("x", CultureInfo.InvariantCulture));
                return;
            }
            case PmlOperations.DirectoryControl when subOperation == 1: // QueryDirectory: the filter is part of the shown path
            {
                var filter = ReadString(ref reader, reader.ReadUInt16());
                if (filter.Length == 0) return;
                result.Path = result.Path.EndsWith('\\') ? result.Path + filter : result.Path + "\\" + filter;
                text.Append("Filter: ").Append(filter);
                return;
            }
            case PmlOperations.SetInformationFile when subOperation == 0xD: // SetDispositionInformationFile
                text.Append("Delete: ").Append(reader.ReadByte() != 0 ? "True" : "False");
                return;
        }
    }

    // --- process and thread ---------------------------------------------------------------------------------

    private static void Process(ref SpanReader reader, int operation, bool is64Bit, uint threadId, ref PmlDetails result, StringBuilder text)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (operation)
        {
            case 0 or 1: // Process Defined, Process Create
            {
                reader.Skip(4);
                var pid = reader.ReadUInt32();
                reader.Skip(0x24);
                var size1 = reader.ReadByte();
                var size2 = reader.ReadByte();
                var pathInfo = reader.ReadUInt16();
                var commandInfo = reader.ReadUInt16();
                reader.Skip(2 + size1 + size2);
                result.Path = ReadString(ref reader, pathInfo);
                text.Append("PID: ").Append(pid).Append(", Command line: ").Append(ReadString(ref reader, commandInfo));
                return;
            }
            case 7: // Process Start
            {
                var parent = reader.ReadUInt32();
                var commandInfo = reader.ReadUInt16();
                var directoryInfo = reader.ReadUInt16();
                reader.Skip(4);
                text.Append("Parent PID: ").Append(parent).Append(", Command line: ").Append(ReadString(ref reader, commandInfo))
                    .Append(", Current directory: ").Append(ReadString(ref reader, directoryInfo));
                return;
            }
            case 2 or 8: // Process Exit, Process Statistics
            {
                var status = reader.ReadInt32();
                var kernel = reader.ReadUInt64();
                var user = reader.ReadUInt64();
                var workingSet = reader.ReadUInt64();
                var peakWorkingSet = reader.ReadUInt64();
                var privateBytes = reader.ReadUInt64();
                var peakPrivate = reader.ReadUInt64();
                text.Append("Exit Status: ").Append(status)
                    .Append(", User Time: ").Append(Seconds(user)).Append(" seconds, Kernel Time: ").Append(Seconds(kernel))
                    .Append(" seconds, Private Bytes: ").Append(privateBytes.ToString("N0", inv))
                    .Append(", Peak Private Bytes: ").Append(peakPrivate.ToString("N0", inv))
                    .Append(", Working Set: ").Append(workingSet.ToString("N0", inv))
                    .Append(", Peak Working Set: ").Append(peakWorkingSet.ToString("N0", inv));
                return;
            }
            case 3: // Thread Create
                text.Append("Thread ID: ").Append(reader.ReadUInt32());
                return;
            case 4: // Thread Exit
            {
                reader.Skip(4);
                var kernel = reader.ReadUInt64();
                var user = reader.ReadUInt64();
                text.Append("Thread ID: ").Append(threadId).Append(", User Time: ").Append(Seconds(user)).Append(", Kernel Time: ").Append(Seconds(kernel));
                return;
            }
            case 5: // Load Image
            {
                var imageBase = is64Bit ? reader.ReadUInt64() : reader.ReadUInt32();
                var size = reader.ReadUInt32();
                var pathInfo = reader.ReadUInt16();
                reader.Skip(2);
                result.Path = ReadString(ref reader, pathInfo);
                text.Append("Image Base: ").Append(PmlOperations.Hex(imageBase)).Append(", Image Size: ").Append(PmlOperations.Hex(size));
                return;
            }
        }
    }

    private static string Seconds(ulong hundredNanoseconds) =>
        (hundredNanoseconds / 1e7).ToString("0.0000000", CultureInfo.InvariantCulture);

    // --- network --------------------------------------------------------------------------------------------

    private static void Network(ref SpanReader reader, PmlNetworkNames names, ref PmlDetails result, StringBuilder text)
    {
        var flags = reader.ReadUInt16();
        var tcp = (flags & 4) != 0;
        result.Operation = (tcp ? "TCP " : "UDP ") + result.Operation;
        reader.Skip(2);
        var length = reader.ReadUInt32();
        var source = reader.ReadBytes(16);
        var destination = reader.ReadBytes(16);
        var sourcePort = reader.ReadUInt16();
        var destinationPort = reader.ReadUInt16();
        result.Path = $"{names.Host(source, (flags & 1) != 0)}:{names.Port(sourcePort, tcp)} -> {names.Host(destination, (flags & 2) != 0)}:{names.Port(destinationPort, tcp)}";
        text.Append("Length: ").Append(length.ToString("N0", CultureInfo.InvariantCulture));
        var rest = Utf16(reader.ReadBytes(reader.Remaining & ~1)).Split('\0');
        for (var i = 0; i + 1 < rest.Length && rest[i].Length > 0; i += 2)
            text.Append(", ").Append(rest[i]).Append(": ").Append(rest[i + 1]);
    }

    // --- strings --------------------------------------------------------------------------------------------

    /// <summary>A detail string: the info word's top bit says ASCII, the low 15 bits the character count.</summary>
    private static string ReadString(ref SpanReader reader, ushort info)
    {
        var count = info & 0x7FFF;
        if (count == 0) return "";
        if ((info & 0x8000) != 0) return Encoding.Latin1.GetString(reader.ReadBytes(count)).TrimEnd('\0');
        return Utf16(reader.ReadBytes(count * 2));
    }

    /// <summary>UTF-16LE up to the first NUL; unpaired surrogates become U+FFFD, as Encoding.Unicode decodes them.</summary>
    private static string Utf16(ReadOnlySpan<byte> bytes)
    {
        var even = bytes[..(bytes.Length & ~1)];
        if (!BitConverter.IsLittleEndian)
        {
            var decoded = Encoding.Unicode.GetString(even);
            var end = decoded.IndexOf('\0');
            return end < 0 ? decoded : decoded[..end];
        }
        var chars = MemoryMarshal.Cast<byte, char>(even);
        var nul = chars.IndexOf('\0');
        if (nul >= 0) chars = chars[..nul];
        // Nearly every path is plain text: copied as it is; only text with surrogates needs the decoder's checks.
        return chars.ContainsAnyInRange('\uD800', '\uDFFF') ? Encoding.Unicode.GetString(even[..(chars.Length * 2)]) : Strings.Get(chars);
    }

    private static int Clamp(uint size, int remaining) => (int)Math.Min(size, (uint)remaining);
}

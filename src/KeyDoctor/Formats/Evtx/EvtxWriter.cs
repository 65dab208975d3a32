using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Evtx;

/// <summary>
/// Writes EVTX files the way Windows does, for demo and test images: every record is a template instance
/// (the definition inline on its first use in a chunk, referenced by offset afterwards) with typed
/// substitution values, then the end-of-document token. Names are stored once per chunk and linked from the
/// string table; definitions are linked from the template table; the file header and every chunk carry
/// correct CRC-32s. Debian's evtxexport and python-evtx read the result (both reject records that are plain
/// elements without a template).
/// </summary>
public static class EvtxWriter
{
    /// <summary>Writes <paramref name="events"/> in order as one EVTX file (chunks are built in memory).</summary>
    public static void Write(Stream output, IEnumerable<EventToWrite> events)
    {
        var chunks = new List<byte[]>();
        var builder = new ChunkBuilder();
        ulong lastRecordId = 0;
        foreach (var e in events)
        {
            if (!builder.TryAdd(e))
            {
                chunks.Add(builder.Finish());
                builder = new ChunkBuilder();
                if (!builder.TryAdd(e))
                    throw new ArgumentException($"event record {e.RecordId} does not fit in a 64 KiB chunk", nameof(events));
            }
            lastRecordId = e.RecordId;
        }
        if (builder.RecordCount > 0 || chunks.Count == 0) chunks.Add(builder.Finish());
        if (chunks.Count > ushort.MaxValue) throw new ArgumentException("too many events for one EVTX file", nameof(events));

        var header = new byte[EvtxFileHeader.Size];
        "ElfFile\0"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), 0); // oldest chunk
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)(chunks.Count - 1)); // current chunk
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), lastRecordId + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(32), 128);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(36), 1); // version 3.1
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(38), 3);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(40), EvtxFileHeader.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(42), (ushort)chunks.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(120), 0); // clean: not dirty, not full
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(124), Crc32.Compute(header.AsSpan(0, 120)));
        output.Write(header);
        foreach (var chunk in chunks) output.Write(chunk);
    }

    /// <summary>The NameHash of MS-EVEN6: low 16 bits of h = h * 65599 + c over the UTF-16 code units.</summary>
    internal static ushort NameHash(string name)
    {
        uint h = 0;
        foreach (var c in name) h = unchecked((h * 65599) + c);
        return (ushort)h;
    }

    /// <summary>Fills one chunk; a record that does not fit is rolled back so it can start the next chunk.</summary>
    private sealed class ChunkBuilder
    {
        private const int ChunkSize = EvtxChunkHeader.ChunkSize;
        private const ushort NoDependency = 0xFFFF;

        // Room past 64 KiB so a record that overflows is written, measured and rolled back without bounds errors.
        private readonly byte[] _buffer = new byte[ChunkSize * 2];
        private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _templates = new(StringComparer.Ordinal);
        private readonly uint[] _stringTable = new uint[64];
        private readonly uint[] _templateTable = new uint[32];
        private readonly List<string> _namesAdded = [];
        private readonly List<string> _templatesAdded = [];
        private int _pos = EvtxChunkHeader.HeaderSize;
        private ulong _firstRecordId;
        private ulong _lastRecordId;
        private int _lastRecordOffset;

        public int RecordCount { get; private set; }

        public bool TryAdd(EventToWrite e)
        {
            var start = _pos;
            var savedStrings = (uint[])_stringTable.Clone();
            var savedTemplates = (uint[])_templateTable.Clone();
            _namesAdded.Clear();
            _templatesAdded.Clear();

            WriteRecord(e);
            if (_pos <= ChunkSize) return true;

            // Did not fit: forget everything this record added.
            _buffer.AsSpan(start, _pos - start).Clear();
            _pos = start;
            savedStrings.CopyTo(_stringTable, 0);
            savedTemplates.CopyTo(_templateTable, 0);
            foreach (var name in _namesAdded) _names.Remove(name);
            foreach (var key in _templatesAdded) _templates.Remove(key);
            return false;
        }

        private void WriteRecord(EventToWrite e)
        {
            var values = SubstitutionValues(e);
            if (values.Any(v => v.Bytes.Length > ushort.MaxValue))
                throw new ArgumentException($"event record {e.RecordId}: a value is larger than 65535 bytes");

            var recordStart = _pos;
            U32(0x00002A2A);
            var sizeAt = _pos;
            U32(0); // size, patched below
            U64(e.RecordId);
            U64((ulong)e.TimeCreated.ToUniversalTime().ToFileTimeUtc());

            Bytes(BinXmlToken.FragmentHeader, 1, 1, 0);
            WriteTemplateInstance(e, values);
            Bytes(BinXmlToken.EndOfStream);

            var size = _pos - recordStart + 4;
            U32((uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(sizeAt), (uint)size);
            if (_pos > ChunkSize) return;
            if (RecordCount == 0) _firstRecordId = e.RecordId;
            _lastRecordId = e.RecordId;
            _lastRecordOffset = recordStart;
            RecordCount++;
        }

        /// <summary>The values, in substitution order: the System fields (0..13), then the EventData values.</summary>
        private static List<(BinXmlValueType Type, byte[] Bytes)> SubstitutionValues(EventToWrite e)
        {
            var list = new List<(BinXmlValueType, byte[])>
            {
                (BinXmlValueType.UInt16, BitConverter.GetBytes((ushort)e.EventId)),
                e.Qualifiers is { } q ? (BinXmlValueType.UInt16, BitConverter.GetBytes((ushort)q)) : (BinXmlValueType.Null, []),
                (BinXmlValueType.UInt8, [e.Version]),
                (BinXmlValueType.UInt8, [e.Level]),
                (BinXmlValueType.UInt16, BitConverter.GetBytes(e.Task)),
                (BinXmlValueType.UInt8, [e.Opcode]),
                (BinXmlValueType.HexInt64, BitConverter.GetBytes(e.Keywords)),
                (BinXmlValueType.FileTime, BitConverter.GetBytes(e.TimeCreated.ToUniversalTime().ToFileTimeUtc())),
                (BinXmlValueType.UInt64, BitConverter.GetBytes(e.RecordId)),
                (BinXmlValueType.UInt32, BitConverter.GetBytes(e.ProcessId)),
                (BinXmlValueType.UInt32, BitConverter.GetBytes(e.ThreadId)),
                (BinXmlValueType.String, Encoding.Unicode.GetBytes(e.Channel)),
                (BinXmlValueType.String, Encoding.Unicode.GetBytes(e.Computer)),
                e.UserSid is { } sid ? (BinXmlValueType.Sid, EventDataValue.SidBytes(sid)) : (BinXmlValueType.Null, []),
            };
            list.AddRange(e.Data.Select(d => d.Encode()));
            return list;
        }

        private void WriteTemplateInstance(EventToWrite e, List<(BinXmlValueType Type, byte[] Bytes)> values)
        {
            // One template per event shape (provider, data names and types), defined once per chunk.
            var key = $"{e.Provider}|{e.ProviderGuid}|{e.EventSourceName}|" +
                      string.Join("|", e.Data.Select(d => $"{d.Name}:{d.Kind}"));
            var guid = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 16));
            var templateId = BinaryPrimitives.ReadUInt32LittleEndian(guid.ToByteArray());

            Bytes(BinXmlToken.TemplateInstance, 1);
            U32(templateId);
            if (_templates.TryGetValue(key, out var definitionOffset))
            {
                U32((uint)definitionOffset);
            }
            else
            {
                definitionOffset = _pos + 4;
                U32((uint)definitionOffset); // points just past itself: the definition follows inline
                var bucket = (int)(templateId % 32);
                U32(_templateTable[bucket]); // next definition in the same bucket
                Bytes(guid.ToByteArray());
                var sizeAt = _pos;
                U32(0);
                var fragmentStart = _pos;
                WriteDefinition(e);
                BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(sizeAt), (uint)(_pos - fragmentStart));
                _templateTable[bucket] = (uint)definitionOffset;
                _templates[key] = definitionOffset;
                _templatesAdded.Add(key);
            }

            U32((uint)values.Count);
            foreach (var (type, bytes) in values)
            {
                U16((ushort)bytes.Length);
                Bytes((byte)type, 0);
            }
            foreach (var (_, bytes) in values) Bytes(bytes);
        }

        /// <summary>The Event element as Windows shapes it, with substitutions where values vary.</summary>
        private void WriteDefinition(EventToWrite e)
        {
            Bytes(BinXmlToken.FragmentHeader, 1, 1, 0);
            Element("Event", [("xmlns", Literal("http://schemas.microsoft.com/win/2004/08/events/event"))], () =>
            {
                Element("System", [], () =>
                {
                    var provider = new List<(string, Action)> { ("Name", Literal(e.Provider)) };
                    if (e.ProviderGuid is { } g) provider.Add(("Guid", Literal(g.ToString("B").ToUpperInvariant())));
                    if (e.EventSourceName is { } source) provider.Add(("EventSourceName", Literal(source)));
                    Element("Provider", provider, null);
                    Element("EventID", [("Qualifiers", Substitution(1, BinXmlValueType.UInt16))], Substitution(0, BinXmlValueType.UInt16));
                    Element("Version", [], Substitution(2, BinXmlValueType.UInt8));
                    Element("Level", [], Substitution(3, BinXmlValueType.UInt8));
                    Element("Task", [], Substitution(4, BinXmlValueType.UInt16));
                    Element("Opcode", [], Substitution(5, BinXmlValueType.UInt8));
                    Element("Keywords", [], Substitution(6, BinXmlValueType.HexInt64));
                    Element("TimeCreated", [("SystemTime", Substitution(7, BinXmlValueType.FileTime))], null);
                    Element("EventRecordID", [], Substitution(8, BinXmlValueType.UInt64));
                    Element("Correlation", [], null);
                    Element("Execution", [("ProcessID", Substitution(9, BinXmlValueType.UInt32)), ("ThreadID", Substitution(10, BinXmlValueType.UInt32))], null);
                    Element("Channel", [], Substitution(11, BinXmlValueType.String));
                    Element("Computer", [], Substitution(12, BinXmlValueType.String));
                    Element("Security", [("UserID", Substitution(13, BinXmlValueType.Sid))], null);
                });
                Element("EventData", [], () =>
                {
                    for (var i = 0; i < e.Data.Count; i++)
                    {
                        var (type, _) = e.Data[i].Encode();
                        Element("Data", [("Name", Literal(e.Data[i].Name))], Substitution((ushort)(14 + i), type));
                    }
                });
            });
            Bytes(BinXmlToken.EndOfStream);
        }

        private Action Literal(string text) => () =>
        {
            Bytes(BinXmlToken.Value, (byte)BinXmlValueType.String);
            U16((ushort)text.Length);
            Bytes(Encoding.Unicode.GetBytes(text));
        };

        /// <summary>Optional substitution: a null value removes its attribute (Qualifiers, UserID).</summary>
        private Action Substitution(ushort index, BinXmlValueType type) => () =>
        {
            Bytes(BinXmlToken.OptionalSubstitution);
            U16(index);
            Bytes((byte)type);
        };

        private void Element(string name, List<(string Name, Action Value)> attributes, Action? content)
        {
            Bytes(attributes.Count > 0 ? (byte)(BinXmlToken.OpenStartElement | BinXmlToken.MoreFlag) : BinXmlToken.OpenStartElement);
            U16(NoDependency);
            var sizeAt = _pos;
            U32(0); // element size, patched below
            NameReference(name);
            if (attributes.Count > 0)
            {
                var listAt = _pos;
                U32(0);
                var listStart = _pos;
                for (var i = 0; i < attributes.Count; i++)
                {
                    // 0x46 says another attribute follows, 0x06 marks the last one.
                    Bytes(i < attributes.Count - 1 ? (byte)(BinXmlToken.Attribute | BinXmlToken.MoreFlag) : BinXmlToken.Attribute);
                    NameReference(attributes[i].Name);
                    attributes[i].Value();
                }
                BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(listAt), (uint)(_pos - listStart));
            }
            if (content is null)
            {
                Bytes(BinXmlToken.CloseEmptyElement);
            }
            else
            {
                Bytes(BinXmlToken.CloseStartElement);
                content();
                Bytes(BinXmlToken.EndElement);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(sizeAt), (uint)(_pos - sizeAt - 4));
        }

        /// <summary>A name reference; the first use in the chunk stores the name inline and links it in the string table.</summary>
        private void NameReference(string name)
        {
            if (_names.TryGetValue(name, out var offset))
            {
                U32((uint)offset);
                return;
            }
            offset = _pos + 4;
            U32((uint)offset);
            var hash = NameHash(name);
            var bucket = hash % 64;
            U32(_stringTable[bucket]); // next name in the same bucket
            U16(hash);
            U16((ushort)name.Length);
            Bytes(Encoding.Unicode.GetBytes(name));
            U16(0);
            _stringTable[bucket] = (uint)offset;
            _names[name] = offset;
            _namesAdded.Add(name);
        }

        public byte[] Finish()
        {
            var chunk = _buffer.AsSpan(0, ChunkSize).ToArray();
            var h = chunk.AsSpan();
            "ElfChnk\0"u8.CopyTo(h);
            BinaryPrimitives.WriteUInt64LittleEndian(h[8..], _firstRecordId); // record numbers follow the ids
            BinaryPrimitives.WriteUInt64LittleEndian(h[16..], _lastRecordId);
            BinaryPrimitives.WriteUInt64LittleEndian(h[24..], _firstRecordId);
            BinaryPrimitives.WriteUInt64LittleEndian(h[32..], _lastRecordId);
            BinaryPrimitives.WriteUInt32LittleEndian(h[40..], 128);
            BinaryPrimitives.WriteUInt32LittleEndian(h[44..], (uint)_lastRecordOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(h[48..], (uint)_pos);
            BinaryPrimitives.WriteUInt32LittleEndian(h[52..], Crc32.Compute(h[EvtxChunkHeader.HeaderSize.._pos]));
            BinaryPrimitives.WriteUInt32LittleEndian(h[120..], 0);
            for (var i = 0; i < 64; i++) BinaryPrimitives.WriteUInt32LittleEndian(h[(128 + (4 * i))..], _stringTable[i]);
            for (var i = 0; i < 32; i++) BinaryPrimitives.WriteUInt32LittleEndian(h[(384 + (4 * i))..], _templateTable[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(h[124..], Crc32.Append(Crc32.Compute(h[..120]), h[128..512]));
            return chunk;
        }

        private void Bytes(params ReadOnlySpan<byte> bytes)
        {
            if (_pos + bytes.Length > _buffer.Length) throw new ArgumentException("event too large for a chunk");
            bytes.CopyTo(_buffer.AsSpan(_pos));
            _pos += bytes.Length;
        }

        private void U16(ushort v)
        {
            Span<byte> b = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
            Bytes(b);
        }

        private void U32(uint v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            Bytes(b);
        }

        private void U64(ulong v)
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(b, v);
            Bytes(b);
        }
    }
}

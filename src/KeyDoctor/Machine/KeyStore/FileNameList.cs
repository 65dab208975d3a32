using System.Text;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>
/// The file names of a key folder, sorted by their UTF-8 bytes (the same order on every OS and every run, whatever order
/// the directory listed them in). Nearly every name is a key file's <c>&lt;32 hex&gt;_&lt;GUID&gt;</c> (69 characters):
/// those are kept packed in 32 bytes (the hex digits' values, in text order), so five million names take 160 MB; any
/// other name (another length, upper-case hex, ...) goes to a side list of packed UTF-8, merged into the order on
/// <see cref="Sort"/>.
/// </summary>
internal sealed class FileNameList
{
    /// <summary>Length of a packed name: 32 hex digits, '_', and a GUID in "D" form.</summary>
    public const int PackedLength = 69;

    private static readonly int[] GuidDashes = [8, 13, 18, 23];

    private Packed[] _packed;
    private int _packedCount;
    private byte[] _bytes = new byte[1024];
    private int _length;
    private int[] _starts = new int[16];
    private int _sideCount;

    /// <summary>Merged position of each side name (ascending), once sorted.</summary>
    private int[] _sidePositions = [];

    private bool _sorted = true;

    /// <param name="capacity">The number of names expected (a folder's count): the packed array is allocated once at that size.</param>
    public FileNameList(int capacity = 0) => _packed = new Packed[Math.Max(capacity, 16)];

    public int Count => _packedCount + _sideCount;

    public void Add(ReadOnlySpan<char> name)
    {
        _sorted = false;
        if (TryPack(name, out var packed))
        {
            if (_packedCount == _packed.Length) Array.Resize(ref _packed, _packed.Length < 1 << 20 ? _packed.Length * 2 : _packed.Length + _packed.Length / 4);
            _packed[_packedCount++] = packed;
            return;
        }
        var needed = Encoding.UTF8.GetMaxByteCount(name.Length) + 2;
        if (_length + needed > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + needed));
        if (_sideCount == _starts.Length) Array.Resize(ref _starts, _starts.Length * 2);
        var written = Encoding.UTF8.GetBytes(name, _bytes.AsSpan(_length + 2));
        _bytes[_length] = (byte)(written >> 8);
        _bytes[_length + 1] = (byte)written;
        _starts[_sideCount++] = _length;
        _length += 2 + written;
    }

    public void Sort()
    {
        if (_sorted) return;
        _packed.AsSpan(0, _packedCount).Sort();
        var bytes = _bytes;
        Array.Sort(_starts, 0, _sideCount, Comparer<int>.Create((a, b) => Name(bytes, a).SequenceCompareTo(Name(bytes, b))));
        // Each side name's place among the packed ones: how many packed names sort before it, plus its own rank.
        _sidePositions = new int[_sideCount];
        Span<byte> text = stackalloc byte[PackedLength];
        for (var i = 0; i < _sideCount; i++)
        {
            var name = Name(bytes, _starts[i]);
            int low = 0, high = _packedCount;
            while (low < high)
            {
                var middle = (low + high) >>> 1;
                _packed[middle].Write(text);
                if (((ReadOnlySpan<byte>)text).SequenceCompareTo(name) < 0) low = middle + 1;
                else high = middle;
            }
            _sidePositions[i] = low + i;
        }
        _sorted = true;
    }

    /// <summary>The <paramref name="index"/>th name (in sorted order once <see cref="Sort"/> ran).</summary>
    public string this[int index]
    {
        get
        {
            if (_sideCount == 0) return _packed[index].ToName();
            var side = Array.BinarySearch(_sidePositions, index);
            if (side >= 0) return Encoding.UTF8.GetString(Name(_bytes, _starts[side]));
            return _packed[index - ~side].ToName(); // ~side side names sort before this index
        }
    }

    private static ReadOnlySpan<byte> Name(byte[] bytes, int start) =>
        bytes.AsSpan(start + 2, (bytes[start] << 8) | bytes[start + 1]);

    /// <summary>
    /// Packs <c>&lt;32 lower-case hex&gt;_&lt;8-4-4-4-12 lower-case hex&gt;</c>. Only lower case: its digits' values sort
    /// in the same order as its characters, so the packed order is the names' order.
    /// </summary>
    internal static bool TryPack(ReadOnlySpan<char> name, out Packed packed)
    {
        packed = default;
        if (name.Length != PackedLength || name[32] != '_') return false;
        foreach (var dash in GuidDashes)
            if (name[33 + dash] != '-') return false;
        UInt128 prefix = 0, guid = 0;
        for (var i = 0; i < 32; i++)
        {
            var nibble = Nibble(name[i]);
            if (nibble < 0) return false;
            prefix = (prefix << 4) | (uint)nibble;
        }
        for (var i = 33; i < PackedLength; i++)
        {
            if (name[i] == '-') continue;
            var nibble = Nibble(name[i]);
            if (nibble < 0) return false;
            guid = (guid << 4) | (uint)nibble;
        }
        packed = new Packed(prefix, guid);
        return true;
    }

    private static int Nibble(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };

    /// <summary>A packed name: the 32 prefix digits and the 32 GUID digits, each as a number read in text order.</summary>
    internal readonly record struct Packed(UInt128 Prefix, UInt128 Guid) : IComparable<Packed>
    {
        public int CompareTo(Packed other)
        {
            var prefix = Prefix.CompareTo(other.Prefix);
            return prefix != 0 ? prefix : Guid.CompareTo(other.Guid);
        }

        /// <summary>The name's 69 ASCII bytes.</summary>
        public void Write(Span<byte> text)
        {
            const string digits = "0123456789abcdef";
            var prefix = Prefix;
            for (var i = 31; i >= 0; i--, prefix >>= 4) text[i] = (byte)digits[(int)(uint)(prefix & 0xF)];
            text[32] = (byte)'_';
            var guid = Guid;
            for (var i = PackedLength - 1; i >= 33; i--)
            {
                if (i is 33 + 8 or 33 + 13 or 33 + 18 or 33 + 23)
                {
                    text[i] = (byte)'-';
                    continue;
                }
                text[i] = (byte)digits[(int)(uint)(guid & 0xF)];
                guid >>= 4;
            }
        }

        public string ToName() => string.Create(PackedLength, this, static (chars, packed) =>
        {
            Span<byte> text = stackalloc byte[PackedLength];
            packed.Write(text);
            for (var i = 0; i < PackedLength; i++) chars[i] = (char)text[i];
        });
    }
}

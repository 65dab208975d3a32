using System.Text;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>
/// The file names of a key folder, kept as packed UTF-8 (about 75 bytes a name instead of about 170 for a string) and
/// sorted by their bytes: a million names fit in about 80 MB, and the order is the same on every OS and every run,
/// whatever order the directory listed them in.
/// </summary>
internal sealed class FileNameList
{
    private byte[] _bytes = new byte[64 * 1024];
    private int _length;
    private int[] _starts = new int[1024];
    private int _count;
    private bool _sorted = true;

    public int Count => _count;

    public void Add(ReadOnlySpan<char> name)
    {
        var needed = Encoding.UTF8.GetMaxByteCount(name.Length) + 2;
        if (_length + needed > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + needed));
        if (_count == _starts.Length) Array.Resize(ref _starts, _starts.Length * 2);
        var written = Encoding.UTF8.GetBytes(name, _bytes.AsSpan(_length + 2));
        _bytes[_length] = (byte)(written >> 8);
        _bytes[_length + 1] = (byte)written;
        _starts[_count++] = _length;
        _length += 2 + written;
        _sorted = false;
    }

    public void Sort()
    {
        if (_sorted) return;
        var bytes = _bytes;
        Array.Sort(_starts, 0, _count, Comparer<int>.Create((a, b) => Name(bytes, a).SequenceCompareTo(Name(bytes, b))));
        _sorted = true;
    }

    /// <summary>The <paramref name="index"/>th name (in sorted order once <see cref="Sort"/> ran).</summary>
    public string this[int index] => Encoding.UTF8.GetString(Name(_bytes, _starts[index]));

    private static ReadOnlySpan<byte> Name(byte[] bytes, int start) =>
        bytes.AsSpan(start + 2, (bytes[start] << 8) | bytes[start + 1]);
}

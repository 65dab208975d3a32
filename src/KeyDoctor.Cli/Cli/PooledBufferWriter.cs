using System.Buffers;

namespace KeyDoctor.Cli;

/// <summary>
/// A growable UTF-8 buffer from the shared array pool, for output formatted on a worker thread and written to stdout
/// by the consumer. A chunk's or a batch's JSON is often over 85 KB: fresh arrays that size go to the large-object
/// heap and force full collections, pooled ones do not. Dispose returns the array.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialSize = 256 * 1024) => _buffer = ArrayPool<byte>.Shared.Rent(initialSize);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public int WrittenCount => _written;

    public void Advance(int count) => _written += count;

    /// <summary>Appends <paramref name="bytes"/> (a direct call, where the interface's Write extension dispatches twice).</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_written));
        _written += bytes.Length;
    }

    /// <summary>Forgets what was written (the buffer is kept).</summary>
    public void Clear() => _written = 0;

    /// <summary>Keeps the first <paramref name="length"/> bytes written.</summary>
    public void Truncate(int length) => _written = Math.Min(_written, length);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - _written >= Math.Max(sizeHint, 256)) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + Math.Max(sizeHint, 256)));
        WrittenSpan.CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _written = 0;
    }
}

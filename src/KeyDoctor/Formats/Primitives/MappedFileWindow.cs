using System.IO.MemoryMappedFiles;

namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// Reads a memory-mapped file through one read-only view that moves along as reads ask for other parts: the bytes
/// are read where the page cache holds them, without read() copying them into a buffer first. One view of
/// <paramref name="viewSize"/> bytes (4 MiB unless told; more when a read needs it) is mapped at a time: pages read
/// count in the process's resident memory until their view is unmapped, so this keeps that bounded on files of any
/// size, and mapping a view costs a few microseconds. A span from <see cref="Read"/> is valid until the next call,
/// which may map another view. The file must not shrink while it is read: on Linux, touching a mapped page past the
/// file's end kills the process (SIGBUS), so this is for files that are finished being written, such as saved captures.
/// </summary>
internal sealed unsafe class MappedFileWindow(MemoryMappedFile file, long fileLength, long viewSize = 4L << 20) : IDisposable
{
    private MappedView? _view;
    private long _viewOffset;
    private long _viewLength;

    /// <summary>Bytes [offset, offset + count) of the file, which must lie within it.</summary>
    public ReadOnlySpan<byte> Read(long offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > fileLength)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes 0x{offset:X}+{count} are not within the {fileLength}-byte file");
        if (_view is null || offset < _viewOffset || offset + count > _viewOffset + _viewLength) Map(offset, count);
        return new ReadOnlySpan<byte>(_view!.Start + (offset - _viewOffset), count);
    }

    private void Map(long offset, int count)
    {
        Dispose();
        var length = Math.Min(fileLength - offset, Math.Max(viewSize, count));
        _view = MappedView.Open(file, offset, length);
        _viewOffset = offset;
        _viewLength = length;
    }

    public void Dispose()
    {
        _view?.Dispose();
        _view = null;
        _viewLength = 0;
    }
}

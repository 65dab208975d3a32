using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// A file mapped read-only, as the memory a reader takes. Reading a 12 MB hive into an array costs a fresh page per
/// 4 KiB, zeroed and then copied into (7 of the 9 ms it takes); a mapping uses the page cache's pages as they are.
/// Dispose it only after everything read from it is done with: spans over it point into the mapping. The file must
/// not shrink while mapped (on Linux, touching a mapped page past its end kills the process), so only evidence that is
/// no longer written is mapped: a hive copied off a server, never a live one. <see cref="MappedFileWindow"/> is the
/// streaming kind, for files read front to back whatever their size.
/// </summary>
public sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile _file;
    private readonly MappedView _view;
    private readonly int _length;
    private bool _disposed;

    private MappedFile(MemoryMappedFile file, MappedView view, int length)
    {
        _file = file;
        _view = view;
        _length = length;
    }

    /// <summary>Maps <paramref name="path"/> (opened read-only, shared with writers); it must hold 1 to 2^31-1 bytes.</summary>
    public static MappedFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        MemoryMappedFile? file = null;
        try
        {
            var length = stream.Length;
            if (length is 0 or > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(path), $"{path} holds {length} bytes; only 1 byte to 2 GiB is mapped");
            file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            return new MappedFile(file, MappedView.Open(file, 0, length), (int)length);
        }
        catch
        {
            if (file is not null) file.Dispose();
            else stream.Dispose();
            throw;
        }
    }

    /// <summary>The file's bytes.</summary>
    public ReadOnlyMemory<byte> Contents => Memory;

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Span<byte>(_view.Start, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new MemoryHandle(_view.Start + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        _view.Dispose();
        _file.Dispose();
    }
}

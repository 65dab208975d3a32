using System.IO.MemoryMappedFiles;

namespace KeyDoctor.Formats.Primitives;

/// <summary>
/// One read-only view of a memory-mapped file with its pointer held: the one place that turns a mapping into a
/// pointer for <see cref="MappedFile"/> and <see cref="MappedFileWindow"/> (a span over a view needs it).
/// </summary>
internal sealed unsafe class MappedView : IDisposable
{
    private readonly MemoryMappedViewAccessor _accessor;
    private bool _disposed;

    private MappedView(MemoryMappedViewAccessor accessor, byte* start)
    {
        _accessor = accessor;
        Start = start;
    }

    /// <summary>The byte at the offset the view was opened at (the mapping itself starts at the page below it).</summary>
    public byte* Start { get; }

    public static MappedView Open(MemoryMappedFile file, long offset, long length)
    {
        var accessor = file.CreateViewAccessor(offset, length, MemoryMappedFileAccess.Read);
        try
        {
            byte* pointer = null;
            accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedView(accessor, pointer + accessor.PointerOffset);
        }
        catch
        {
            accessor.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
        _accessor.Dispose();
    }
}

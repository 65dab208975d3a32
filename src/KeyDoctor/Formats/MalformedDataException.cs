namespace KeyDoctor.Formats;

/// <summary>
/// Thrown by every reader when its input does not follow the on-disk format. It carries the name of the
/// format and the byte offset where reading failed, so a report can point at the exact place in the evidence.
/// </summary>
public sealed class MalformedDataException : Exception
{
    public MalformedDataException(string format, long offset, string message, Exception? inner = null)
        : base($"{format}: {message} (at offset 0x{offset:X})", inner)
    {
        Format = format;
        Offset = offset;
        Reason = message;
    }

    /// <summary>Short name of the format being read, e.g. "regf", "evtx", "CAPI key file".</summary>
    public string Format { get; }

    /// <summary>Byte offset, from the start of the input, where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>The reason without format and offset.</summary>
    public string Reason { get; }

    /// <summary>The file that was being read, when the reader was given a path (null for data in memory).</summary>
    public string? FilePath { get; private init; }

    /// <summary>Runs a read of the file at <paramref name="path"/>; a malformed-data error from it names the file.</summary>
    public static T FromFile<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (MalformedDataException ex)
        {
            throw ex.InFile(path);
        }
    }

    /// <summary>The same error, naming the file it was read from (the first file named is kept).</summary>
    public MalformedDataException InFile(string path) =>
        FilePath is not null ? this : new MalformedDataException(Format, Offset, Reason, InnerException) { FilePath = path };
}

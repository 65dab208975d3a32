namespace KeyDoctor.Formats.Procmon;

/// <summary>The three forms a Process Monitor capture arrives in.</summary>
public enum ProcmonCaptureFormat
{
    Pml,
    Csv,
    Xml,
}

/// <summary>
/// Opens a Process Monitor capture whatever its form, told by content, not by name: "PML_" is a native capture,
/// a leading '&lt;' (after a UTF-8 BOM and blanks) Procmon's XML export, anything else its CSV export.
/// </summary>
public sealed class ProcmonCapture : IDisposable
{
    private readonly IDisposable _reader;
    private readonly Func<IEnumerable<ProcmonEvent>> _events;

    private ProcmonCapture(ProcmonCaptureFormat format, IDisposable reader, Func<IEnumerable<ProcmonEvent>> events)
    {
        Format = format;
        _reader = reader;
        _events = events;
    }

    public ProcmonCaptureFormat Format { get; }

    /// <summary>The PML reader of a PML capture (its events can be decoded in parallel batches), or null for an export.</summary>
    public PmlReader? Pml => _reader as PmlReader;

    /// <summary>Opens <paramref name="path"/> read-only; throws <see cref="MalformedDataException"/> when it is no capture.</summary>
    public static ProcmonCapture Open(string path)
    {
        Span<byte> head = stackalloc byte[8];
        int read;
        using (var probe = File.OpenRead(path)) read = probe.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var start = head[..read];
        if (start.StartsWith("PML_"u8))
        {
            var pml = PmlReader.Open(path);
            return new ProcmonCapture(ProcmonCaptureFormat.Pml, pml, pml.ReadEvents);
        }
        var text = start.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? start[3..] : start;
        if (text.TrimStart(" \r\n\t"u8).StartsWith("<"u8))
        {
            var xml = ProcmonXmlReader.Open(path);
            return new ProcmonCapture(ProcmonCaptureFormat.Xml, xml, xml.ReadEvents);
        }
        var csv = ProcmonCsvReader.Open(path);
        return new ProcmonCapture(ProcmonCaptureFormat.Csv, csv, csv.ReadEvents);
    }

    /// <summary>Every event in capture order; a damaged one ends the stream with <see cref="MalformedDataException"/>.</summary>
    public IEnumerable<ProcmonEvent> ReadEvents() => _events();

    /// <summary>
    /// The events up to the first damaged one: the damage is handed to <paramref name="damaged"/> instead of thrown,
    /// so a check can use what the capture holds before it.
    /// </summary>
    public IEnumerable<ProcmonEvent> ReadEventsUntilDamage(Action<MalformedDataException> damaged)
    {
        using var events = _events().GetEnumerator();
        while (true)
        {
            try
            {
                if (!events.MoveNext()) yield break;
            }
            catch (MalformedDataException ex)
            {
                damaged(ex);
                yield break;
            }
            yield return events.Current;
        }
    }

    public void Dispose() => _reader.Dispose();
}

using System.IO.Enumeration;
using System.Threading.Channels;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine.KeyStore;

public sealed record KeyStoreScanOptions
{
    /// <summary>The machine's MachineGuid; when set, every file-name suffix is checked against it.</summary>
    public Guid? MachineGuid { get; init; }

    /// <summary>Parallel readers; defaults to one per core.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Bound of the path and result queues: what caps memory, whatever the folder size.</summary>
    public int QueueCapacity { get; init; } = 1024;
}

/// <summary>
/// Streams the reports of every file in a key folder. The directory is enumerated lazily (never a list of all
/// files), files are read and classified on <see cref="KeyStoreScanOptions.Workers"/> threads through bounded
/// queues, so memory stays flat from 10 to 5 million files. Reports come out in completion order, which is not
/// the directory order: sort them if order matters.
/// </summary>
public static class KeyStoreScanner
{
    internal static readonly EnumerationOptions EnumerationOptions = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        // Windows marks some key files System/Hidden; they are still key files.
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    /// <param name="tally">Prefix counts from <see cref="PrefixTally.Build"/>; null skips the duplicate check.</param>
    public static IEnumerable<KeyFileReport> Scan(KeyStoreFolder folder, KeyStoreScanOptions? options = null,
        PrefixTally? tally = null, CancellationToken cancellationToken = default)
    {
        options ??= new KeyStoreScanOptions();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = cts.Token;
        var paths = Channel.CreateBounded<string>(new BoundedChannelOptions(options.QueueCapacity) { SingleWriter = true });
        var results = Channel.CreateBounded<KeyFileReport>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true });

        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var path in EnumerateFiles(folder.Path))
                    await paths.Writer.WriteAsync(path, token).ConfigureAwait(false);
                paths.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                paths.Writer.TryComplete(ex);
            }
        }, token);

        var workers = Enumerable.Range(0, Math.Max(1, options.Workers)).Select(_ => Task.Run(async () =>
        {
            // One buffer per worker, reused for every file: no per-file allocation of file contents.
            var buffer = new byte[KeyFileInspector.MaxKeyFileLength];
            await foreach (var path in paths.Reader.ReadAllAsync(token).ConfigureAwait(false))
                await results.Writer.WriteAsync(ReadOne(path, buffer, folder.Kind, options.MachineGuid, tally), token)
                    .ConfigureAwait(false);
        }, token)).ToArray();

        _ = Task.WhenAll(workers).ContinueWith(t =>
            results.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);

        try
        {
            var reader = results.Reader;
            while (reader.WaitToReadAsync(token).AsTask().GetAwaiter().GetResult())
                while (reader.TryRead(out var report))
                    yield return report;
        }
        finally
        {
            // The consumer may stop early (an output error, a Ctrl+C): stop the pipeline before leaving.
            cts.Cancel();
            try
            {
                Task.WaitAll([producer, .. workers]);
            }
            catch (AggregateException)
            {
                // Cancellation of the pipeline, or the error already surfaced through the result queue.
            }
        }
    }

    /// <summary>Reads and classifies one file with a caller-owned buffer; IO failures become a report.</summary>
    public static KeyFileReport ReadOne(string path, byte[] buffer, KeyProviderKind? kind, Guid? machineGuid, PrefixTally? tally)
    {
        long length;
        DateTime created, modified, accessed;
        int read;
        try
        {
            var info = new FileInfo(path); // one lstat gives length and the three times
            length = info.Length;
            created = info.CreationTimeUtc;
            modified = info.LastWriteTimeUtc;
            accessed = info.LastAccessTimeUtc;
            read = 0;
            if (length > 0 && length <= buffer.Length)
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var wanted = (int)length;
                while (read < wanted)
                {
                    var n = RandomAccess.Read(handle, buffer.AsSpan(read, wanted - read), read);
                    if (n == 0) break; // shrank since the lstat: classify what is there
                    read += n;
                }
                length = read < wanted ? read : length;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new KeyFileReport
            {
                Path = path,
                Kind = kind,
                Problems = [new KeyFileProblem(KeyFileStatus.Unreadable, ex.Message)],
            };
        }

        var report = KeyFileInspector.Inspect(path, buffer.AsMemory(0, read), length, kind, machineGuid).Report;
        report = report with { CreatedUtc = created, ModifiedUtc = modified, AccessedUtc = accessed };
        if (tally is not null && ContainerName.TrySplitFileName(Path.GetFileName(path.AsSpan()), out var prefix, out var guid)
            && guid is { } own && tally.CountOf(prefix) > 1)
        {
            var others = tally.OtherGuids(prefix, own);
            var evidence = $"prefix {ContainerName.Format(prefix)} exists under {tally.CountOf(prefix)} GUIDs; also under "
                           + string.Join(", ", others.Select(g => g.ToString("D")))
                           + (tally.CountOf(prefix) - 1 > others.Count ? ", ..." : "");
            report = report with { Problems = [.. report.Problems, new KeyFileProblem(KeyFileStatus.DuplicateContainer, evidence)] };
        }
        return report;
    }

    /// <summary>Full paths of the files in a folder (not recursive), lazily.</summary>
    public static IEnumerable<string> EnumerateFiles(string folder) =>
        new FileSystemEnumerable<string>(folder, (ref FileSystemEntry entry) => entry.ToFullPath(), EnumerationOptions)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Buffers;
using System.Text.Json;
using KeyDoctor.Diagnosis.Trace;
using KeyDoctor.Formats;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;
using KeyDoctor.Machine;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor trace`: reads a Process Monitor capture (PML, or Procmon's CSV or XML export) and prints every event,
/// filtered; with --keys, the key story: which processes touched key stores, MachineGuid, certificate stores and
/// SSL bindings, and what happened, in sentences.
/// </summary>
public static class TraceCommand
{
    public static Command Create(CliContext context)
    {
        var capture = new Argument<string>("capture") { Description = "A Process Monitor capture: .PML, or Procmon's CSV or XML export (File > Save)." };
        var process = new Option<string?>("--process") { Description = "Only events of this process name (case-insensitive, e.g. inetinfo.exe)." };
        var path = new Option<string?>("--path") { Description = "Only events whose path contains this text (case-insensitive, e.g. MachineKeys)." };
        var result = new Option<string?>("--result") { Description = "Only events with this result (case-insensitive, e.g. \"ACCESS DENIED\")." };
        var since = new Option<string?>("--since") { Description = "Only events at or after this time (ISO 8601, or 30m, 12h, 7d). PML times are UTC; exports carry the capturing machine's local time." };
        var until = new Option<string?>("--until") { Description = "Only events before this time (same forms as --since)." };
        var keys = new Option<bool>("--keys") { Description = "Tell the key story: processes that touched MachineKeys, Crypto\\Keys, MachineGuid, certificate stores or SslBindingInfo, failures first." };
        var source = new Option<string?>("--source") { Description = "With --keys: the machine the capture came from (image folder or bundle), to name containers from the actual key files." };
        var json = CommonOptions.Json();
        json.Description = "Events: JSON Lines (time, process, pid, tid, operation, path, result, detail). --keys: one JSON document.";
        var command = new Command("trace", "Read a Process Monitor capture (PML, CSV or XML) offline; --keys tells what happened to the machine keys.")
        {
            capture, process, path, result, since, until, keys, source, json,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            var now = DateTime.UtcNow;
            var filter = new TraceFilter(parse.GetValue(process), parse.GetValue(path), parse.GetValue(result),
                EventsCommand.ParseTime(parse.GetValue(since), "--since", now), EventsCommand.ParseTime(parse.GetValue(until), "--until", now));
            var (file, bundle) = BundleInput.Open(context, parse.GetValue(capture)!); // a capture in a bundle's traces folder
            using var bundleScope = bundle;
            if (!File.Exists(file)) throw new UserInputException($"there is no capture {file}: give a Process Monitor capture (.PML, or its CSV or XML export) that exists.");
            return parse.GetValue(keys)
                ? RunKeys(context, file, filter, parse.GetValue(source), parse.GetValue(json))
                : RunEvents(context, file, filter, parse.GetValue(json));
        });
        return command;
    }

    private sealed record TraceFilter(string? Process, string? Path, string? Result, DateTime? Since, DateTime? Until)
    {
        public bool Matches(in ProcmonEventColumns e) =>
            (Process is null || string.Equals(e.Process.Name, Process, StringComparison.OrdinalIgnoreCase))
            && (Path is null || e.Path.Contains(Path, StringComparison.OrdinalIgnoreCase))
            && (Result is null || string.Equals(e.Result, Result, StringComparison.OrdinalIgnoreCase))
            && (Since is null || e.Time >= Since) && (Until is null || e.Time < Until);
    }

    private static int RunEvents(CliContext context, string file, TraceFilter filter, bool json)
    {
        var events = Open(file, out var owner);
        long shown = 0, read = 0;
        using (owner)
        {
            // A capture has millions of events: each batch is filtered and formatted as UTF-8 on the thread that
            // decoded it (all cores for a PML capture, with no object per event), and the bytes go to stdout in
            // capture order.
            var batches = owner is ProcmonCapture { Pml: { } pml }
                ? pml.ReadColumnBatches(batch => Format(batch.Events, batch.Error, filter, json, context.Output.NewLine))
                : Batches(events).Select(batch => Format([.. batch.Events.Select(e => e.Columns)], batch.Error, filter, json, context.Output.NewLine));
            foreach (var block in batches)
            {
                using (block.Utf8) context.WriteUtf8(block.Utf8.WrittenSpan);
                shown += block.Shown;
                read += block.Read;
                if (block.Error is { } error) throw Damaged(file, error, read);
            }
        }
        context.Output.Flush();
        context.Error.WriteLine($"trace: {shown} of {read} events shown");
        return ExitCodes.Healthy;
    }

    /// <summary>Events of an export (read on one thread), a thousand at a time; a damaged row ends the last batch.</summary>
    private static IEnumerable<(IReadOnlyList<ProcmonEvent> Events, MalformedDataException? Error)> Batches(IEnumerable<ProcmonEvent> events)
    {
        var batch = new List<ProcmonEvent>(1024);
        using var e = events.GetEnumerator();
        while (true)
        {
            MalformedDataException? damaged = null;
            try
            {
                if (!e.MoveNext()) break;
            }
            catch (MalformedDataException ex)
            {
                damaged = ex;
            }
            if (damaged is not null)
            {
                yield return (batch, damaged);
                yield break;
            }
            batch.Add(e.Current);
            if (batch.Count < 1024) continue;
            yield return (batch, null);
            batch = new List<ProcmonEvent>(1024);
        }
        if (batch.Count > 0) yield return (batch, null);
    }

    private sealed record FormattedBatch(PooledBufferWriter Utf8, int Shown, int Read, MalformedDataException? Error);

    [ThreadStatic] private static StringBuilder? _line;

    private static FormattedBatch Format(ReadOnlySpan<ProcmonEventColumns> events, MalformedDataException? error, TraceFilter filter, bool json, string newLine)
    {
        var buffer = new PooledBufferWriter(events.Length * 512); // a JSON line is about 350 bytes: rarely grown
        var shown = 0;
        if (json)
        {
            using var writer = new Utf8JsonWriter(buffer, TraceEventWriter.Options);
            foreach (ref readonly var e in events)
            {
                if (!filter.Matches(e)) continue;
                shown++;
                TraceEventWriter.Write(writer, e);
                writer.Flush();
                writer.Reset();
                buffer.Write("\n"u8);
            }
            return new FormattedBatch(buffer, shown, events.Length, error);
        }
        var line = _line ??= new StringBuilder(256);
        foreach (ref readonly var e in events)
        {
            if (!filter.Matches(e)) continue;
            shown++;
            line.Clear();
            line.Append(e.Time?.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture) ?? "-").Append("  ")
                .Append(e.Process.Name).Append(" (").Append(e.Process.ProcessId).Append(")  ").Append(e.Operation).Append("  ")
                .Append(e.Path).Append("  ").Append(e.Result);
            if (e.Detail.Length > 0) line.Append("  ").Append(e.Detail.ReplaceLineEndings(" "));
            var text = line.Append(newLine).ToString();
            buffer.Advance(Utf8.GetBytes(text, buffer.GetSpan(Utf8.GetMaxByteCount(text.Length))));
        }
        return new FormattedBatch(buffer, shown, events.Length, error);
    }

    private static readonly UTF8Encoding Utf8 = new(false);

    private static int RunKeys(CliContext context, string file, TraceFilter filter, string? source, bool json)
    {
        var keyFiles = source is null ? null : KeyFilesOf(source);
        var events = Open(file, out var owner);
        KeyStory story;
        long read = 0;
        using (owner)
        {
            try
            {
                story = KeyStoryBuilder.Build(events.Where(e => { read++; return filter.Matches(e.Columns); }), keyFiles);
            }
            catch (MalformedDataException ex)
            {
                throw Damaged(file, ex, read);
            }
        }
        if (json)
        {
            var document = new TraceKeyStoryJson(file, story.EventsRead, story.MachineGuids,
                [.. story.Processes.Select(p => new TraceKeyProcessJson(p.Process.Name, p.Process.ProcessId, NullIfEmpty(p.Process.User),
                    NullIfEmpty(p.Process.CommandLine), NullIfEmpty(p.Process.ImagePath), p.Failures, p.Sentences,
                    [.. p.Accesses.Select(a => new TraceKeyAccessJson(a.Sequence, a.Time, KindName(a.Kind), a.Operation, a.Path, a.Result, a.Failed,
                        a.Detail, a.KeyFile, a.Container, a.MachineGuidSuffix?.ToString()))]))]);
            context.Output.WriteLine(JsonSerializer.Serialize(document, TraceJsonContext.Document.TraceKeyStoryJson));
        }
        else
        {
            WriteStory(context, story);
        }
        context.Error.WriteLine($"trace: {story.Processes.Count} process(es) touched keys, certificates or MachineGuid in {story.EventsRead} events");
        return story.Processes.Any(p => p.Failures > 0) ? ExitCodes.Findings : ExitCodes.Healthy;
    }

    private static void WriteStory(CliContext context, KeyStory story)
    {
        var console = context.Console;
        if (story.Processes.Count == 0)
        {
            console.WriteLine("No process touched key stores, MachineGuid, certificate stores or SSL bindings.");
            return;
        }
        foreach (var p in story.Processes)
        {
            var title = $"{p.Process.Name} (PID {p.Process.ProcessId})" + (p.Failures > 0 ? $": {p.Failures} failure(s)" : "");
            console.Write(new Rule(Markup.Escape(title)).LeftJustified());
            if (!string.IsNullOrEmpty(p.Process.User)) console.MarkupLine($"User: {Markup.Escape(p.Process.User)}");
            if (!string.IsNullOrEmpty(p.Process.CommandLine)) console.MarkupLine($"Command line: {Markup.Escape(p.Process.CommandLine)}");
            foreach (var sentence in p.Sentences) console.MarkupLine($"[bold]{Markup.Escape(sentence)}[/]");
            var table = new Table().Border(TableBorder.Simple).AddColumns("#", "Operation", "Path", "Result", "Detail");
            foreach (var a in p.Accesses)
                table.AddRow(new Text(a.Sequence.ToString(CultureInfo.InvariantCulture)), new Text(a.Operation), new Text(a.Path),
                    new Text(a.Result, a.Failed ? new Style(Color.Red) : Style.Plain), new Text(a.Container is null ? a.Detail : $"{a.Container}; {a.Detail}"));
            console.Write(table);
        }
    }

    private static IEnumerable<ProcmonEvent> Open(string file, out IDisposable owner)
    {
        try
        {
            var capture = ProcmonCapture.Open(file);
            owner = capture;
            return capture.ReadEvents();
        }
        catch (MalformedDataException ex)
        {
            throw new UserInputException($"cannot read the capture {file}: {ex.Reason} (at offset 0x{ex.Offset:X}); nothing was read");
        }
    }

    private static UserInputException Damaged(string file, MalformedDataException ex, long read) =>
        new($"the capture {file} is damaged at offset 0x{ex.Offset:X}: {ex.Reason}; {read} events before it were read");

    /// <summary>Key files of the machine stores of the source's layout (MachineKeys, Crypto\Keys) with the container name inside.</summary>
    private static List<KnownKeyFile> KeyFilesOf(string source)
    {
        using var machine = MachineSource.Open(source);
        var files = new List<KnownKeyFile>();
        foreach (var store in KeyStoreCatalogue.Of(machine).MachineStores)
        {
            var folder = store.Path;
            if (!machine.DirectoryExists(folder)) continue;
            foreach (var f in machine.EnumerateFiles(folder).OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                string? container = null;
                if (store.Kind == KeyProviderKind.Capi && f.Length is > 0 and < 1 << 20)
                {
                    try
                    {
                        using var stream = machine.OpenRead(f.Path);
                        var bytes = new byte[f.Length];
                        stream.ReadExactly(bytes);
                        container = CapiKeyFile.Parse(bytes).Name;
                    }
                    catch (MalformedDataException)
                    {
                    }
                }
                files.Add(new KnownKeyFile(f.Path[(f.Path.LastIndexOf('\\') + 1)..], container));
            }
        }
        return files;
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static string KindName(KeyResourceKind kind) => kind switch
    {
        KeyResourceKind.MachineKeys => "machineKeys",
        KeyResourceKind.CngKeys => "cngKeys",
        KeyResourceKind.DssKeys => "dssKeys",
        KeyResourceKind.UserKeys => "userKeys",
        KeyResourceKind.MachineGuid => "machineGuid",
        KeyResourceKind.CertificateStore => "certificateStore",
        _ => "sslBinding",
    };
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using KeyDoctor.Cli.Json;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keys list`: one row per key file of a folder or an image's key stores, sorted by file name.</summary>
internal static class KeysListCommand
{
    /// <summary>Up to this many files the text listing is a table; beyond, plain lines are streamed.</summary>
    internal const int TableLimit = 500;

    public static Command Create(CliContext context)
    {
        var path = new Argument<string?>("folder")
        {
            Description = "A MachineKeys or Keys folder, the root of a Windows image (ProgramData\\Microsoft\\Crypto is searched), or a bundle from 'keydoctor collect'. " +
                          "None: this Windows machine's key stores, checked against its MachineGuid.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var machineGuid = KeysCommand.MachineGuidOption();
        var json = CommonOptions.Json();
        var command = new Command("list", "One row per key file, sorted by name: container, kind, key specs, key size, fingerprint, master key, status.")
        {
            path, machineGuid, json,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            var guid = KeysCommand.ParseGuid(parse.GetValue(machineGuid), "--machine-guid");
            if (parse.GetValue(path) is { } given) return List(context, given, guid, parse.GetValue(json));
            if (!OperatingSystem.IsWindows())
                throw new UserInputException("give a MachineKeys or Keys folder, an image root or a bundle: without one, 'keys list' reads the key " +
                                             "stores of the Windows machine it runs on, and this is not Windows");
            // This machine, read in place (read-only): the system drive's stores, and the MachineGuid from the live registry.
            return List(context, Path.GetPathRoot(Environment.SystemDirectory)!, guid ?? LiveMachineGuid(context), parse.GetValue(json));
        });
        return command;
    }

    private static int List(CliContext context, string path, Guid? machineGuid, bool json)
    {
        var (local, extracted) = BundleInput.Open(context, path); // a bundle zip, or a key folder inside one
        using var extractedScope = extracted;
        // A bundle extracted by hand keeps its manifest, and with it the times the files had on the server.
        using var keptFolder = extracted is null && File.Exists(Path.Combine(local, BundleManifest.FileName))
            ? (FolderMachineSource)MachineSource.Open(local) : null;
        var inventory = KeyStoreInventory.Open(local, machineGuid, extracted ?? keptFolder);
        foreach (var note in inventory.Notes) context.Error.WriteLine(context.ShowPathsIn(note));
        var total = inventory.FileCount;

        var counts = new Dictionary<KeyFileStatus, long>();
        IEnumerable<KeyFileReport> Counted(Action<long>? progress)
        {
            long seen = 0;
            foreach (var found in inventory.Reports())
            {
                var report = extracted is null ? found : found with { Path = context.ShowPath(found.Path) };
                counts[report.Status] = counts.GetValueOrDefault(report.Status) + 1;
                if ((++seen & 0xFF) == 0) progress?.Invoke(seen);
                yield return report;
            }
            progress?.Invoke(seen);
        }

        List<KeyFileReport>? tableRows = null; // drawn after the progress bar is gone
        void Run(Action<long>? progress)
        {
            if (json)
            {
                using var array = JsonStream.Array(context);
                foreach (var report in Counted(progress)) array.Add(KeysJson.Row(report), KeyDoctorJson.Default.KeyFileJson);
            }
            else if (total <= TableLimit)
                tableRows = Counted(progress).ToList();
            else
                WriteLines(context, Counted(progress));
        }

        if (context.Interactive && total > 0)
            context.ErrorConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"reading {total:N0} key files", maxValue: total);
                    Run(seen => task.Value = seen);
                });
        else
            Run(null);
        if (tableRows is not null) WriteTable(context, tableRows);

        if (context.Interactive)
            context.ErrorConsole.MarkupLine(Markup.Escape(
                $"{total:N0} files in {string.Join(", ", inventory.Folders.Select(f => context.ShowPath(f.Folder.Path)))}: "
                + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value:N0} {KeyFileStatusNames.Of(c.Key)}"))));
        return counts.Keys.Any(s => s != KeyFileStatus.Ok) || inventory.Unlisted > 0 ? ExitCodes.Findings : ExitCodes.Healthy;
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static Guid? LiveMachineGuid(CliContext context)
    {
        using var cryptography = Microsoft.Win32.Registry.LocalMachine.OpenSubKey(@"SOFTWARE\Microsoft\Cryptography");
        if (cryptography?.GetValue("MachineGuid") is string text && Guid.TryParse(text, out var guid))
        {
            context.Error.WriteLine($"MachineGuid {guid:D} (from this machine's registry)");
            return guid;
        }
        context.Error.WriteLine("keydoctor: this machine's MachineGuid could not be read (HKLM\\SOFTWARE\\Microsoft\\Cryptography); suffixes are not checked");
        return null;
    }

    private static void WriteTable(CliContext context, IReadOnlyList<KeyFileReport> reports)
    {
        // Narrow enough for a 160-column terminal: file names and GUIDs are shortened here (JSON has them whole).
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "file", "container", "kind", "key", "exp", "SHA-256 (SPKI)", "master key", "size", "modified", "status" })
            table.AddColumn(new TableColumn(column) { NoWrap = column != "container" });
        foreach (var r in reports)
        {
            var key = r.KeySpecs.Count > 0
                ? string.Join("+", r.KeySpecs.Select(s => s == KeySpec.KeyExchange ? "exchange" : "signature"))
                : r.Algorithm ?? "-";
            table.AddRow(new[]
            {
                Shorten(r.FileName),
                r.Container ?? (r.WellKnown is { } k ? $"({k.Name}?)" : "-"),
                r.Kind is { } kind ? KeysJson.KindName(kind) : "-",
                r.KeyBits is { } bits ? $"{key} {bits}" : key,
                r.Exponent?.ToString(CultureInfo.InvariantCulture) ?? "-",
                r.PublicKeySha256?[..12] ?? "-",
                r.MasterKeyGuids.Count == 0 ? "-" : string.Join(",", r.MasterKeyGuids.Select(g => g.ToString("N")[..8])),
                r.Size.ToString(CultureInfo.InvariantCulture),
                r.ModifiedUtc?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-",
                KeyFileStatusNames.Of(r.Status),
            }.Select(text => (Spectre.Console.Rendering.IRenderable)new Text(text)).ToArray());
        }
        context.Console.Write(table);
        foreach (var r in reports)
            foreach (var problem in r.Problems)
                context.Output.WriteLine($"{r.FileName}: {problem.Name}: {problem.Evidence}");
    }

    /// <summary>"79e1ac78…_4f8e7ec6…" for a key-file name; other names up to 24 characters.</summary>
    private static string Shorten(string fileName) =>
        ContainerName.TrySplitFileName(fileName, out _, out var guid) && guid is not null
            ? $"{fileName[..8]}…_{fileName[33..41]}…"
            : fileName.Length <= 24 ? fileName : fileName[..23] + "…";

    private static void WriteLines(CliContext context, IEnumerable<KeyFileReport> reports)
    {
        var output = context.Output; // buffered: a million lines stay cheap
        int[] widths = [69, 40, 4, 22, 5, 6, 16, 36, 7, 19, 0];
        output.WriteLine(Line(["file", "container", "kind", "key specs", "bits", "exp", "sha256", "master key", "size", "modified", "status"], widths));
        foreach (var r in reports)
        {
            output.WriteLine(Line(Cells(r), widths));
            foreach (var problem in r.Problems) output.WriteLine($"  {problem.Name}: {problem.Evidence}");
        }
    }

    private static string Line(string[] cells, int[] widths)
    {
        var line = new StringBuilder(256);
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0) line.Append("  ");
            line.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }
        return line.ToString();
    }

    private static string[] Cells(KeyFileReport r) =>
    [
        r.FileName,
        r.Container ?? (r.WellKnown is { } k ? $"({k.Name}?)" : "-"),
        r.Kind is { } kind ? KeysJson.KindName(kind) : "-",
        r.KeySpecs.Count == 0 ? "-" : string.Join(",", r.KeySpecs.Select(KeysJson.SpecName)),
        r.KeyBits?.ToString(CultureInfo.InvariantCulture) ?? "-",
        r.Exponent?.ToString(CultureInfo.InvariantCulture) ?? "-",
        r.PublicKeySha256?[..16] ?? "-",
        r.MasterKeyGuids.Count == 0 ? "-" : string.Join(",", r.MasterKeyGuids),
        r.Size.ToString(CultureInfo.InvariantCulture),
        r.ModifiedUtc?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-",
        KeyFileStatusNames.Of(r.Status),
    ];
}

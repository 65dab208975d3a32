using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine.KeyStore;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor keys`: name, list and show CryptoAPI and CNG key container files, offline.</summary>
public static class KeysCommand
{
    /// <summary>Up to this many files the text listing is a sorted table; beyond, plain lines are streamed.</summary>
    internal const int TableLimit = 500;

    public static Command Create(CliContext context) =>
        new("keys", "Read CryptoAPI (RSA\\MachineKeys) and CNG (Crypto\\Keys) key files offline: names, keys, integrity.")
        {
            CreateName(context),
            CreateList(context),
            CreateShow(context),
            CreateConvert(context),
            CreateExport(context),
            CreateImport(context),
        };

    private static Command CreateExport(CliContext context)
    {
        var container = new Argument<string>("container") { Description = "CryptoAPI machine key container, e.g. iisWasKey." };
        var output = new Option<string>("--output", "-o") { Description = "Key set XML to write (owner-only, never overwritten).", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("export", "Windows: export both key numbers of a CryptoAPI machine container to one key set XML.")
        {
            container, output, json,
        };
        command.SetAction(parse =>
        {
            if (!OperatingSystem.IsWindows()) throw new UserInputException("keys export reads the CryptoAPI machine key store: it is for Windows (use keys convert elsewhere)");
            var path = parse.GetValue(output)!;
            if (File.Exists(path)) throw new UserInputException($"{path} exists; KeyDoctor never overwrites a key file");
            KeySet keySet;
            try { keySet = KeyDoctor.Machine.KeyStore.CapiKeySetStore.Export(parse.GetValue(container)!); }
            catch (System.Security.Cryptography.CryptographicException ex) { throw new UserInputException($"cannot export {parse.GetValue(container)}: {ex.Message}"); }
            OwnerOnlyFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(KeySetXml.Write(keySet)));
            WriteKeySetSummary(context, parse.GetValue(json), keySet, path);
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static Command CreateImport(CliContext context)
    {
        var input = new Argument<string>("file") { Description = "Key set XML, aspnet_regiis XML, PEM, PVK or PFX." };
        var container = new Option<string>("--container") { Description = "CryptoAPI machine key container to create.", Required = true };
        var exportable = new Option<bool>("--exportable") { Description = "Import the keys as exportable (default: not exportable)." };
        var replace = new Option<bool>("--replace") { Description = "Replace the container when it exists (only when it is proven bad: the key it holds is lost)." };
        var json = CommonOptions.Json();
        var command = new Command("import", "Windows: import a key set into a new CryptoAPI machine container, both key numbers; an existing container is replaced only with --replace.")
        {
            input, container, exportable, replace, json,
        };
        command.SetAction(parse =>
        {
            if (!OperatingSystem.IsWindows()) throw new UserInputException("keys import writes the CryptoAPI machine key store: it is for Windows");
            var keySet = KeySetConverter.Read(ReadKeyFile(parse.GetValue(input)!));
            if (keySet.Keys.Any(k => !k.HasPrivateKey)) throw new UserInputException("the key set holds a public key only");
            try { KeyDoctor.Machine.KeyStore.CapiKeySetStore.Import(keySet, parse.GetValue(container)!, parse.GetValue(exportable), parse.GetValue(replace)); }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or InvalidOperationException) { throw new UserInputException($"cannot import into {parse.GetValue(container)}: {ex.Message}"); }
            WriteKeySetSummary(context, parse.GetValue(json), keySet, parse.GetValue(container)!);
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static void WriteKeySetSummary(CliContext context, bool json, KeySet keySet, string target)
    {
        if (json)
            context.WriteJson(new { target, keys = keySet.Keys.Select(k => new { keyNumber = KeySetXml.Name(k.KeyNumber), bits = k.KeySizeBits }) });
        else
            foreach (var key in keySet.Keys) context.Output.WriteLine($"{KeySetXml.Name(key.KeyNumber)} {key.KeySizeBits}-bit -> {target}");
    }

    private static Command CreateConvert(CliContext context)
    {
        var input = new Argument<string>("input") { Description = "Key file: aspnet_regiis XML, PEM (PKCS#1 or PKCS#8), PVK or PFX." };
        var output = new Option<string>("--output", "-o") { Description = "File to write (created owner-only; never overwritten).", Required = true };
        var to = new Option<string?>("--to") { Description = "xml, pem (PKCS#1), pkcs8, pvk or pfx; by default from the output extension." };
        var keyNumber = new Option<string>("--key-number")
        {
            Description = "Which key a single-key form holds or takes: exchange (AT_KEYEXCHANGE) or signature (AT_SIGNATURE).",
            DefaultValueFactory = _ => "exchange",
        };
        var cert = new Option<string?>("--cert") { Description = "Certificate (DER or PEM) of the key, required for PFX output." };
        var password = new Option<string?>("--password") { Description = "PFX password (input and output)." };
        var json = CommonOptions.Json();
        var command = new Command("convert", "Convert RSA keys between aspnet_regiis XML, PEM PKCS#1/PKCS#8, PVK and PFX. Keys are never printed.")
        {
            input, output, to, keyNumber, cert, password, json,
        };
        command.SetAction(parse =>
        {
            var inputPath = parse.GetValue(input)!;
            var outputPath = parse.GetValue(output)!;
            var number = parse.GetValue(keyNumber) switch
            {
                "exchange" or "1" or "AT_KEYEXCHANGE" => CapiKeyNumber.Exchange,
                "signature" or "2" or "AT_SIGNATURE" => CapiKeyNumber.Signature,
                var other => throw new UserInputException($"--key-number {other}: use exchange or signature"),
            };
            var format = OutputFormat(parse.GetValue(to), outputPath);
            if (File.Exists(outputPath)) throw new UserInputException($"{outputPath} exists; KeyDoctor never overwrites a key file");
            var pfxPassword = parse.GetValue(password);
            var keySet = KeySetConverter.Read(ReadKeyFile(inputPath), number, pfxPassword);
            using var certificate = parse.GetValue(cert) is { } certPath
                ? System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(certPath)
                : null;
            byte[] bytes;
            try { bytes = KeySetConverter.Write(keySet, format, number, certificate, pfxPassword); }
            catch (ArgumentException ex) { throw new UserInputException(ex.Message); }
            OwnerOnlyFile.WriteAllBytes(outputPath, bytes);

            var written = format == KeySetFileFormat.Xml ? keySet.Keys : keySet.Keys.Where(k => k.KeyNumber == number).ToList();
            if (parse.GetValue(json))
                context.WriteJson(new
                {
                    input = inputPath,
                    output = outputPath,
                    format = FormatName(format),
                    keys = written.Select(k => new { keyNumber = KeySetXml.Name(k.KeyNumber), bits = k.KeySizeBits, hasPrivateKey = k.HasPrivateKey }),
                });
            else
                foreach (var key in written)
                    context.Output.WriteLine($"{KeySetXml.Name(key.KeyNumber)} {key.KeySizeBits}-bit -> {outputPath} ({FormatName(format)}, owner-only)");
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static KeySetFileFormat OutputFormat(string? to, string outputPath) =>
        (to ?? Path.GetExtension(outputPath).TrimStart('.')).ToLowerInvariant() switch
        {
            "xml" => KeySetFileFormat.Xml,
            "pem" or "pkcs1" or "key" => KeySetFileFormat.Pkcs1Pem,
            "pkcs8" or "p8" => KeySetFileFormat.Pkcs8Pem,
            "pvk" => KeySetFileFormat.Pvk,
            "pfx" or "p12" => KeySetFileFormat.Pfx,
            var other => throw new UserInputException($"output format \"{other}\": use --to xml, pem, pkcs8, pvk or pfx"),
        };

    private static string FormatName(KeySetFileFormat format) => format switch
    {
        KeySetFileFormat.Xml => "xml",
        KeySetFileFormat.Pkcs1Pem => "pem-pkcs1",
        KeySetFileFormat.Pkcs8Pem => "pem-pkcs8",
        KeySetFileFormat.Pvk => "pvk",
        _ => "pfx",
    };

    internal static byte[] ReadKeyFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > 1 << 20) throw new UserInputException($"{path} is {stream.Length} bytes, too large for a key file");
        var buffer = new byte[stream.Length];
        stream.ReadExactly(buffer);
        return buffer;
    }

    private static Command CreateName(CliContext context)
    {
        var container = new Argument<string>("container") { Description = "Container (CAPI) or key (CNG) name, e.g. iisWasKey." };
        var cng = new Option<bool>("--cng") { Description = "Use the CNG rule (UTF-16LE name) instead of the CryptoAPI one (ANSI)." };
        var guid = new Option<string?>("--guid") { Description = "MachineGuid: print the whole file name <prefix>_<guid>." };
        var json = CommonOptions.Json();
        var command = new Command("name", "Print the key-file name prefix (MD5 of the lower-cased name, as four little-endian DWORDs).")
        {
            container, cng, guid, json,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(container)!;
            var kind = parse.GetValue(cng) ? KeyProviderKind.Cng : KeyProviderKind.Capi;
            var machineGuid = ParseGuid(parse.GetValue(guid), "--guid");
            var prefix = ContainerName.Prefix(name, kind);
            var fileName = machineGuid is { } g ? ContainerName.FileName(name, kind, g) : null;
            ContainerName.TryParsePrefix(prefix, out var digest);
            var wellKnown = WellKnownContainers.Find(digest, kind);
            if (parse.GetValue(json))
                context.WriteJson(new
                {
                    container = name,
                    kind = KindName(kind),
                    prefix,
                    fileName,
                    wellKnown = wellKnown?.UsedBy,
                });
            else
                context.Output.WriteLine(fileName ?? prefix);
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static Command CreateList(CliContext context)
    {
        var path = new Argument<string>("folder")
        {
            Description = "A MachineKeys or Keys folder, or the root of a Windows image (ProgramData\\Microsoft\\Crypto is searched).",
        };
        var machineGuid = MachineGuidOption();
        var json = CommonOptions.Json();
        var command = new Command("list", "One row per key file: container, kind, key specs, key size, fingerprint, master key, status.")
        {
            path, machineGuid, json,
        };
        command.SetAction(parse => List(context, parse.GetValue(path)!, ParseGuid(parse.GetValue(machineGuid), "--machine-guid"),
            parse.GetValue(json)));
        return command;
    }

    private static Command CreateShow(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "One key file." };
        var machineGuid = MachineGuidOption();
        var json = CommonOptions.Json();
        var command = new Command("show", "Every field of one key file (no private key material is printed).") { file, machineGuid, json };
        command.SetAction(parse => Show(context, parse.GetValue(file)!, ParseGuid(parse.GetValue(machineGuid), "--machine-guid"),
            parse.GetValue(json)));
        return command;
    }

    private static Option<string?> MachineGuidOption() => new("--machine-guid")
    {
        Description = "The machine's MachineGuid (HKLM\\SOFTWARE\\Microsoft\\Cryptography); file-name suffixes are checked against it.",
    };

    // ---- list ----

    /// <summary>
    /// An image root carries its own MachineGuid in SOFTWARE (hive or registry\*.reg): use it, so GUID suffixes are
    /// checked without the admin having to look it up. A damaged hive only loses that check.
    /// </summary>
    private static Guid? MachineGuidOfImage(CliContext context, string path)
    {
        if (!Directory.Exists(path) || KeyStoreFolder.KindFromName(path) is not null) return null;
        try
        {
            var text = KeyDoctor.Formats.Registry.WindowsRegistry.OpenImage(path).MachineGuid;
            if (text is null) return null;
            if (Guid.TryParse(text, out var guid))
            {
                context.Error.WriteLine($"MachineGuid {guid:D} (from the image's SOFTWARE registry)");
                return guid;
            }
            context.Error.WriteLine($"keydoctor: the image's MachineGuid '{text}' is not a GUID; suffixes are not checked");
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException)
        {
            context.Error.WriteLine($"keydoctor: MachineGuid not read from the image ({ex.Message}); suffixes are not checked");
        }
        return null;
    }

    private static int List(CliContext context, string path, Guid? machineGuid, bool json)
    {
        var folders = KeyStoreFolder.Locate(path);
        machineGuid ??= MachineGuidOfImage(context, path);
        // The name-only pass counts the files (for the progress bar and the table/stream choice) and tallies the
        // prefixes, so that every copy of a container under several GUIDs is flagged, not only the later ones.
        var tallies = folders.Select(f => PrefixTally.Build(f.Path)).ToArray();
        var total = tallies.Sum(t => t.FileCount);
        var options = new KeyStoreScanOptions { MachineGuid = machineGuid };
        IEnumerable<KeyFileReport> Reports() =>
            folders.SelectMany((folder, i) => KeyStoreScanner.Scan(folder, options, tallies[i]));

        var counts = new Dictionary<KeyFileStatus, long>();
        IEnumerable<KeyFileReport> Counted(IEnumerable<KeyFileReport> reports, Action<long>? progress)
        {
            long seen = 0;
            foreach (var report in reports)
            {
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
                WriteJsonArray(context, Counted(Reports(), progress));
            else if (total <= TableLimit)
                tableRows = Counted(Reports(), progress).OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
            else
                WriteLines(context, Counted(Reports(), progress));
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
                $"{total:N0} files in {string.Join(", ", folders.Select(f => f.Path))}: "
                + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value:N0} {KeyFileStatusNames.Of(c.Key)}"))));
        return counts.Keys.Any(s => s != KeyFileStatus.Ok) ? ExitCodes.Findings : ExitCodes.Healthy;
    }

    private static void WriteJsonArray(CliContext context, IEnumerable<KeyFileReport> reports)
    {
        using var sink = new JsonSink(context.Output);
        var writer = sink.Writer;
        writer.WriteStartArray();
        foreach (var report in reports)
        {
            WriteReport(writer, report);
            sink.FlushIfFull();
        }
        writer.WriteEndArray();
        sink.Flush();
        context.Output.WriteLine();
    }

    private static void WriteReport(Utf8JsonWriter w, KeyFileReport r)
    {
        w.WriteStartObject();
        w.WriteString("file", r.FileName);
        w.WriteString("path", r.Path);
        WriteStringOrNull(w, "container", r.Container);
        if (r.WellKnown is { } known)
        {
            w.WriteString("wellKnown", known.Name);
            w.WriteString("wellKnownUse", known.UsedBy);
        }
        WriteStringOrNull(w, "kind", r.Kind is { } kind ? KindName(kind) : null);
        w.WriteStartArray("keySpecs");
        foreach (var spec in r.KeySpecs) w.WriteStringValue(SpecName(spec));
        w.WriteEndArray();
        if (r.Algorithm is not null) w.WriteString("algorithm", r.Algorithm);
        if (r.KeyBits is { } bits) w.WriteNumber("keyBits", bits); else w.WriteNull("keyBits");
        if (r.Exponent is { } e) w.WriteNumber("exponent", e);
        if (r.PublicKeySha256 is not null) w.WriteString("publicKeySha256", r.PublicKeySha256);
        w.WriteStartArray("masterKeyGuids");
        foreach (var guid in r.MasterKeyGuids) w.WriteStringValue(guid.ToString("D"));
        w.WriteEndArray();
        w.WriteNumber("size", r.Size);
        if (r.CreatedUtc is { } c) w.WriteString("created", c);
        if (r.ModifiedUtc is { } m) w.WriteString("modified", m);
        if (r.AccessedUtc is { } a) w.WriteString("accessed", a);
        w.WriteString("status", KeyFileStatusNames.Of(r.Status));
        w.WriteStartArray("problems");
        foreach (var problem in r.Problems)
        {
            w.WriteStartObject();
            w.WriteString("status", problem.Name);
            w.WriteString("evidence", problem.Evidence);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
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
                r.Kind is { } kind ? KindName(kind) : "-",
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
        // The real stdout autoflushes every line; a buffered writer over it keeps a million lines cheap.
        using var buffered = ReferenceEquals(context.Output, Console.Out)
            ? new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16)
            : null;
        var output = buffered ?? context.Output;
        int[] widths = [69, 40, 4, 22, 5, 6, 16, 36, 7, 19, 0];
        output.WriteLine(Line(["file", "container", "kind", "key specs", "bits", "exp", "sha256", "master key", "size", "modified", "status"], widths));
        foreach (var r in reports)
        {
            output.WriteLine(Line(Cells(r), widths));
            foreach (var problem in r.Problems) output.WriteLine($"  {problem.Name}: {problem.Evidence}");
        }
        output.Flush();
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
        r.Kind is { } kind ? KindName(kind) : "-",
        r.KeySpecs.Count == 0 ? "-" : string.Join(",", r.KeySpecs.Select(SpecName)),
        r.KeyBits?.ToString(CultureInfo.InvariantCulture) ?? "-",
        r.Exponent?.ToString(CultureInfo.InvariantCulture) ?? "-",
        r.PublicKeySha256?[..16] ?? "-",
        r.MasterKeyGuids.Count == 0 ? "-" : string.Join(",", r.MasterKeyGuids),
        r.Size.ToString(CultureInfo.InvariantCulture),
        r.ModifiedUtc?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-",
        KeyFileStatusNames.Of(r.Status),
    ];

    // ---- show ----

    private static int Show(CliContext context, string path, Guid? machineGuid, bool json)
    {
        if (Directory.Exists(path)) throw new UserInputException($"'{path}' is a folder; use 'keydoctor keys list' for folders");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"file not found: '{path}'");
        byte[] data;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            var length = (int)Math.Min(stream.Length, KeyFileInspector.MaxKeyFileLength);
            data = new byte[length];
            stream.ReadExactly(data);
        }
        var kindHint = KeyStoreFolder.KindFromName(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
        var inspection = KeyFileInspector.Inspect(Path.GetFullPath(path), data, info.Length, kindHint, machineGuid);
        var report = inspection.Report with
        {
            CreatedUtc = info.CreationTimeUtc, ModifiedUtc = info.LastWriteTimeUtc, AccessedUtc = info.LastAccessTimeUtc,
        };

        if (json)
            context.WriteJson(new
            {
                file = report.FileName,
                path = report.Path,
                container = report.Container,
                wellKnown = report.WellKnown?.Name,
                wellKnownUse = report.WellKnown?.UsedBy,
                kind = report.Kind is { } k ? KindName(k) : null,
                keySpecs = report.KeySpecs.Select(SpecName),
                algorithm = report.Algorithm,
                keyBits = report.KeyBits,
                exponent = report.Exponent,
                publicKeySha256 = report.PublicKeySha256,
                masterKeyGuids = report.MasterKeyGuids,
                size = report.Size,
                created = report.CreatedUtc,
                modified = report.ModifiedUtc,
                accessed = report.AccessedUtc,
                status = KeyFileStatusNames.Of(report.Status),
                problems = report.Problems.Select(p => new { status = p.Name, evidence = p.Evidence }),
                capi = inspection.Capi is { } capi ? CapiJson(capi) : null,
                cng = inspection.Cng is { } cng ? CngJson(cng) : null,
            });
        else
            ShowText(context, report, inspection);
        return report.Status == KeyFileStatus.Ok ? ExitCodes.Healthy : ExitCodes.Findings;
    }

    private static object CapiJson(CapiKeyFile f) => new
    {
        header = f.Header,
        declaredLength = f.Header.DeclaredFileLength,
        name = f.Name,
        nameDigest = ContainerName.Format(f.NameDigest),
        hash = Convert.ToHexStringLower(f.Hash.Span),
        trailingBytes = f.TrailingLength,
        keyPairs = f.KeyPairs.Select(p => new
        {
            keySpec = SpecName(p.Spec),
            sections = new[] { p.PublicKeySection, p.PrivateKeySection, p.ExportFlagSection }
                .Select(s => new { part = s.Part.ToString(), offset = s.Offset, length = s.Length }),
            publicKey = p.PublicKey is { } k ? new
            {
                magic = "RSA1",
                keyLength = k.KeyLength,
                bitLength = k.BitLength,
                dataLength = k.DataLength,
                exponent = k.Exponent,
                modulus = Convert.ToHexStringLower(k.ModulusBigEndian()),
                subjectPublicKeyInfoSha256 = k.ToPublicKeyInfo().Sha256,
            } : null,
            privateKey = p.PrivateKey is { } priv ? BlobJson(priv) : null,
            exportFlag = p.ExportFlag is { } flag ? BlobJson(flag) : null,
        }),
        errors = f.Errors.Select(e => e.ToString()),
    };

    private static object CngJson(CngKeyFile f) => new
    {
        header = new
        {
            f.Header.Version, f.Header.Reserved, f.Header.NameLength, f.Header.Type, f.Header.PropertyCount,
            f.Header.PublicPropertiesLength, f.Header.PrivatePropertiesLength, f.Header.PrivateKeyLength,
            reserved2 = Convert.ToHexStringLower(f.Header.Reserved2.Span),
        },
        declaredLength = f.Header.DeclaredFileLength,
        name = f.Name,
        nameDigest = ContainerName.Format(f.NameDigest),
        trailingBytes = f.TrailingLength,
        sections = new[] { f.PublicPropertiesSection, f.PrivatePropertiesSection, f.PrivateKeySection }
            .Select(s => new { part = s.Part.ToString(), offset = s.Offset, length = s.Length }),
        publicProperties = f.PublicProperties.Select(p => new
        {
            offset = p.Offset, structLength = p.StructLength, type = p.Type, name = p.Name, valueLength = p.Value.Length,
            value = PropertyValue(p),
        }),
        publicKey = f.PublicKey is { } k ? new
        {
            algorithm = k.Algorithm, keyBits = k.KeyBits, exponent = k.RsaExponent,
            subjectPublicKeyInfo = Convert.ToHexStringLower(k.SubjectPublicKeyInfo), subjectPublicKeyInfoSha256 = k.Sha256,
        } : null,
        privateProperties = f.PrivateProperties is { } pp ? BlobJson(pp) : null,
        privateKey = f.PrivateKey is { } pk ? BlobJson(pk) : null,
        errors = f.Errors.Select(e => e.ToString()),
    };

    private static string PropertyValue(CngProperty p) =>
        p.Name == "Modified" && p.AsFileTime is { } time ? time.ToString("O", CultureInfo.InvariantCulture)
        : p.Name.EndsWith("Name", StringComparison.Ordinal) ? p.AsText
        : Convert.ToHexStringLower(p.Value.Span);

    private static object BlobJson(DpapiBlob b) => new
    {
        offset = b.BaseOffset,
        length = b.Length,
        version = b.Version,
        provider = b.ProviderGuid,
        masterKeyVersion = b.MasterKeyVersion,
        masterKeyGuid = b.MasterKeyGuid,
        flags = (uint)b.Flags,
        flagNames = b.Flags.ToString(),
        description = b.Description,
        cryptAlgorithm = b.CryptAlgorithmName,
        cryptAlgorithmId = b.CryptAlgorithm,
        cryptAlgorithmBits = b.CryptAlgorithmBits,
        salt = Convert.ToHexStringLower(b.Salt.Span),
        hmacKey = Convert.ToHexStringLower(b.HmacKey.Span),
        hashAlgorithm = b.HashAlgorithmName,
        hashAlgorithmId = b.HashAlgorithm,
        hashAlgorithmBits = b.HashAlgorithmBits,
        hmacSalt = Convert.ToHexStringLower(b.HmacSalt.Span),
        // The cipher text and signature are located, not printed: DPAPI-protected material stays out of output.
        cipherTextOffset = b.BaseOffset + b.Layout.CipherTextOffset,
        cipherTextLength = b.CipherText.Length,
        signatureOffset = b.BaseOffset + b.Layout.SignatureOffset,
        signatureLength = b.Signature.Length,
        signedOffset = b.BaseOffset + b.SignedRange.Start.Value,
        signedLength = b.SignedRange.End.Value - b.SignedRange.Start.Value,
    };

    private static void ShowText(CliContext context, KeyFileReport r, KeyFileInspection inspection)
    {
        var c = context.Console;
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string name, object? value) => grid.AddRow(new Text(name), new Text(value?.ToString() ?? "-"));
        Row("file", r.Path);
        Row("size", r.Size.ToString(CultureInfo.InvariantCulture));
        Row("created (UTC)", r.CreatedUtc?.ToString("u", CultureInfo.InvariantCulture));
        Row("modified (UTC)", r.ModifiedUtc?.ToString("u", CultureInfo.InvariantCulture));
        Row("accessed (UTC)", r.AccessedUtc?.ToString("u", CultureInfo.InvariantCulture));
        Row("kind", r.Kind is { } kind ? KindName(kind) : null);
        Row("container", r.Container);
        if (r.WellKnown is { } known) Row("well-known", $"{known.Name}: {known.UsedBy}");
        Row("status", KeyFileStatusNames.Of(r.Status));
        c.Write(grid);
        foreach (var p in r.Problems) c.WriteLine($"  {p.Name}: {p.Evidence}");

        if (inspection.Capi is { } capi)
        {
            var h = capi.Header;
            Section(c, "CAPI header");
            c.WriteLine($"  version {h.Version}, reserved {h.Reserved}, declared length {h.DeclaredFileLength}, trailing {capi.TrailingLength}");
            c.WriteLine($"  lengths: name {h.NameLength}, hash {h.HashLength}; signature public {h.SignaturePublicKeyLength}, private {h.SignaturePrivateKeyLength}, export flag {h.SignatureExportFlagLength}; exchange public {h.ExchangePublicKeyLength}, private {h.ExchangePrivateKeyLength}, export flag {h.ExchangeExportFlagLength}");
            c.WriteLine($"  name '{capi.Name}' (hashes to {ContainerName.Format(capi.NameDigest)}), hash field {Convert.ToHexStringLower(capi.Hash.Span)}");
            foreach (var pair in capi.KeyPairs)
            {
                Section(c, $"{SpecName(pair.Spec)} key pair");
                foreach (var s in new[] { pair.PublicKeySection, pair.PrivateKeySection, pair.ExportFlagSection })
                    c.WriteLine($"  {s.Part,-16} at 0x{s.Offset:X4}, {s.Length} bytes");
                if (pair.PublicKey is { } k)
                {
                    var info = k.ToPublicKeyInfo();
                    c.WriteLine($"  public key: RSA1, key length {k.KeyLength}, {k.BitLength} bits, data length {k.DataLength}, exponent {k.Exponent}");
                    c.WriteLine($"  modulus: {Convert.ToHexStringLower(k.ModulusBigEndian())}");
                    c.WriteLine($"  SHA-256 of SubjectPublicKeyInfo: {info.Sha256}");
                }
                if (pair.PrivateKey is { } priv) BlobText(c, "private key blob", priv);
                if (pair.ExportFlag is { } flag) BlobText(c, "export flag blob", flag);
            }
            foreach (var e in capi.Errors) c.WriteLine($"  error: {e}");
        }
        if (inspection.Cng is { } cng)
        {
            var h = cng.Header;
            Section(c, "CNG header");
            c.WriteLine($"  version {h.Version}, reserved {h.Reserved}, type {h.Type}, property count {h.PropertyCount}, declared length {h.DeclaredFileLength}, trailing {cng.TrailingLength}");
            c.WriteLine($"  lengths: name {h.NameLength}, public properties {h.PublicPropertiesLength}, private properties {h.PrivatePropertiesLength}, private key {h.PrivateKeyLength}; reserved {Convert.ToHexStringLower(h.Reserved2.Span)}");
            c.WriteLine($"  name '{cng.Name}' (hashes to {ContainerName.Format(cng.NameDigest)})");
            Section(c, "public properties");
            foreach (var p in cng.PublicProperties)
                c.WriteLine($"  at 0x{p.Offset:X4}: type {p.Type}, '{p.Name}' = {PropertyValue(p)}");
            if (cng.PublicKey is { } k)
                c.WriteLine($"  public key: {k.Algorithm}, {k.KeyBits} bits{(k.RsaExponent is { } e ? $", exponent {e}" : "")}, SHA-256 of SubjectPublicKeyInfo {k.Sha256}");
            if (cng.PrivateProperties is { } pp) BlobText(c, "private properties blob", pp);
            if (cng.PrivateKey is { } pk) BlobText(c, "private key blob", pk);
            foreach (var e in cng.Errors) c.WriteLine($"  error: {e}");
        }
    }

    private static void Section(IAnsiConsole console, string title)
    {
        console.WriteLine();
        console.Write(new Rule(Markup.Escape(title)).LeftJustified());
    }

    private static void BlobText(IAnsiConsole c, string title, DpapiBlob b)
    {
        Section(c, $"{title} at 0x{b.BaseOffset:X4} ({b.Length} bytes)");
        c.WriteLine($"  version {b.Version}, provider {b.ProviderGuid:B}, master key version {b.MasterKeyVersion}");
        c.WriteLine($"  master key {b.MasterKeyGuid:D}, flags 0x{(uint)b.Flags:X8} ({b.Flags})");
        c.WriteLine($"  description '{b.Description}'");
        c.WriteLine($"  cipher {b.CryptAlgorithmName} (0x{b.CryptAlgorithm:X4}, {b.CryptAlgorithmBits} bits), hash {b.HashAlgorithmName} (0x{b.HashAlgorithm:X4}, {b.HashAlgorithmBits} bits)");
        c.WriteLine($"  salt {Convert.ToHexStringLower(b.Salt.Span)}");
        c.WriteLine($"  HMAC key {(b.HmacKey.Length == 0 ? "(empty)" : Convert.ToHexStringLower(b.HmacKey.Span))}, HMAC salt {Convert.ToHexStringLower(b.HmacSalt.Span)}");
        c.WriteLine($"  cipher text {b.CipherText.Length} bytes at 0x{b.BaseOffset + b.Layout.CipherTextOffset:X4}, signature {b.Signature.Length} bytes at 0x{b.BaseOffset + b.Layout.SignatureOffset:X4}, signed 0x{b.BaseOffset + b.SignedRange.Start.Value:X4}..0x{b.BaseOffset + b.SignedRange.End.Value:X4}");
    }

    // ---- shared ----

    internal static string KindName(KeyProviderKind kind) => kind == KeyProviderKind.Capi ? "CAPI" : "CNG";

    internal static string SpecName(KeySpec spec) => spec == KeySpec.KeyExchange ? "AT_KEYEXCHANGE" : "AT_SIGNATURE";

    private static Guid? ParseGuid(string? text, string option)
    {
        if (text is null) return null;
        return Guid.TryParse(text.Trim('{', '}'), out var guid)
            ? guid
            : throw new UserInputException($"{option}: '{text}' is not a GUID");
    }

    /// <summary>
    /// A Utf8JsonWriter over a small buffer, drained to the command's TextWriter after whole objects, so a
    /// million-row array streams out in 64 KiB pieces instead of being built in memory.
    /// </summary>
    private sealed class JsonSink : IDisposable
    {
        private const int FlushThreshold = 64 * 1024;
        private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
        private readonly TextWriter _output;
        private readonly Stream? _stdout;

        public JsonSink(TextWriter output)
        {
            _output = output;
            // On the real stdout write the UTF-8 bytes as they are; through a TextWriter (tests) decode them.
            if (ReferenceEquals(output, Console.Out))
            {
                output.Flush();
                _stdout = Console.OpenStandardOutput();
            }
            Writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions
            {
                Indented = true,
                Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                SkipValidation = true,
            });
        }

        public Utf8JsonWriter Writer { get; }

        public void FlushIfFull()
        {
            if (Writer.BytesPending + _buffer.WrittenCount >= FlushThreshold) Flush();
        }

        public void Flush()
        {
            Writer.Flush();
            if (_stdout is not null) _stdout.Write(_buffer.WrittenSpan);
            else _output.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
            _buffer.ResetWrittenCount();
        }

        public void Dispose()
        {
            Writer.Dispose();
            _stdout?.Flush();
            _stdout?.Dispose();
        }
    }
}

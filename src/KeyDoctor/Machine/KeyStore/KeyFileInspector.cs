using System.Buffers.Binary;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>The full result for one file: the report, and the parsed file when its structure read.</summary>
public sealed record KeyFileInspection(KeyFileReport Report, CapiKeyFile? Capi, CngKeyFile? Cng);

/// <summary>
/// Classifies one key file: detects CAPI or CNG from the content, parses it, and checks it against its own
/// file name and the machine's GUID. Every verdict carries its evidence. Never throws on bad content.
/// </summary>
public static class KeyFileInspector
{
    /// <summary>Key files are a few KiB; anything past this is not one, and is not read further.</summary>
    public const int MaxKeyFileLength = 1 << 20;

    /// <summary>
    /// Reads one key file from disk (at most <see cref="MaxKeyFileLength"/> bytes, shared with a writer) and inspects
    /// it, with its times; the folder it is in (MachineKeys, Keys) tells the store when the content does not.
    /// </summary>
    /// <exception cref="IOException">The path is a folder or does not exist (the message says which).</exception>
    public static KeyFileInspection InspectFile(string path, Guid? machineGuid = null)
    {
        if (Directory.Exists(path))
            throw new InputPathException($"{path} is a folder, and 'keys show' reads one key file: list a folder's key files with 'keydoctor keys list {path}'.");
        var info = new FileInfo(path);
        if (!info.Exists) throw new InputPathException($"there is no file {path}: check the path, or list the folder's key files with 'keydoctor keys list'.");
        byte[] data;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            data = new byte[(int)Math.Min(stream.Length, MaxKeyFileLength)];
            stream.ReadExactly(data);
        }
        var fullPath = Path.GetFullPath(path);
        var kindHint = KeyStoreFolder.KindFromName(Path.GetDirectoryName(fullPath) ?? ".");
        var inspection = Inspect(fullPath, data, info.Length, kindHint, machineGuid);
        return inspection with
        {
            Report = inspection.Report with
            {
                CreatedUtc = info.CreationTimeUtc, ModifiedUtc = info.LastWriteTimeUtc,
            },
        };
    }

    /// <param name="path">Path or file name; only the file name is checked.</param>
    /// <param name="data">The file's bytes (at most <see cref="MaxKeyFileLength"/>).</param>
    /// <param name="fileLength">The file's real length (larger than <paramref name="data"/> for oversized files).</param>
    /// <param name="kindHint">The store the folder belongs to, used when the content does not say.</param>
    /// <param name="machineGuid">The machine's MachineGuid, to check the file-name suffix; null to skip.</param>
    public static KeyFileInspection Inspect(string path, ReadOnlyMemory<byte> data, long fileLength,
        KeyProviderKind? kindHint = null, Guid? machineGuid = null)
    {
        var problems = new List<KeyFileProblem>();
        var fileName = Path.GetFileName(path);
        var hasPrefix = ContainerName.TrySplitFileName(fileName, out var filePrefix, out var fileGuid);
        var report = new KeyFileReport { Path = path, Size = fileLength, Kind = kindHint };

        CapiKeyFile? capi = null;
        CngKeyFile? cng = null;
        var kind = DetectKind(data.Span, kindHint);
        report = report with
        {
            Kind = kind,
            WellKnown = hasPrefix ? (kind is { } k ? WellKnownContainers.Find(filePrefix, k) : WellKnownContainers.Find(filePrefix)) : null,
        };

        if (fileLength == 0)
            problems.Add(new KeyFileProblem(KeyFileStatus.ZeroLength, "0 bytes"));
        else if (fileLength > MaxKeyFileLength)
            problems.Add(new KeyFileProblem(KeyFileStatus.NotAKeyFile,
                $"{fileLength} bytes, larger than any key file ({MaxKeyFileLength} bytes)"));
        else if (kind is null)
            problems.Add(new KeyFileProblem(KeyFileStatus.NotAKeyFile, data.Length >= 4
                ? $"first DWORD 0x{BinaryPrimitives.ReadUInt32LittleEndian(data.Span):X8} at 0x0 is neither 2 (CAPI) nor 1 (CNG)"
                : $"{data.Length} bytes that do not start a CAPI or CNG header"));
        else if (kind == KeyProviderKind.Capi)
            capi = InspectCapi(data, problems, ref report);
        else
            cng = InspectCng(data, problems, ref report);

        var storedDigest = capi?.NameDigest ?? cng?.NameDigest ?? PartialNameDigest(data, kind);
        if (storedDigest is { } digest && report.Container is { } container)
        {
            if (!hasPrefix)
                problems.Add(new KeyFileProblem(KeyFileStatus.NameMismatch,
                    $"file name is not <32 hex>_<GUID>; the stored name '{container}' expects prefix {ContainerName.Format(digest)}"));
            else if (digest != filePrefix)
                problems.Add(new KeyFileProblem(KeyFileStatus.NameMismatch,
                    $"stored name '{container}' at 0x{(kind == KeyProviderKind.Cng ? CngKeyFileHeader.Length : CapiKeyFileHeader.Length):X} hashes to {ContainerName.Format(digest)}, the file name has {ContainerName.Format(filePrefix)}"));
        }
        if (machineGuid is { } expected && hasPrefix && fileGuid != expected)
            problems.Add(new KeyFileProblem(KeyFileStatus.GuidMismatch, fileGuid is { } g
                ? $"file-name suffix {g:D}, MachineGuid {expected:D}"
                : $"file name has no _<GUID> suffix, MachineGuid {expected:D}"));

        if (capi is null && cng is null && problems.Any(p => p.Status == KeyFileStatus.NotAKeyFile))
        {
            // The version DWORD alone does not make a key file: keep only what the folder says, and name the
            // DPAPI files that most often end up in key folders by mistake.
            report = report with { Kind = kindHint };
            if (OtherDpapiFile(data.Span) is { } what)
                problems[problems.FindIndex(p => p.Status == KeyFileStatus.NotAKeyFile)] =
                    new KeyFileProblem(KeyFileStatus.NotAKeyFile, what + "; " + problems.First(p => p.Status == KeyFileStatus.NotAKeyFile).Evidence);
        }
        return new KeyFileInspection(report with { Problems = problems }, capi, cng);
    }

    /// <summary>CAPI files start with version 2, CNG files with version 1; otherwise trust the folder.</summary>
    public static KeyProviderKind? DetectKind(ReadOnlySpan<byte> data, KeyProviderKind? kindHint)
    {
        if (data.Length >= 4)
            return BinaryPrimitives.ReadUInt32LittleEndian(data) switch
            {
                CapiKeyFileHeader.ExpectedVersion => KeyProviderKind.Capi,
                CngKeyFileHeader.ExpectedVersion => KeyProviderKind.Cng,
                _ => null,
            };
        // A 1-3 byte file: a truncated header if its bytes start the expected version DWORD.
        if (data.Length == 0 || data[1..].ContainsAnyExcept((byte)0)) return null;
        return data[0] switch
        {
            (byte)CapiKeyFileHeader.ExpectedVersion when kindHint != KeyProviderKind.Cng => KeyProviderKind.Capi,
            (byte)CngKeyFileHeader.ExpectedVersion when kindHint != KeyProviderKind.Capi => KeyProviderKind.Cng,
            _ => null,
        };
    }

    private static CapiKeyFile? InspectCapi(ReadOnlyMemory<byte> data, List<KeyFileProblem> problems, ref KeyFileReport report)
    {
        if (data.Length < CapiKeyFileHeader.Length)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.Truncated,
                $"{data.Length} bytes, the CAPI header alone is {CapiKeyFileHeader.Length}"));
            return null;
        }
        var header = CapiKeyFileHeader.Read(data.Span);
        if (header.Implausibility() is { } why)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.NotAKeyFile, "CAPI header: " + why));
            return null;
        }
        if (header.DeclaredFileLength > data.Length)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.Truncated,
                $"header declares {header.DeclaredFileLength} bytes, the file has {data.Length} (ends 0x{header.DeclaredFileLength - data.Length:X} bytes short, at 0x{data.Length:X})"));
            // The name usually survives a truncation: report it so the file is still identified.
            if (CapiKeyFileHeader.Length + header.NameLength <= data.Length)
            {
                var nameBytes = data.Span.Slice(CapiKeyFileHeader.Length, (int)header.NameLength);
                var nul = nameBytes.IndexOf((byte)0);
                report = report with { Container = ContainerName.AnsiEncoding.GetString(nul >= 0 ? nameBytes[..nul] : nameBytes) };
            }
            return null;
        }

        CapiKeyFile file;
        try
        {
            file = CapiKeyFile.Parse(data);
        }
        catch (MalformedDataException ex)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.NotAKeyFile, ex.Message));
            return null;
        }

        AddPartErrors(file.Errors, file.TrailingLength, data.Length, problems);
        var primary = file.Exchange ?? file.Signature;
        var publicKey = primary?.PublicKey?.ToPublicKeyInfo();
        report = report with
        {
            Container = file.Name,
            KeySpecs = file.KeyPairs.Select(p => p.Spec).ToArray(),
            Algorithm = publicKey?.Algorithm,
            KeyBits = primary?.PublicKey is { } pk ? (int)pk.BitLength : null,
            Exponent = primary?.PublicKey?.Exponent,
            PublicKeySha256 = publicKey?.Sha256,
            MasterKeyGuids = MasterKeys(file.KeyPairs.SelectMany(p => new[] { p.PrivateKey, p.ExportFlag })),
        };
        return file;
    }

    private static CngKeyFile? InspectCng(ReadOnlyMemory<byte> data, List<KeyFileProblem> problems, ref KeyFileReport report)
    {
        if (data.Length < CngKeyFileHeader.Length)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.Truncated,
                $"{data.Length} bytes, the CNG header alone is {CngKeyFileHeader.Length}"));
            return null;
        }
        var header = CngKeyFileHeader.Read(data);
        if (header.Implausibility() is { } why)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.NotAKeyFile, "CNG header: " + why));
            return null;
        }
        if (header.DeclaredFileLength > data.Length)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.Truncated,
                $"header declares {header.DeclaredFileLength} bytes, the file has {data.Length} (ends 0x{header.DeclaredFileLength - data.Length:X} bytes short, at 0x{data.Length:X})"));
            if (CngKeyFileHeader.Length + header.NameLength <= data.Length)
                report = report with
                {
                    Container = System.Text.Encoding.Unicode.GetString(data.Span.Slice(CngKeyFileHeader.Length, (int)header.NameLength)).TrimEnd('\0'),
                };
            return null;
        }

        CngKeyFile file;
        try
        {
            file = CngKeyFile.Parse(data);
        }
        catch (MalformedDataException ex)
        {
            problems.Add(new KeyFileProblem(KeyFileStatus.NotAKeyFile, ex.Message));
            return null;
        }
        AddPartErrors(file.Errors, file.TrailingLength, data.Length, problems);
        report = report with
        {
            Container = file.Name,
            Algorithm = file.PublicKey?.Algorithm,
            KeyBits = file.PublicKey?.KeyBits,
            Exponent = file.PublicKey?.RsaExponent,
            PublicKeySha256 = file.PublicKey?.Sha256,
            MasterKeyGuids = MasterKeys([file.PrivateProperties, file.PrivateKey]),
        };
        return file;
    }

    private static void AddPartErrors(IReadOnlyList<KeyFilePartError> errors, int trailing, int length, List<KeyFileProblem> problems)
    {
        foreach (var error in errors)
        {
            var status = error.Section.Part switch
            {
                KeyFilePart.PrivateKeyBlob or KeyFilePart.ExportFlagBlob or KeyFilePart.PrivatePropertiesBlob => KeyFileStatus.DpapiBlobMalformed,
                KeyFilePart.PublicKey or KeyFilePart.PublicProperties => KeyFileStatus.PublicKeyMalformed,
                _ => KeyFileStatus.NotAKeyFile,
            };
            problems.Add(new KeyFileProblem(status, error.ToString()));
        }
        if (trailing > 0)
            problems.Add(new KeyFileProblem(KeyFileStatus.TrailingData,
                $"{trailing} bytes after the last declared section, from 0x{length - trailing:X} to 0x{length:X}"));
    }

    private static Guid[] MasterKeys(IEnumerable<DpapiBlob?> blobs) =>
        blobs.OfType<DpapiBlob>().Select(b => b.MasterKeyGuid).Distinct().ToArray();

    /// <summary>"a DPAPI master-key file" or "a bare DPAPI blob" when the bytes look like one.</summary>
    private static string? OtherDpapiFile(ReadOnlySpan<byte> data)
    {
        if (DpapiBlob.StartsWithBlobHeader(data)) return "a bare DPAPI blob, not a key file";
        // Master-key file: version 2, two DWORDs, then the GUID as 36 UTF-16 characters.
        if (data.Length >= 0x80 && BinaryPrimitives.ReadUInt32LittleEndian(data) == 2
            && Guid.TryParseExact(System.Text.Encoding.Unicode.GetString(data.Slice(12, 72)), "D", out var guid))
            return $"a DPAPI master-key file ({guid:D}), not a key file";
        return null;
    }

    /// <summary>For a truncated file whose name survived, the digest of that name.</summary>
    private static UInt128? PartialNameDigest(ReadOnlyMemory<byte> data, KeyProviderKind? kind)
    {
        if (kind == KeyProviderKind.Capi && data.Length >= CapiKeyFileHeader.Length)
        {
            var header = CapiKeyFileHeader.Read(data.Span);
            if (header.Implausibility() is null && CapiKeyFileHeader.Length + header.NameLength <= data.Length)
            {
                var name = data.Span.Slice(CapiKeyFileHeader.Length, (int)header.NameLength);
                var nul = name.IndexOf((byte)0);
                return ContainerName.CapiDigest(nul >= 0 ? name[..nul] : name);
            }
        }
        if (kind == KeyProviderKind.Cng && data.Length >= CngKeyFileHeader.Length)
        {
            var header = CngKeyFileHeader.Read(data);
            if (header.Implausibility() is null && CngKeyFileHeader.Length + header.NameLength <= data.Length)
                return ContainerName.CngDigest(System.Text.Encoding.Unicode
                    .GetString(data.Span.Slice(CngKeyFileHeader.Length, (int)header.NameLength)).TrimEnd('\0'));
        }
        return null;
    }
}

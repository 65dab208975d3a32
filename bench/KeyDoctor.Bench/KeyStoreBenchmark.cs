using System.Diagnostics;
using System.Globalization;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Bench;

/// <summary>
/// `keys list` on a generated MachineKeys folder of N files (default 1,000,000) against `cat` of the same files.
/// Usage: keystore [count] [--dir DIR] [--keep] [--no-measure] [--cli PATH/keydoctor.dll]
///        keystore --scan DIR   (child mode: library scan only, prints files and peak RSS)
/// </summary>
public static class KeyStoreBenchmark
{
    private static readonly Guid MachineGuid = Guid.Parse("4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");
    private static readonly Guid ClonedGuid = Guid.Parse("0d5b4c0e-93a1-4a43-9f55-3f0e5b1b7c2a");

    public static int Run(string[] args)
    {
        if (args.Length == 2 && args[0] == "--scan") return ScanChild(args[1]);

        var count = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 1_000_000;
        var dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), $"keydoctor-bench-machinekeys-{count}");
        var cli = Option(args, "--cli") ?? FindCli();
        var keep = args.Contains("--keep");

        var generated = Stopwatch.StartNew();
        var bytes = Generate(dir, count);
        generated.Stop();
        Console.WriteLine($"folder: {dir}: {count:N0} files, {bytes / 1048576.0:F0} MiB (generated or checked in {generated.Elapsed.TotalSeconds:F0} s)");
        if (args.Contains("--no-measure")) return 0; // only the folder, for bench/whole-process.sh

        // Warm the page cache for both sides (dropping caches needs root on a shared machine): one cat first.
        var catCommand = $"find '{dir}' -type f -print0 | xargs -0 cat > /dev/null";
        Measure.BestExternal(1, "bash", "-c", catCommand);
        var cat = Measure.BestExternal(3, "bash", "-c", catCommand);
        Console.WriteLine($"cat (find | xargs cat): {cat.TotalSeconds:F2} s, {Measure.MiBps(bytes, cat):F0} MiB/s");

        var self = Environment.GetCommandLineArgs()[0];
        string scanOutput = "";
        var library = Measure.Best(3, () => scanOutput = RunCapture(false, "dotnet", self, "keystore", "--scan", dir).Stdout);
        Console.WriteLine($"library scan (KeyStoreScanner: name pass, then files in name order, {Environment.ProcessorCount} workers): {library.TotalSeconds:F2} s"
                          + $" = {library / cat:F2} x cat; {scanOutput.Trim()}");

        if (cli is not null)
        {
            // keys list exits 1 (findings) on this folder; /usr/bin/time prints the peak RSS in KiB on stderr.
            var cliCommand = $"/usr/bin/time -f '%M' dotnet '{cli}' keys list '{dir}' --json --machine-guid {MachineGuid} > /dev/null";
            string rss = "";
            var cliTime = Measure.Best(3, () => rss = RunCapture(true, "bash", "-c", cliCommand).Stderr);
            Console.WriteLine($"CLI keys list --json > /dev/null: {cliTime.TotalSeconds:F2} s = {cliTime / cat:F2} x cat; peak RSS {ParseKiB(rss) / 1024.0:F0} MiB");
        }
        else
        {
            Console.WriteLine("CLI not measured: build it first (dotnet build -c Release src/KeyDoctor.Cli) or pass --cli");
        }

        if (!keep) Directory.Delete(dir, recursive: true);
        return 0;
    }

    /// <summary>Child process: the library scan alone, so its peak RSS is its own.</summary>
    private static int ScanChild(string dir)
    {
        var folder = KeyStoreFolder.Locate(dir).Single();
        long files = 0, ok = 0;
        foreach (var report in KeyStoreScanner.Scan(folder, new KeyStoreScanOptions { MachineGuid = MachineGuid }))
        {
            files++;
            if (report.Status == KeyFileStatus.Ok) ok++;
        }
        Console.WriteLine($"{files:N0} files, {ok:N0} ok, peak RSS {Measure.PeakRssBytes() / 1048576.0:F0} MiB");
        return 0;
    }

    /// <summary>
    /// Writes <paramref name="count"/> CAPI key files the way a busy IIS server accumulates them: GUID-named
    /// containers with 1024/2048/4096-bit exchange keys (a few with both key sets), real-sized DPAPI blobs of
    /// random bytes, and about 1% damaged (empty, truncated, under a cloned machine's GUID). Reuses the folder
    /// when it already holds that many files.
    /// </summary>
    private static long Generate(string dir, int count)
    {
        if (Directory.Exists(dir) && Directory.EnumerateFiles(dir).Take(count + 1).Count() == count)
            return Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        long total = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => 0L,
            (i, _, subtotal) =>
            {
                // Every 1000th file repeats the previous container under a cloned machine's GUID (duplicate-container).
                var duplicate = i % 1000 == 17;
                var random = new Random(duplicate ? i - 1 : i);
                var container = i == 7 ? "iisWasKey" : new Guid(random.Next(), (short)random.Next(), (short)random.Next(),
                    (byte)random.Next(), (byte)random.Next(), (byte)random.Next(), (byte)random.Next(), (byte)random.Next(),
                    (byte)random.Next(), (byte)random.Next(), (byte)random.Next()).ToString("D");
                var guid = i % 200 == 3 || duplicate ? ClonedGuid : MachineGuid;
                var content = CapiKeyFileWriter.Write(new CapiKeyFileContent(container)
                {
                    Exchange = Pair(random, random.Next(10) switch { 0 => 1024, < 9 => 2048, _ => 4096 }),
                    Signature = i % 50 == 0 ? Pair(random, 2048) : null,
                });
                if (i % 1000 == 11) content = [];
                else if (i % 1000 == 13) content = content[..(content.Length / 2)];
                var path = Path.Combine(dir, ContainerName.FileName(container, KeyProviderKind.Capi, guid));
                File.WriteAllBytes(path, content);
                return subtotal + content.Length;
            },
            subtotal => Interlocked.Add(ref total, subtotal));
        return total;
    }

    private static CapiKeyPairContent Pair(Random random, int bits)
    {
        var modulus = new byte[bits / 8];
        random.NextBytes(modulus);
        modulus[0] |= 0x80;
        var masterKey = new Guid(random.Next(), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        DpapiBlob Blob(string description, int plaintext) => new()
        {
            MasterKeyGuid = masterKey,
            DescriptionBytes = DpapiBlob.EncodeDescription(description),
            CryptAlgorithm = 0x6610,
            CryptAlgorithmBits = 256,
            Salt = Bytes(random, 32),
            HashAlgorithm = 0x800E,
            HashAlgorithmBits = 512,
            HmacSalt = Bytes(random, 32),
            CipherText = Bytes(random, (plaintext / 16 + 1) * 16),
            Signature = Bytes(random, 64),
        };
        // Private key plaintext: RSA2 header + modulus + 5 half-size CRT parts + private exponent, padded.
        return new CapiKeyPairContent(CapiRsaPublicKey.Create(modulus, 65537),
            Blob("Private Key", 20 + (bits / 8 + 8) * 2 + (bits / 16 + 4) * 5), Blob("Export Flag", 4));
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string? FindCli()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "src", "KeyDoctor.Cli", "bin", "Release", "net10.0", "keydoctor.dll");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static (string Stdout, string Stderr) RunCapture(bool tolerateExit, string file, params string[] arguments)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && !tolerateExit) throw new InvalidOperationException($"{file} exited with {p.ExitCode}: {stderr.Result}");
        return (stdout, stderr.Result);
    }

    private static long ParseKiB(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => long.TryParse(l.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).LastOrDefault();
}

namespace KeyDoctor.Fuzz;

/// <summary>
/// The real Windows files in ../shared/fixtures (beside the repository, or $KEYDOCTOR_FIXTURES). They are read at
/// run time, never copied into the repository. A missing fixture is an error, not an empty corpus.
/// </summary>
public static class FixtureFiles
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    public static string Root => RootLazy.Value;

    public static byte[] Bytes(string relative)
    {
        var path = Path.Combine(Root, relative);
        if (!File.Exists(path)) throw new FileNotFoundException($"fixture missing: {relative} (looked in {Root})", path);
        return File.ReadAllBytes(path);
    }

    /// <summary>The first <paramref name="length"/> bytes of a fixture (big files make slow seeds).</summary>
    public static byte[] Prefix(string relative, int length)
    {
        var bytes = Bytes(relative);
        return bytes.Length <= length ? bytes : bytes[..length];
    }

    public static Seed Seed(string relative) => new(relative, Bytes(relative));

    /// <summary>Every file of a fixture folder, in name order.</summary>
    public static IEnumerable<Seed> Folder(string relative, string pattern = "*")
    {
        var folder = Path.Combine(Root, relative);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"fixture folder missing: {relative} (looked in {Root})");
        return Directory.GetFiles(folder, pattern).Order(StringComparer.Ordinal)
            .Select(f => new Seed(Path.Combine(relative, Path.GetFileName(f)), File.ReadAllBytes(f)));
    }

    /// <summary>Entries of a zip fixture (the bundles in fuzz-findings hold real key files and IIS configs).</summary>
    public static IEnumerable<Seed> ZipEntries(string relative, Func<string, bool> include)
    {
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(Bytes(relative)));
        var seeds = new List<Seed>();
        foreach (var entry in archive.Entries.Where(e => include(e.FullName)).OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            seeds.Add(new Seed($"{relative}!{entry.FullName}", copy.ToArray()));
        }
        return seeds;
    }

    /// <summary>The bundle whose entries are seeds: a real collected layout (key files, System.evtx, IIS configs).</summary>
    public const string SampleBundle = "fuzz-findings/bundles/liar-small-declared.zip";

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("KEYDOCTOR_FIXTURES") is { Length: > 0 } configured) return configured;
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "KeyDoctor.slnx")))
                {
                    var root = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "fixtures"));
                    if (Directory.Exists(root)) return root;
                }
        throw new DirectoryNotFoundException("../shared/fixtures not found beside the repository; set KEYDOCTOR_FIXTURES");
    }
}

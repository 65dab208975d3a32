namespace KeyDoctor.Tests;

/// <summary>
/// Locates the real Windows artifacts in ../shared/fixtures (beside the repository). A missing fixture
/// fails the test with a clear message: fixtures are evidence, never optional.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    public static string RepoRoot => RepoRootLazy.Value;

    public static string Root
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("KEYDOCTOR_FIXTURES")
                       ?? System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared", "fixtures"));
            if (!Directory.Exists(root))
                throw new InvalidOperationException($"fixtures folder not found at {root}; clone the project beside ../shared");
            return root;
        }
    }

    /// <summary>Full path of a fixture, e.g. <c>Fixtures.Path("evtx/security.evtx")</c>; throws if it is missing.</summary>
    public static string Path(string relative)
    {
        var full = System.IO.Path.Combine(Root, relative);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new FileNotFoundException($"fixture missing: {relative} (looked in {Root})", full);
        return full;
    }

    public static byte[] Bytes(string relative) => File.ReadAllBytes(Path(relative));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "KeyDoctor.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("KeyDoctor.slnx not found above " + AppContext.BaseDirectory);
    }
}

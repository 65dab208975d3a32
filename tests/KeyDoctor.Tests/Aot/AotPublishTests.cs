using System.Text.RegularExpressions;

namespace KeyDoctor.Tests.Aot;

/// <summary>The NativeAOT publish itself: no trim or AOT warning (ILC reports what the build analyzers cannot see).</summary>
[Collection(AotCollection.Name)]
public sealed partial class AotPublishTests(AotBinary binary)
{
    [Fact]
    public void PublishHasNoTrimOrAotWarnings()
    {
        Assert.NotNull(binary.PublishLog); // tools/test.sh passes KEYDOCTOR_AOT_PUBLISH_LOG with the binary
        var warnings = IlWarning().Matches(binary.PublishLog!).Select(m => m.Value.Trim())
            .Distinct().ToList();
        Assert.True(warnings.Count == 0, "trim/AOT warnings:\n" + string.Join("\n", warnings));
    }

    [Fact]
    public void ExecutableIsNativeOnLinux()
    {
        if (!OperatingSystem.IsLinux()) return;
        // NativeAOT leaves one ELF executable and no managed keydoctor.dll beside it.
        var folder = Path.GetDirectoryName(binary.Path)!;
        Assert.False(File.Exists(Path.Combine(folder, "keydoctor.dll")), "keydoctor.dll beside the executable: not a NativeAOT publish");
        var head = new byte[4];
        using (var stream = File.OpenRead(binary.Path)) stream.ReadExactly(head);
        Assert.Equal("\u007fELF"u8.ToArray(), head);
        // The scan store's SQLite ships beside the executable (SQLitePCL's e_sqlite3 build; no system library needed).
        Assert.True(File.Exists(Path.Combine(folder, "libe_sqlite3.so")), "libe_sqlite3.so is not beside the executable: 'scan --store' with a SQLite file would fail");
    }

    [GeneratedRegex(@"^.*\b(?:warning|error) IL\d{4}\b.*$", RegexOptions.Multiline)]
    private static partial Regex IlWarning();
}

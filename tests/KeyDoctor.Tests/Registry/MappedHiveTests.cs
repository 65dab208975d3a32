using KeyDoctor.Formats.Primitives;
using KeyDoctor.Cli.Commands;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

/// <summary>`reg dump` reads big hives through a read-only mapping: the same keys, values and problems as an array.</summary>
public class MappedHiveTests
{
    [Theory]
    [InlineData("hives/regipy/SYSTEM")]
    [InlineData("hives/regipy/SYSTEM_B")] // dirty: its logs are replayed into a copy, the mapping stays untouched
    [InlineData("hives/regipy/corrupted_system_hive")]
    public void AMappedHiveReadsAsTheArrayDoes(string fixture)
    {
        var path = Fixtures.Path(fixture);
        var read = RegistryHive.Open(path);
        using var mapped = MappedFile.Open(path);
        var before = mapped.Contents.ToArray();
        var fromMapping = RegistryHive.Open(path, mapped.Contents);

        Assert.Equal(Describe(read), Describe(fromMapping));
        Assert.Equal(read.Problems.Select(p => p.ToString()), fromMapping.Problems.Select(p => p.ToString()));
        Assert.Equal(read.Recovery?.AppliedEntries.Count, fromMapping.Recovery?.AppliedEntries.Count);
        Assert.True(before.AsSpan().SequenceEqual(mapped.Contents.Span));
        Assert.True(before.AsSpan().SequenceEqual(File.ReadAllBytes(path)));
    }

    [Fact]
    public void RegDumpMapsOnlyHivesOfAMebibyteOrMore()
    {
        var big = RegistrySources.OpenFileMapped(Fixtures.Path("hives/regipy/SYSTEM"), out var bigMapping);
        using (bigMapping) Assert.NotNull(bigMapping);
        var small = RegistrySources.OpenFileMapped(Fixtures.Path("hives/regipy/SAM"), out var smallMapping);
        Assert.Null(smallMapping);
        Assert.IsType<RegistryHive>(big);
        Assert.IsType<RegistryHive>(small);
    }

    [Fact]
    public void ADisposedMappingRefusesToGiveOutMemory()
    {
        var mapped = MappedFile.Open(Fixtures.Path("hives/regipy/SYSTEM"));
        ((IDisposable)mapped).Dispose();
        Assert.Throws<ObjectDisposedException>(() => mapped.Contents.Span.Length);
    }

    private static List<string> Describe(RegistryHive hive) =>
        [.. hive.Root.DescendantsAndSelf().SelectMany(key =>
            key.Values.Select(v => $"{key.Path}|{v.Name}|{v.Type}|{Convert.ToHexString(v.Data.Span)}").Prepend($"{key.Path} {key.LastWritten:O} {key.ClassName}"))];
}

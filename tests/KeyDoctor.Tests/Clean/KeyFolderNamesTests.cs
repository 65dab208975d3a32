using System.Text;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Tests.Clean;

/// <summary>
/// The packed names of a key folder (<c>keys clean</c>, <c>keys list</c>): key-file names packed in 32 bytes and every
/// other name (upper-case hex, another length, non-ASCII) come back exactly, in the UTF-8 byte order of the names.
/// </summary>
public sealed class KeyFolderNamesTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kd-names-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static List<string> Names()
    {
        var random = new Random(19);
        var names = new List<string>();
        string Hex(int digits) => string.Concat(Enumerable.Range(0, digits).Select(_ => "0123456789abcdef"[random.Next(16)]));
        for (var i = 0; i < 300; i++) names.Add($"{Hex(32)}_{Guid.NewGuid():D}");
        var prefix = Hex(32);
        for (var i = 0; i < 5; i++) names.Add($"{prefix}_{Guid.NewGuid():D}"); // one container under several GUIDs
        names.Add($"{prefix}_{Guid.NewGuid():D}".ToUpperInvariant());            // upper case: side list
        names.Add($"{prefix.ToUpperInvariant()}_{Guid.NewGuid():D}");
        names.Add($"{prefix[..31]}G_{Guid.NewGuid():D}");                         // not hex
        names.Add($"{prefix}_{Guid.NewGuid():N}");                                // GUID without dashes
        names.Add($"{prefix}_{Guid.NewGuid():D}.bak");
        names.Add(prefix);
        names.Add("00");
        names.Add("zz");
        names.Add("ffffffffffffffffffffffffffffffff_ffffffff-ffff-ffff-ffff-ffffffffffff");
        names.Add("00000000000000000000000000000000_00000000-0000-0000-0000-000000000000");
        names.Add("éclair");
        names.Add("desktop.ini");
        return names;
    }

    [Fact]
    public void EveryNameComesBackInByteOrderWhetherPackedOrNot()
    {
        var names = Names();
        foreach (var name in names) File.WriteAllBytes(Path.Join(_work, name), [1]);
        var read = KeyFolderNames.Read(_work);
        var expected = names.OrderBy(n => Encoding.UTF8.GetBytes(n), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
        Assert.Equal(expected, Enumerable.Range(0, read.Count).Select(i => read[i]).ToList());
        Assert.Equal(names.Count(n => n.Length == 69 && n == n.ToLowerInvariant() && n[32] == '_' && n[41] == '-'
            && !n.Contains('g', StringComparison.Ordinal)), names.Count(n => FileNameList.TryPack(n, out _)));

        var subset = read.Subset([0, 3, read.Count - 1]);
        Assert.Equal([expected[0], expected[3], expected[^1]], subset.ToList());
        Assert.Equal(3, subset.Count);
    }
}

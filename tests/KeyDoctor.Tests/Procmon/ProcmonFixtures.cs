using System.IO.Compression;

namespace KeyDoctor.Tests.Procmon;

/// <summary>The Process Monitor fixtures are gzip files; tests read them decompressed into one temp folder per run.</summary>
public static class ProcmonFixtures
{
    private static readonly Lazy<string> Folder = new(() => Directory.CreateTempSubdirectory("kd-procmon-").FullName);

    /// <summary>The decompressed path of procmon/<paramref name="name"/>.gz (e.g. "LogFileUTC64Registry.pml").</summary>
    public static string Path(string name)
    {
        var target = System.IO.Path.Combine(Folder.Value, name);
        lock (Folder)
        {
            if (File.Exists(target)) return target;
            using var source = new GZipStream(File.OpenRead(Fixtures.Path($"procmon/{name}.gz")), CompressionMode.Decompress);
            using var output = File.Create(target + ".part");
            source.CopyTo(output);
        }
        File.Move(target + ".part", target);
        return target;
    }

    public static readonly string[] Captures = ["LogFileUTC64Registry", "LogFileUTC32Filesystem", "LogFileUTC64Process"];
}

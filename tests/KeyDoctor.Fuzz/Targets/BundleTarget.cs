using KeyDoctor.Machine;

namespace KeyDoctor.Fuzz.Targets;

/// <summary>A bundle zip opened as `keydoctor scan bundle.zip` opens it: extracted with every check, manifest read.</summary>
public sealed class BundleZipTarget : FuzzTarget
{
    public override string Name => "bundle-zip";
    public override string Description => "bundle zip: central directory, local headers, deflate data, entry names, limits, manifest";
    public override int SuiteMutants => 300;

    public override IEnumerable<Seed> Seeds() =>
        FixtureFiles.Folder("fuzz-findings/bundles", "*.zip").Prepend(new Seed("built: sound bundle", SoundBundle()));

    /// <summary>The sample bundle without its lying entry: a real collected layout that extracts cleanly.</summary>
    private static byte[] SoundBundle()
    {
        var output = new MemoryStream();
        using (var archive = new System.IO.Compression.ZipArchive(output, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
            foreach (var seed in FixtureFiles.ZipEntries(FixtureFiles.SampleBundle, name => name != "Windows/liar.bin"))
            {
                var entry = archive.CreateEntry(seed.Name[(seed.Name.IndexOf('!') + 1)..]);
                entry.LastWriteTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(seed.Data);
            }
        return output.ToArray();
    }

    public override void Run(byte[] input)
    {
        var zip = Path.Combine(Path.GetTempPath(), $"keydoctor-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.zip");
        File.WriteAllBytes(zip, input);
        try
        {
            using var source = MachineSource.OpenBundle(zip);
            Consume.All(source.Info);
            Consume.All(source.CollectionProblems);
        }
        finally
        {
            File.Delete(zip);
        }
    }
}

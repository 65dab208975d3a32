using KeyDoctor.Machine;

namespace KeyDoctor.Fuzz.Targets;

/// <summary>A bundle zip opened as `keydoctor scan bundle.zip` opens it: extracted with every check, manifest read.</summary>
public sealed class BundleZipTarget : FuzzTarget
{
    public override string Name => "bundle-zip";
    public override string Description => "bundle zip: central directory, local headers, deflate data, entry names, limits, manifest";
    public override int SuiteMutants => 300;

    public override IEnumerable<Seed> Seeds() => FixtureFiles.Folder("fuzz-findings/bundles", "*.zip");

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

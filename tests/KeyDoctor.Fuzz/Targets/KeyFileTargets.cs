using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Fuzz.Targets;

/// <summary>The key and DPAPI files of ../shared/fixtures/keys, shared as seeds by every key-file target.</summary>
internal static class KeySeeds
{
    public static IEnumerable<Seed> All() =>
        new[] { "keys", "keys/nemesis", "keys/impacket", "keys/mimikatz-wiki" }
            .SelectMany(folder => FixtureFiles.Folder(folder))
            .Where(s => !s.Name.EndsWith(".md", StringComparison.Ordinal))
            .Concat(FixtureFiles.ZipEntries(FixtureFiles.SampleBundle, name => name.Contains("/MachineKeys/", StringComparison.Ordinal)).Take(4));
}

public sealed class CapiKeyFileTarget : FuzzTarget
{
    public override string Name => "capi-key";
    public override string Description => "CryptoAPI key file (MachineKeys): header, name, key sections, DPAPI-wrapped private keys";
    public override IEnumerable<Seed> Seeds() => KeySeeds.All();
    public override void Run(byte[] input) => Consume.All(CapiKeyFile.Parse(input));
}

public sealed class CngKeyFileTarget : FuzzTarget
{
    public override string Name => "cng-key";
    public override string Description => "CNG key file (Crypto\\Keys, SystemKeys): header, properties, public key, DPAPI sections";
    public override IEnumerable<Seed> Seeds() => KeySeeds.All();
    public override void Run(byte[] input) => Consume.All(CngKeyFile.Parse(input));
}

public sealed class DpapiBlobTarget : FuzzTarget
{
    public override string Name => "dpapi-blob";
    public override string Description => "DPAPI blob (parse only; decryption is not a reader's job)";
    public override IEnumerable<Seed> Seeds() => KeySeeds.All();
    public override void Run(byte[] input) => Consume.All(DpapiBlob.Parse(input));
}

public sealed class MasterKeyFileTarget : FuzzTarget
{
    public override string Name => "masterkey";
    public override string Description => "DPAPI master-key file (Protect\\<SID>\\<GUID>): header and the four sections (parse only)";
    public override IEnumerable<Seed> Seeds() => KeySeeds.All();
    public override void Run(byte[] input) => Consume.All(MasterKeyFile.Parse(input));
}

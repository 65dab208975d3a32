using System.Security.Cryptography;
using System.Text;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Crypto.Lsa;
using KeyDoctor.Formats.Lsa;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Formats.Security;

namespace KeyDoctor.Fuzz.Targets;

public sealed class SddlTarget : FuzzTarget, ITokenDictionary
{
    public override string Name => "sddl";
    public override string Description => "SDDL security descriptors (bundle manifests, audit state): owner, group, DACL, SACL, ACEs";

    public override IEnumerable<Seed> Seeds() => new[]
    {
        // MachineKeys as Windows ships it, a hardened copy, and a SACL-bearing descriptor as collect records them.
        "O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)(A;;FA;;;SY)",
        "O:BAG:SYD:PAI(A;OICIIO;GA;;;CO)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(D;OICI;FA;;;AN)S:AI(AU;OICISAFA;FA;;;WD)",
        "O:S-1-5-21-1004336348-1177238915-682003330-512G:S-1-5-21-1004336348-1177238915-682003330-513D:(OA;;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;AO)(A;ID;0x1200a9;;;S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415)",
    }.Select(s => new Seed(s, Encoding.UTF8.GetBytes(s)));

    public IReadOnlyList<byte[]> Tokens { get; } = new[]
    {
        "O:", "G:", "D:", "S:", "P", "AI", "AR", "(A;", "(D;", "(AU;", "(OA;", ";;;", ")", "OICI", "ID", "SA", "FA", "GA", "0x", "S-1-5-21-", "WD", "BA", "SY",
    }.Select(Encoding.UTF8.GetBytes).ToList();

    public override void Run(byte[] input)
    {
        var sddl = SecurityDescriptorString.Parse(Encoding.UTF8.GetString(input));
        Consume.All(sddl);
        foreach (var ace in (sddl.Dacl ?? []).Concat(sddl.Sacl ?? [])) _ = ace.Describe();
    }
}

/// <summary>
/// LSA secrets as stored in the SECURITY hive: PolEKList decrypted with a fixed boot key, and secrets (DPAPI_SYSTEM)
/// decrypted with a fixed LSA key. A wrong key is its own typed error (the hives do not belong together).
/// </summary>
public sealed class LsaSecretTarget : FuzzTarget
{
    private static readonly byte[] BootKey = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
    private static readonly byte[] LsaKey = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    public override string Name => "lsa";
    public override string Description => "LSA secrets (SECURITY hive): NT6 LSA_SECRET, PolEKList, DPAPI_SYSTEM";
    public override IReadOnlyList<Type> TypedErrors => [typeof(HivesDoNotMatchException)];

    public override IEnumerable<Seed> Seeds()
    {
        var salt = Enumerable.Range(0, 32).Select(i => (byte)(i * 3)).ToArray();
        var polEkList = new byte[LsaSecrets.PolEkListSecretLength];
        LsaKey.CopyTo(polEkList, 52);
        yield return new Seed("built: PolEKList", LsaSecrets.Encrypt(polEkList, BootKey, salt));
        var dpapiSystem = new byte[DpapiSystemSecret.Length];
        dpapiSystem[0] = 1;
        yield return new Seed("built: DPAPI_SYSTEM", LsaSecrets.Encrypt(dpapiSystem, LsaKey, salt));
        // The real SECURITY hive's secrets (another machine's keys: they decrypt to a mismatch, which is typed too).
        var security = RegistryHive.Load(FixtureFiles.Bytes("hives/regipy/SECURITY"));
        foreach (var key in security.Root.DescendantsAndSelf())
            if (key.Name is "PolEKList" or "CurrVal" && key.GetValue("") is { } value)
                yield return new Seed($"hives/regipy/SECURITY!{key.Path}", value.Data.ToArray());
    }

    public override void Run(byte[] input)
    {
        Each(() => LsaSecrets.LsaKeyFromPolEkList(input, BootKey),
            () =>
            {
                var secret = LsaSecrets.Decrypt(input, LsaKey, "DPAPI_SYSTEM");
                if (secret.Length == DpapiSystemSecret.Length) _ = DpapiSystemSecret.Parse(secret);
            });
    }
}

using KeyDoctor.Crypto.Lsa;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Lsa;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Recovery;

namespace KeyDoctor.Tests.Recovery;

/// <summary>Truncated and bit-flipped copies of the real fixtures: failures as data or MalformedDataException, nothing else.</summary>
public class RecoveryRobustnessTests
{
    private const string WikiSid = "S-1-5-21-494464150-3436831043-1864828003-1001";
    private const string WikiKeyFile = "keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    private const string NemesisCngKey = "keys/nemesis/7096db7aeb75c0d3497ecd56d355a695_f26c165b-53c8-414e-8abb-ec5f0f52df22";

    private static IEnumerable<byte[]> Damaged(byte[] original, int bitStep)
    {
        for (var length = 0; length < original.Length; length += 11) yield return original[..length];
        for (var bit = 0; bit < original.Length * 8; bit += bitStep)
        {
            var copy = (byte[])original.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            yield return copy;
        }
    }

    private static void OnlyExpected(Action action)
    {
        var error = Record.Exception(action);
        Assert.True(error is null or MalformedDataException, error?.ToString());
    }

    [Fact]
    public void DamagedWikiCapiFileNeverCrashesRecovery()
    {
        using var image = new RecoveryImage(withHives: false);
        image.Put($@"Users\wiki\AppData\Roaming\Microsoft\Protect\{WikiSid}\1eccdbd2-4771-4360-8b19-9d6060a061dc",
            Fixtures.Bytes("keys/mimikatz-wiki/1eccdbd2-4771-4360-8b19-9d6060a061dc"));
        using var source = MachineSource.Open(image.Root);
        var ring = new MasterKeyRing(source, null, UserCredential.FromPassword(WikiSid, "waza1234/"));
        // The intact file recovers, so the damaged copies exercise the whole chain.
        Assert.True(Assert.Single(KeyRecovery.RecoverCapi("k", Fixtures.Bytes(WikiKeyFile), ring)).Recovered);
        foreach (var copy in Damaged(Fixtures.Bytes(WikiKeyFile), 29))
            OnlyExpected(() => KeyRecovery.RecoverCapi("k", copy, ring));
    }

    [Fact]
    public void DamagedNemesisCngFileNeverCrashesRecovery()
    {
        using var image = new RecoveryImage(withHives: false);
        image.Put(@"Windows\System32\Microsoft\Protect\S-1-5-18\User\fb1190c1-123d-45f8-95f4-32aee28fe2eb",
            Fixtures.Bytes("keys/nemesis/fb1190c1-123d-45f8-95f4-32aee28fe2eb"));
        using var source = MachineSource.Open(image.Root);
        var ring = new MasterKeyRing(source, RecoveryImage.SystemSecret, null);
        Assert.Equal("DPAPI_SYSTEM user half", KeyRecovery.RecoverCng("k", Fixtures.Bytes(NemesisCngKey), ring).MasterKeyOpenedWith);
        foreach (var copy in Damaged(Fixtures.Bytes(NemesisCngKey), 13))
            OnlyExpected(() => KeyRecovery.RecoverCng("k", copy, ring));
    }

    [Fact]
    public void DamagedRegipyPolEkListIsMalformedOrMismatched()
    {
        var security = RegistryHive.Open(Fixtures.Path("hives/regipy/SECURITY"));
        var polEk = security.OpenKey(@"Policy\PolEKList")!.GetValue("")!.Data.ToArray();
        var bootKey = BootKey.FromSystemHive(RegistryHive.Open(Fixtures.Path("hives/regipy/SYSTEM")));
        foreach (var copy in Damaged(polEk, 3))
        {
            var error = Record.Exception(() => LsaSecrets.LsaKeyFromPolEkList(copy, bootKey));
            Assert.True(error is MalformedDataException or HivesDoNotMatchException, error?.ToString() ?? "no error");
        }
    }
}

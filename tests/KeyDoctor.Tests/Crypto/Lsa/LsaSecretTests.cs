using System.Security.Cryptography;
using KeyDoctor.Crypto.Lsa;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.Lsa;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Crypto.Lsa;

/// <summary>Boot key, LSA key and DPAPI_SYSTEM, on the regipy hives and on hives written here.</summary>
public class LsaSecretTests
{
    private static RegistryHive Hive(string name) => RegistryHive.Open(Fixtures.Path("hives/regipy/" + name));

    [Fact]
    public void BootKeyFromClassNamesIsPermuted()
    {
        var key = BootKey.FromClassNames(new LsaClassNames("67cd88ed", "8df2db5b", "e770d1f4", "b6cf2e27"));
        Assert.Equal("e7f28d88f470cfed67dbcdb62ed1275b", Convert.ToHexStringLower(key));
    }

    [Theory]
    // Expected values from impacket secretsdump LocalOperations.getBootKey on the same files.
    [InlineData("SYSTEM", "e7f28d88f470cfed67dbcdb62ed1275b")]
    [InlineData("SYSTEM_B", "a88498f8a6ad848fe659678ce68a086c")]
    public void BootKeyFromRealSystemHives(string hive, string expected) =>
        Assert.Equal(expected, Convert.ToHexStringLower(BootKey.FromSystemHive(Hive(hive))));

    [Fact]
    public void BadClassNamesAreMalformedData()
    {
        Assert.Throws<MalformedDataException>(() => BootKey.FromClassNames(new LsaClassNames("67cd88ed", null, "e770d1f4", "b6cf2e27")));
        Assert.Throws<MalformedDataException>(() => BootKey.FromClassNames(new LsaClassNames("67cd88ed", "zzzzzzzz", "e770d1f4", "b6cf2e27")));
        Assert.Throws<MalformedDataException>(() => BootKey.FromClassNames(new LsaClassNames("67cd88ed", "8df2db5b00", "e770d1f4", "b6cf2e27")));
    }

    [Theory]
    [InlineData("SYSTEM")]
    [InlineData("SYSTEM_B")]
    public void RegipySecurityBelongsToNoneOfTheSystemHives(string system)
    {
        var error = Assert.Throws<HivesDoNotMatchException>(() => LsaSecrets.DpapiSystem(Hive(system), Hive("SECURITY")));
        Assert.StartsWith("these hives do not belong together", error.Message);
    }

    [Fact]
    public void SecretRoundTripsAndAWrongKeyIsReportedAsMismatch()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var salt = RandomNumberGenerator.GetBytes(32);
        var secret = Convert.FromHexString("01000000dcfd03644f501805c189e15e9367b01415dea75a4e25d96d26879ded571f5d48a6887455d28f66f5");
        var encrypted = LsaSecrets.Encrypt(secret, key, salt);
        Assert.Equal(secret, LsaSecrets.Decrypt(encrypted, key));
        // A wrong key gives random plaintext; its length field is, in practice, never small enough to fit.
        for (var i = 0; i < 20; i++)
            Assert.Throws<HivesDoNotMatchException>(() => LsaSecrets.Decrypt(encrypted, RandomNumberGenerator.GetBytes(32)));
    }

    [Fact]
    public void HivesWrittenHereGiveDpapiSystem()
    {
        var (system, security, expected) = LsaTestHives.Build(
            DpapiSystemSecret.FromHex("01000000dcfd03644f501805c189e15e9367b01415dea75a4e25d96d26879ded571f5d48a6887455d28f66f5"));
        var secret = LsaSecrets.DpapiSystem(system, security);
        Assert.Equal(expected.MachineKey, secret.MachineKey);
        Assert.Equal(expected.UserKey, secret.UserKey);
        Assert.Equal("dcfd03644f501805c189e15e9367b01415dea75a", Convert.ToHexStringLower(secret.MachineKey));
    }

    [Fact]
    public void WrittenSecurityWithAnotherSystemDoesNotMatch()
    {
        var (_, security, _) = LsaTestHives.Build(DpapiSystemSecret.FromHex(
            "010000002bb2109db472825bfa7660fdbed62c981f08587b458dc597034d8801fc6fe3b342817caabb81a0cb"));
        Assert.Throws<HivesDoNotMatchException>(() => LsaSecrets.DpapiSystem(Hive("SYSTEM_B"), security));
    }

    [Fact]
    public void TruncatedAndFlippedSecretsNeverCrash()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var encrypted = LsaSecrets.Encrypt(new byte[44], key, new byte[32]);
        for (var length = 0; length < encrypted.Length; length++)
        {
            var truncated = encrypted[..length];
            var error = Record.Exception(() => LsaSecrets.Decrypt(truncated, key));
            Assert.True(error is null or MalformedDataException or HivesDoNotMatchException, error?.GetType().Name);
        }
        for (var bit = 0; bit < encrypted.Length * 8; bit += 7)
        {
            var copy = (byte[])encrypted.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            var error = Record.Exception(() => LsaSecrets.Decrypt(copy, key));
            Assert.True(error is null or MalformedDataException or HivesDoNotMatchException, error?.GetType().Name);
        }
    }
}

/// <summary>SYSTEM and SECURITY hives written with RegfWriter, with the secrets encrypted per the format.</summary>
public static class LsaTestHives
{
    public static readonly string[] ClassNames = ["67cd88ed", "8df2db5b", "e770d1f4", "b6cf2e27"];

    public static (RegistryHive System, RegistryHive Security, DpapiSystemSecret Secret) Build(DpapiSystemSecret secret)
    {
        var systemRoot = new WritableKey("ROOT");
        systemRoot.Add("Select").SetDWord("Current", 1);
        var lsa = systemRoot.Add("ControlSet001").Add("Control").Add("Lsa");
        string[] names = ["JD", "Skew1", "GBG", "Data"];
        for (var i = 0; i < 4; i++) lsa.Add(names[i]).Class = ClassNames[i];
        var system = RegistryHive.Load(RegfWriter.Write(systemRoot, "SYSTEM"), source: "SYSTEM (test)");

        var bootKey = BootKey.FromClassNames(new LsaClassNames(ClassNames[0], ClassNames[1], ClassNames[2], ClassNames[3]));
        var lsaKey = RandomNumberGenerator.GetBytes(32);
        var polEk = new byte[LsaSecrets.PolEkListSecretLength];
        lsaKey.CopyTo(polEk, 52);
        var dpapiPlain = new byte[DpapiSystemSecret.Length];
        dpapiPlain[0] = 1;
        secret.MachineKey.CopyTo(dpapiPlain, 4);
        secret.UserKey.CopyTo(dpapiPlain, 24);

        var securityRoot = new WritableKey("ROOT");
        var policy = securityRoot.Add("Policy");
        policy.Add("PolEKList").Set("", RegistryValueType.None, LsaSecrets.Encrypt(polEk, bootKey, RandomNumberGenerator.GetBytes(32)));
        policy.Add("Secrets").Add("DPAPI_SYSTEM").Add("CurrVal")
            .Set("", RegistryValueType.None, LsaSecrets.Encrypt(dpapiPlain, lsaKey, RandomNumberGenerator.GetBytes(32)));
        var security = RegistryHive.Load(RegfWriter.Write(securityRoot, "SECURITY"), source: "SECURITY (test)");
        return (system, security, secret);
    }
}

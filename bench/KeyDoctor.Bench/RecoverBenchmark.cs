using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Crypto.Lsa;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Lsa;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Bench;

/// <summary>
/// `recover`: the costly steps of the chain, in process, against python3-impacket doing the same work:
/// boot key + PolEKList on the regipy hives, and opening the mimikatz-wiki master key (3,300 MS-PBKDF2 rounds of
/// SHA-512) then decrypting and rebuilding its 2048-bit CAPI key. Usage: recover [fixtures folder]
/// </summary>
public static class RecoverBenchmark
{
    private const string WikiSid = "S-1-5-21-494464150-3436831043-1864828003-1001";

    public static int Run(string[] args)
    {
        var fixtures = args.Length > 0 ? args[0] : Path.Combine("..", "shared", "fixtures");
        var systemPath = Path.Combine(fixtures, "hives", "regipy", "SYSTEM");
        var securityPath = Path.Combine(fixtures, "hives", "regipy", "SECURITY");
        var masterKeyPath = Path.Combine(fixtures, "keys", "mimikatz-wiki", "1eccdbd2-4771-4360-8b19-9d6060a061dc");
        var keyPath = Path.Combine(fixtures, "keys", "mimikatz-wiki", "79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b");

        void Lsa()
        {
            var bootKey = BootKey.FromSystemHive(RegistryHive.Open(systemPath));
            try { LsaSecrets.LsaKey(RegistryHive.Open(securityPath), bootKey); }
            catch (HivesDoNotMatchException) { /* expected: the regipy hives do not belong together */ }
        }
        void Key()
        {
            var preKey = DpapiPreKeys.FromPassword("waza1234/", WikiSid);
            var masterKey = MasterKeyFile.Parse(File.ReadAllBytes(masterKeyPath)).MasterKey!.Decrypt(preKey)!;
            var file = CapiKeyFile.Parse(File.ReadAllBytes(keyPath));
            var plain = DpapiBlobDecryptor.Decrypt(file.Exchange!.PrivateKey!, masterKey).Plaintext!;
            _ = CapiPrivateKeyBlob.Parse(plain);
        }
        Lsa();
        Key();
        var lsa = Measure.Best(10, Lsa);
        var key = Measure.Best(10, Key);

        const string pyLsa = """
            import sys
            from impacket.examples.secretsdump import LocalOperations, LSASecrets
            boot = LocalOperations(sys.argv[1]).getBootKey()
            LSASecrets(sys.argv[2], boot, None, isRemote=False, perSecretCallback=lambda *a: None).dumpSecrets()
            """;
        const string pyKey = """
            import sys
            from impacket.dpapi import MasterKeyFile, MasterKey, DPAPI_BLOB
            import hashlib, hmac
            data = open(sys.argv[1], 'rb').read()
            mkf = MasterKeyFile(data)
            mk = MasterKey(data[len(mkf):][:mkf['MasterKeyLen']])
            sid = sys.argv[3]
            pre = hmac.new(hashlib.sha1('waza1234/'.encode('utf-16le')).digest(), (sid + '\0').encode('utf-16le'), hashlib.sha1).digest()
            key = mk.decrypt(pre)
            blob = open(sys.argv[2], 'rb').read()
            i = blob.find(bytes.fromhex('01000000d08c9ddf0115d1118c7a00c04fc297eb'))
            # impacket signs over its whole input, so the blob is cut to its own length first
            n = len(DPAPI_BLOB(blob[i:]).getData())
            assert DPAPI_BLOB(blob[i:i + n]).decrypt(key) is not None
            """;
        // Each script's imports alone, so the difference is the work itself.
        var pyLsaStart = Measure.BestExternal(3, "/usr/bin/python3", "-c", "import impacket.examples.secretsdump");
        var pyKeyStart = Measure.BestExternal(3, "/usr/bin/python3", "-c", "import hashlib, hmac, impacket.dpapi");
        var pyLsaTime = Measure.BestExternal(3, "/usr/bin/python3", "-c", pyLsa, systemPath, securityPath);
        var pyKeyTime = Measure.BestExternal(3, "/usr/bin/python3", "-c", pyKey, masterKeyPath, keyPath, WikiSid);

        Console.WriteLine($"boot key + PolEKList (regipy, mismatch detected), best of 10: {lsa.TotalMilliseconds:F1} ms");
        Console.WriteLine($"wiki master key + CAPI key rebuilt, best of 10:               {key.TotalMilliseconds:F1} ms");
        Console.WriteLine($"impacket boot key + LSA secrets, best of 3:                    {pyLsaTime.TotalMilliseconds:F1} ms ({(pyLsaTime - pyLsaStart).TotalMilliseconds:F1} ms after its imports)");
        Console.WriteLine($"impacket master key + blob, best of 3:                         {pyKeyTime.TotalMilliseconds:F1} ms ({(pyKeyTime - pyKeyStart).TotalMilliseconds:F1} ms after its imports)");
        return 0;
    }
}

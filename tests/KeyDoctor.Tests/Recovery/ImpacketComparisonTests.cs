using System.Diagnostics;
using System.Security.Cryptography;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Lsa;
using KeyDoctor.Tests.Crypto.Lsa;

namespace KeyDoctor.Tests.Recovery;

/// <summary>
/// Debian's python3-impacket (run with /usr/bin/python3) decrypts the same inputs; plaintexts are compared by SHA-256.
/// Covers real fixtures (our reader against impacket) and our writers (impacket reading what we wrote).
/// </summary>
public class ImpacketComparisonTests
{
    private const string WikiSid = "S-1-5-21-494464150-3436831043-1864828003-1001";

    // argv: master-key file, pre-key hex, [blob file, entropy hex]. Prints sha256(master key) and sha256(plaintext).
    private const string DecryptScript = """
        import sys, hashlib
        from impacket.dpapi import MasterKeyFile, MasterKey, DPAPI_BLOB
        data = open(sys.argv[1], 'rb').read()
        mkf = MasterKeyFile(data)
        mk = MasterKey(data[len(mkf):][:mkf['MasterKeyLen']])
        key = mk.decrypt(bytes.fromhex(sys.argv[2]))
        if key is None:
            print('no-master-key'); sys.exit(0)
        print(hashlib.sha256(key).hexdigest())
        if len(sys.argv) > 3:
            blob = DPAPI_BLOB(open(sys.argv[3], 'rb').read())
            entropy = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else None
            plain = blob.decrypt(key, entropy) if entropy else blob.decrypt(key)
            print(hashlib.sha256(plain).hexdigest() if plain is not None else 'no-plaintext')
        """;

    private static string[] Python(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "impacket failed: " + error);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static string Temp(byte[] data)
    {
        var path = Path.Combine(Path.GetTempPath(), "kd-impacket-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, data);
        return path;
    }

    [Fact]
    public void WikiPrivateKeyBlobDecryptsTheSameInImpacket()
    {
        var masterKeyPath = Fixtures.Path("keys/mimikatz-wiki/1eccdbd2-4771-4360-8b19-9d6060a061dc");
        var preKey = DpapiPreKeys.FromPassword("waza1234/", WikiSid);
        var masterKey = MasterKeyFile.Parse(File.ReadAllBytes(masterKeyPath)).MasterKey!.Decrypt(preKey)!;
        var file = CapiKeyFile.Parse(Fixtures.Bytes("keys/mimikatz-wiki/79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b"));
        var ours = DpapiBlobDecryptor.Decrypt(file.Exchange!.PrivateKey!, masterKey).Plaintext!;
        var blobPath = Temp(file.Exchange.PrivateKey!.ToArray());
        try
        {
            var lines = Python(DecryptScript, masterKeyPath, Convert.ToHexString(preKey), blobPath);
            Assert.Equal(Sha256(masterKey), lines[0]);
            Assert.Equal(Sha256(ours), lines[1]);
        }
        finally { File.Delete(blobPath); }
    }

    [Fact]
    public void ImpacketSystemMasterKeyOpensTheSame()
    {
        var path = Fixtures.Path("keys/impacket/ea95eba8-ba00-4e1a-b43f-51ea30171d11");
        var secret = DpapiSystemSecret.FromHex("010000002bb2109db472825bfa7660fdbed62c981f08587b458dc597034d8801fc6fe3b342817caabb81a0cb");
        var ours = MasterKeyFile.Parse(File.ReadAllBytes(path)).MasterKey!.Decrypt(secret.UserKey)!;
        Assert.Equal(Sha256(ours), Python(DecryptScript, path, Convert.ToHexString(secret.UserKey))[0]);
    }

    [Fact]
    public void ImpacketReadsWhatOurDpapiWriterWrote()
    {
        var masterKey = RandomNumberGenerator.GetBytes(64);
        var preKey = RandomNumberGenerator.GetBytes(20);
        var guid = Guid.NewGuid();
        var plaintext = RandomNumberGenerator.GetBytes(1348);
        var entropy = "xT5rZW5qVVbrvpuA\0"u8.ToArray();
        var masterKeyPath = Temp(DpapiWriter.WriteMasterKeyFile(guid, masterKey, preKey, rounds: 4000));
        var blobPath = Temp(DpapiWriter.ProtectBlob(plaintext, masterKey, guid, "Private Key", entropy));
        try
        {
            var lines = Python(DecryptScript, masterKeyPath, Convert.ToHexString(preKey), blobPath, Convert.ToHexString(entropy));
            Assert.Equal([Sha256(masterKey), Sha256(plaintext)], lines);
        }
        finally { File.Delete(masterKeyPath); File.Delete(blobPath); }
    }

    [Fact]
    public void ImpacketSecretsdumpReadsDpapiSystemFromOurHives()
    {
        var (system, security, secret) = LsaTestHives.Build(DpapiSystemSecret.FromHex(
            "01000000dcfd03644f501805c189e15e9367b01415dea75a4e25d96d26879ded571f5d48a6887455d28f66f5"));
        var systemPath = Temp(system.Bytes.ToArray());
        var securityPath = Temp(security.Bytes.ToArray());
        try
        {
            var lines = Python("""
                import sys
                from impacket.examples.secretsdump import LocalOperations, LSASecrets
                boot = LocalOperations(sys.argv[1]).getBootKey()
                print(boot.hex())
                found = []
                lsa = LSASecrets(sys.argv[2], boot, None, isRemote=False, perSecretCallback=lambda t, s: found.append(s))
                lsa.dumpSecrets()
                lsa.finish()
                print([s for s in found if s.startswith('dpapi_machinekey')][0])
                """, systemPath, securityPath);
            Assert.Equal(Convert.ToHexStringLower(BootKey.FromSystemHive(system)), lines[0]);
            Assert.Equal("dpapi_machinekey:0x" + Convert.ToHexStringLower(secret.MachineKey), lines[^2]);
            Assert.Equal("dpapi_userkey:0x" + Convert.ToHexStringLower(secret.UserKey), lines[^1]);
        }
        finally { File.Delete(systemPath); File.Delete(securityPath); }
    }
    // The code path of impacket's `dpapi.py masterkey -file F -pvk K`: PVK header skipped, PRIVATEKEYBLOB to PKCS#1,
    // PKCS#1 v1.5 over the reversed secret, DPAPI_DOMAIN_RSA_MASTER_KEY buffer[:cbMasterKey]; then `unprotect -key`.
    // argv: master-key file, pvk file, [blob file]. Prints sha256(master key) or 'no-master-key', then sha256(plaintext).
    private const string PvkScript = """
        import sys, hashlib
        from Cryptodome.Cipher import PKCS1_v1_5
        from impacket.dpapi import MasterKeyFile, DomainKey, PVK_FILE_HDR, PRIVATE_KEY_BLOB, privatekeyblob_to_pkcs1, DPAPI_DOMAIN_RSA_MASTER_KEY, DPAPI_BLOB
        data = open(sys.argv[1], 'rb').read()
        mkf = MasterKeyFile(data)
        data = data[len(mkf):]
        data = data[mkf['MasterKeyLen'] + mkf['BackupKeyLen'] + mkf['CredHistLen']:]
        dk = DomainKey(data[:mkf['DomainKeyLen']])
        pvk = open(sys.argv[2], 'rb').read()
        cipher = PKCS1_v1_5.new(privatekeyblob_to_pkcs1(PRIVATE_KEY_BLOB(pvk[len(PVK_FILE_HDR()):])))
        plain = cipher.decrypt(dk['SecretData'][::-1], None)
        if not plain:
            print('no-master-key'); sys.exit(0)
        rsa = DPAPI_DOMAIN_RSA_MASTER_KEY(plain)
        key = rsa['buffer'][:rsa['cbMasterKey']]
        print(hashlib.sha256(key).hexdigest())
        if len(sys.argv) > 3:
            print(hashlib.sha256(DPAPI_BLOB(open(sys.argv[3], 'rb').read()).decrypt(key)).hexdigest())
        """;

    [Fact]
    public void ImpacketOpensTheDomainMasterKeyWithThePvkAsWeDo()
    {
        var pvkPath = Temp(Crypto.Dpapi.DomainKeyTests.OldBackupKeyPvk());
        try
        {
            var masterKeyPath = Fixtures.Path(Crypto.Dpapi.DomainKeyTests.DomainMasterKeyFile);
            var ours = MasterKeyFile.Parse(File.ReadAllBytes(masterKeyPath)).ReadDomainKey()!
                .Decrypt(DomainBackupKey.Read(File.ReadAllBytes(pvkPath))).MasterKey!;
            var plaintext = DpapiBlobDecryptor.Decrypt(DpapiBlob.Parse(Fixtures.Bytes("keys/nemesis/dpapi_blob.bin")), ours).Plaintext!;
            Assert.Equal("This is a test."u8.ToArray(), plaintext);
            var lines = Python(PvkScript, masterKeyPath, pvkPath, Fixtures.Path("keys/nemesis/dpapi_blob.bin"));
            Assert.Equal([Sha256(ours), Sha256(plaintext)], lines);

            // The version-3 section of masterkey_domain.bin is encrypted to another backup key: impacket gets no key either.
            Assert.Equal(["no-master-key"], Python(PvkScript, Fixtures.Path("keys/nemesis/masterkey_domain.bin"), pvkPath));
        }
        finally { File.Delete(pvkPath); }
    }
    [Fact]
    public void ImpacketDerivesTheSameDomainPreKeysFromThePassword()
    {
        // impacket's `dpapi.py masterkey -sid -password` derivation (deriveKeysFromUser): SHA-1, NT hash, and the
        // PBKDF2-stretched NT hash of Windows 10 1607+ domain users; each is tried on the master key.
        const string sid = "S-1-5-21-3821320868-1508310791-3575676346-1103";
        var path = Fixtures.Path("keys/nemesis/masterkey_domain.bin");
        var lines = Python("""
            import sys, hashlib
            from hashlib import pbkdf2_hmac
            from Cryptodome.Hash import HMAC, SHA1, MD4
            from impacket.dpapi import MasterKeyFile, MasterKey
            sid, password = sys.argv[2], sys.argv[3]
            key1 = HMAC.new(SHA1.new(password.encode('utf-16le')).digest(), (sid + '\0').encode('utf-16le'), SHA1).digest()
            key2 = HMAC.new(MD4.new(password.encode('utf-16le')).digest(), (sid + '\0').encode('utf-16le'), SHA1).digest()
            tmp = pbkdf2_hmac('sha256', MD4.new(password.encode('utf-16le')).digest(), sid.encode('utf-16le'), 10000)
            tmp2 = pbkdf2_hmac('sha256', tmp, sid.encode('utf-16le'), 1)[:16]
            key3 = HMAC.new(tmp2, (sid + '\0').encode('utf-16le'), SHA1).digest()[:20]
            data = open(sys.argv[1], 'rb').read()
            mkf = MasterKeyFile(data)
            mk = MasterKey(data[len(mkf):][:mkf['MasterKeyLen']])
            for k in (key1, key2, key3):
                print(k.hex())
            for k in (key1, key2, key3):
                key = mk.decrypt(k)
                print(hashlib.sha256(key).hexdigest() if key else 'no-master-key')
            """, path, sid, "Qwerty12345");
        var ours = DpapiPreKeys.AllFromPassword("Qwerty12345", sid);
        Assert.Equal(ours.Select(Convert.ToHexStringLower), lines[..3]);
        var masterKey = MasterKeyFile.Parse(File.ReadAllBytes(path)).MasterKey!.Decrypt(ours[2])!;
        Assert.Equal(["no-master-key", "no-master-key", Sha256(masterKey)], lines[3..]);
    }
}

namespace KeyDoctor.Tests.KeyFiles;

/// <summary>The real key files of ../shared/fixtures/keys (see VECTORS.md).</summary>
internal static class KeyFixtures
{
    public const string MimikatzCapiName = "79e1ac78150e8bea8ad238e14d63145b_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
    public const string MimikatzCapi = "keys/mimikatz-wiki/" + MimikatzCapiName;
    public const string ChromeCngName = "7096db7aeb75c0d3497ecd56d355a695_f26c165b-53c8-414e-8abb-ec5f0f52df22";
    public const string ChromeCng = "keys/nemesis/" + ChromeCngName;
    public const string EcdsaCngName = "de7cf8a7901d2ad13e5c67c29e5d1662_e4aad2d1-5ec0-4ea4-b259-65eda5bc47a8";
    public const string EcdsaCng = "keys/" + EcdsaCngName;

    /// <summary>SHA-256 of the DER SubjectPublicKeyInfo, computed independently with openssl asn1parse -genconf.</summary>
    public const string MimikatzSpkiSha256 = "80bc37cbe95fb83303697a9519325b88c0389b83d8c21d0456741ee02a4148cf";
    public const string EcdsaSpkiSha256 = "58d0e0f56c190b22d4895a46906f61591b818e7344ad48ae368597c384277beb";

    public static byte[] Bytes(string relative) => Fixtures.Bytes(relative);

    /// <summary>A fresh temporary folder, deleted when disposed.</summary>
    public sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = Directory.CreateTempSubdirectory("keydoctor-keys-").FullName;
        }

        public string Path { get; }

        public string Write(string name, byte[] content)
        {
            var full = System.IO.Path.Combine(Path, name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, content);
            return full;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

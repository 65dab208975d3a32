using System.Security.Cryptography;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Crypto.KeySets;

/// <summary>Turns the numbers a key-file reader recovered into a key object the BCL can use.</summary>
public static class RecoveredKeyAlgorithm
{
    /// <summary>An RSA or ECDsa object holding the key (the caller disposes it); null for symmetric keys.</summary>
    public static AsymmetricAlgorithm? CreateAlgorithm(this RecoveredPrivateKey key)
    {
        if (key.Rsa is { } rsa) return RSA.Create(rsa);
        if (key.Ec is { } ec) return ECDsa.Create(ec);
        return null;
    }
}

namespace KeyDoctor.Crypto.KeySets;

/// <summary>The two key pairs a CryptoAPI container can hold (dwKeySpec).</summary>
public enum CapiKeyNumber
{
    /// <summary>AT_KEYEXCHANGE (1): CALG_RSA_KEYX, the key that unwraps session keys.</summary>
    Exchange = 1,

    /// <summary>AT_SIGNATURE (2): CALG_RSA_SIGN, the key IIS 6 signs metabase session keys with.</summary>
    Signature = 2,
}

/// <summary>One RSA key pair of a key set, with the key number it belongs to.</summary>
public sealed record KeySetEntry(CapiKeyNumber KeyNumber, System.Security.Cryptography.RSAParameters Parameters)
{
    /// <summary>True when the private half (D, P, Q, ...) is present.</summary>
    public bool HasPrivateKey => Parameters.D is { Length: > 0 };

    /// <summary>Modulus size in bits.</summary>
    public int KeySizeBits => (Parameters.Modulus?.Length ?? 0) * 8;
}

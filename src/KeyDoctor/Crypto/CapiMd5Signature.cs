using System.Security.Cryptography;

namespace KeyDoctor.Crypto;

/// <summary>
/// The signature IIS_CRYPTO_BLOBs carry: CryptSignHash with MD5 and PKCS#1 v1.5, stored little-endian as CryptoAPI
/// writes it (MS-IMSA 2.2.2). One place for both directions, so the session key and every data blob agree.
/// </summary>
public static class CapiMd5Signature
{
    public static byte[] Sign(ReadOnlySpan<byte> data, RSA signatureKey)
    {
        var signature = signatureKey.SignData(data.ToArray(), HashAlgorithmName.MD5, RSASignaturePadding.Pkcs1);
        Array.Reverse(signature);
        return signature;
    }

    /// <summary>False for a wrong key or a damaged signature, never an exception.</summary>
    public static bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> littleEndianSignature, RSA publicKey)
    {
        var bigEndian = littleEndianSignature.ToArray();
        Array.Reverse(bigEndian);
        try
        {
            return publicKey.VerifyData(data, bigEndian, HashAlgorithmName.MD5, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

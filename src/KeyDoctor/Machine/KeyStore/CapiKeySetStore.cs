using System.Runtime.Versioning;
using System.Security.Cryptography;
using KeyDoctor.Crypto.KeySets;

namespace KeyDoctor.Machine.KeyStore;

/// <summary>
/// Moves key sets in and out of the CryptoAPI machine key store (RSA\MachineKeys) through the BCL's
/// RSACryptoServiceProvider, both key numbers of one container. Windows only.
/// </summary>
[SupportedOSPlatform("windows")]
public static class CapiKeySetStore
{
    private const int NteBadKeyset = unchecked((int)0x80090016);
    private const int NteNoKey = unchecked((int)0x8009000D);

    /// <summary>True when the machine key container exists (with either key number, or none).</summary>
    public static bool Exists(string container)
    {
        var parameters = new CspParameters(1, null, container)
        {
            KeyNumber = (int)CapiKeyNumber.Exchange,
            Flags = CspProviderFlags.UseMachineKeyStore | CspProviderFlags.UseExistingKey,
        };
        try
        {
            using var rsa = new RSACryptoServiceProvider(parameters);
            return true;
        }
        catch (CryptographicException ex) when (ex.HResult == NteBadKeyset)
        {
            return false;
        }
        catch (CryptographicException ex) when (ex.HResult == NteNoKey)
        {
            return true; // the container is there, without an exchange key
        }
    }

    /// <summary>Reads every key number the container holds; keys that are not exportable are reported by the CSP as errors.</summary>
    public static KeySet Export(string container)
    {
        var keys = new List<KeySetEntry>();
        foreach (var number in new[] { CapiKeyNumber.Exchange, CapiKeyNumber.Signature })
        {
            var parameters = new CspParameters(1, null, container)
            {
                KeyNumber = (int)number,
                Flags = CspProviderFlags.UseMachineKeyStore | CspProviderFlags.UseExistingKey,
            };
            try
            {
                using var rsa = new RSACryptoServiceProvider(parameters) { PersistKeyInCsp = true };
                keys.Add(new KeySetEntry(number, rsa.ExportParameters(includePrivateParameters: true)));
            }
            catch (CryptographicException ex) when (number == CapiKeyNumber.Signature && ex.HResult is NteNoKey or NteBadKeyset)
            {
                // Most containers have no AT_SIGNATURE key; any other failure (not exportable, access denied) is reported.
            }
        }
        return new KeySet(container, keys);
    }

    /// <summary>
    /// Creates the keys of <paramref name="container"/>, non-exportable unless asked. An existing container is
    /// replaced only when <paramref name="replace"/> says so (it was proven bad): importing over a good container
    /// destroys the key it held.
    /// </summary>
    public static void Import(KeySet keySet, string container, bool exportable, bool replace = false)
    {
        if (!replace && Exists(container))
            throw new InvalidOperationException($"the machine key container {container} exists; KeyDoctor does not replace it unless told to (--replace), because the key it holds would be lost");
        foreach (var key in keySet.Keys)
        {
            var flags = CspProviderFlags.UseMachineKeyStore;
            if (!exportable) flags |= CspProviderFlags.UseNonExportableKey;
            var parameters = new CspParameters(1, null, container) { KeyNumber = (int)key.KeyNumber, Flags = flags };
            using var rsa = new RSACryptoServiceProvider(parameters) { PersistKeyInCsp = true };
            rsa.ImportParameters(key.Parameters);
        }
    }
}

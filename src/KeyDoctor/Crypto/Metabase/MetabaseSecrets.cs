using System.Security.Cryptography;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Crypto.Metabase;

/// <summary>What happened to one secure property.</summary>
public enum MetabaseSecretStatus
{
    /// <summary>Decrypted, and its signature verified (or it has none / no signature key was given: see Signature).</summary>
    Decrypted,
    /// <summary>Decrypted with the session key, but the signature key does not verify it.</summary>
    SignatureInvalid,
    /// <summary>A password-salted IcSb value and no (fitting) backup password.</summary>
    PasswordProtected,
    /// <summary>The session key was not opened, so nothing could be decrypted.</summary>
    NotOpened,
    /// <summary>The attribute is empty.</summary>
    Empty,
    /// <summary>The blob is not a well-formed IcDb/IcSb blob.</summary>
    Malformed,
}

/// <summary>One secure property after decryption. <see cref="Value"/> is the secret: callers mask it unless asked.</summary>
public sealed record MetabaseSecret(
    MetabaseSecureProperty Property,
    MetabaseSecretStatus Status,
    string Message,
    MetabaseDecrypted? Decrypted,
    MetabaseDataType? DataType,
    string? Value);

/// <summary>A metabase opened with a key set: the session key (if it opened) and every secure property.</summary>
public sealed record MetabaseOpened(
    MetabaseXml Metabase,
    byte[]? SessionKey,
    bool? SessionKeySignatureValid,
    string Message,
    IReadOnlyList<MetabaseSecret> Secrets)
{
    public const string WrongKeyMessage = "this key does not open the metabase session key";

    /// <summary>The salt rule the signatures (or zero prefixes) confirmed, or null when no value settled it.</summary>
    public Rc4Salt? ConfirmedSalt => Secrets
        .Where(s => s.Decrypted is { Signature: MetabaseSignatureCheck.Valid } && s.Property.Blob is IisEncryptedDataBlob)
        .Select(s => (Rc4Salt?)s.Decrypted!.Salt).FirstOrDefault();

    public bool AllDecrypted => SessionKey is not null && Secrets.All(s => s.Status is MetabaseSecretStatus.Decrypted or MetabaseSecretStatus.Empty);
}

/// <summary>Decrypts and re-keys the secure properties of an IIS 6 MetaBase.xml with an IIS key set.</summary>
public static class MetabaseSecrets
{
    /// <summary>
    /// Unwraps the SessionKey with the set's AT_KEYEXCHANGE private key, checks it (and every value) with the
    /// AT_SIGNATURE key when the set has one, and decrypts every secure property.
    /// </summary>
    public static MetabaseOpened Open(MetabaseXml metabase, KeySet keySet, string? backupPassword = null)
    {
        var exchange = keySet.Exchange;
        using var signature = keySet.Signature is { } s ? PublicKeyOf(s.Parameters) : null;
        var sessionBlob = metabase.SessionKey;
        byte[]? sessionKey = null;
        bool? sessionSigned = null;
        string message;
        if (sessionBlob.Blob is not { } blob)
            message = $"the SessionKey cannot be used: {sessionBlob.Problem}";
        else if (exchange is not { HasPrivateKey: true })
            message = "the key set has no AT_KEYEXCHANGE private key to open the SessionKey";
        else
        {
            sessionKey = MetabaseCrypto.TryUnwrapSessionKey(blob, exchange.Parameters);
            sessionSigned = signature is null ? null : blob.VerifySignature(signature);
            if (sessionKey is null)
                message = MetabaseOpened.WrongKeyMessage + (exchange.KeySizeBits != blob.SimpleBlob.WrappingKeyBits
                    ? $" (key is {exchange.KeySizeBits}-bit, the SessionKey was wrapped with a {blob.SimpleBlob.WrappingKeyBits}-bit key)"
                    : " (the AT_KEYEXCHANGE key does not unwrap it; IISADMIN would fail with NTE_BAD_DATA)");
            else
                message = $"the AT_KEYEXCHANGE key opens the SessionKey ({sessionKey.Length * 8}-bit RC4); " + sessionSigned switch
                {
                    true => "the AT_SIGNATURE key verifies its signature",
                    false => "the AT_SIGNATURE key does not verify its signature (IISADMIN: NTE_BAD_SIGNATURE)",
                    null => "no AT_SIGNATURE key to check its signature",
                };
        }

        var secrets = new List<MetabaseSecret>();
        var preferred = Rc4Salt.ZeroSalt;
        foreach (var property in metabase.SecureProperties)
        {
            var secret = OpenOne(property, sessionKey, signature, preferred, backupPassword);
            // Once a signature settles the salt rule, try it first for the rest of the file.
            if (secret.Decrypted is { Signature: MetabaseSignatureCheck.Valid } d) preferred = d.Salt;
            secrets.Add(secret);
        }
        return new MetabaseOpened(metabase, sessionKey, sessionSigned, message, secrets);
    }

    private static MetabaseSecret OpenOne(MetabaseSecureProperty property, byte[]? sessionKey, RSA? signature,
        Rc4Salt preferred, string? backupPassword)
    {
        switch (property.Status)
        {
            case MetabaseBlobStatus.Missing:
                return new(property, MetabaseSecretStatus.Empty, "empty value", null, null, null);
            case MetabaseBlobStatus.Malformed:
                return new(property, MetabaseSecretStatus.Malformed, property.Problem ?? "malformed blob", null, null, null);
        }
        MetabaseDecrypted decrypted;
        if (property.Blob is IisSaltedDataBlob salted)
        {
            if (backupPassword is null)
                return new(property, MetabaseSecretStatus.PasswordProtected,
                    "password-salted value (IcSb, a backup made with a password): give the backup password", null, null, null);
            if (MetabaseCrypto.TryDecryptSalted(salted, backupPassword) is not { } opened)
                return new(property, MetabaseSecretStatus.PasswordProtected,
                    "the backup password does not decrypt this password-salted value (IcSb)", null, null, null);
            decrypted = opened;
        }
        else if (property.Blob is IisEncryptedDataBlob data)
        {
            if (sessionKey is null)
                return new(property, MetabaseSecretStatus.NotOpened, MetabaseOpened.WrongKeyMessage, null, null, null);
            decrypted = MetabaseCrypto.Decrypt(data, sessionKey, signature, preferred);
        }
        else return new(property, MetabaseSecretStatus.Malformed, "not an encrypted-data blob", null, null, null);

        var type = MetabaseValue.TypeOf(property.Name, property.DataType, decrypted.ClearText);
        var value = MetabaseValue.Decode(type, decrypted.ClearText, out var problem);
        var notes = new List<string>();
        if (decrypted.Reserved != 0) notes.Add($"Reserved prefix is 0x{decrypted.Reserved:X8}, not 0");
        if (problem is not null) notes.Add(problem);
        if (decrypted.Signature == MetabaseSignatureCheck.Invalid)
            return new(property, MetabaseSecretStatus.SignatureInvalid,
                "the AT_SIGNATURE key does not verify this value's signature (wrong signature key, or altered data)" +
                (notes.Count > 0 ? "; " + string.Join("; ", notes) : ""), decrypted, type, value);
        var check = decrypted.Signature switch
        {
            MetabaseSignatureCheck.Valid => "signature verified",
            MetabaseSignatureCheck.Absent => "no signature in the blob",
            _ => "signature not checked (no AT_SIGNATURE key)",
        };
        notes.Insert(0, check);
        return new(property, MetabaseSecretStatus.Decrypted, string.Join("; ", notes), decrypted, type, value);
    }

    /// <summary>
    /// Re-encrypts an opened metabase for a new key set: a fresh session key (same length as the old one) wrapped for
    /// <paramref name="newExchange"/> and signed with <paramref name="newSignature"/>, every IcDb value re-encrypted and
    /// re-signed with its Reserved prefix kept. Only the hex blobs change in <paramref name="file"/>. IcSb values are
    /// left as they are (a password, not the key set, protects them). Throws UserInputException-free: returns null
    /// with <paramref name="problem"/> when the file cannot be re-keyed safely.
    /// </summary>
    public static byte[]? Rekey(ReadOnlySpan<byte> file, MetabaseOpened opened, RSA newExchange, RSA newSignature, out string? problem)
    {
        problem = null;
        if (opened.SessionKey is null || opened.Metabase.SessionKey.Hex is not { } oldSessionHex)
        {
            problem = opened.Message;
            return null;
        }
        var blocked = opened.Secrets.FirstOrDefault(s => s.Status is not (MetabaseSecretStatus.Decrypted or MetabaseSecretStatus.Empty or MetabaseSecretStatus.PasswordProtected)
            || (s.Status == MetabaseSecretStatus.PasswordProtected && s.Property.Blob is not IisSaltedDataBlob));
        if (blocked is not null)
        {
            problem = $"{blocked.Property.Location} {blocked.Property.Name} (line {blocked.Property.Line}): {blocked.Message}; " +
                      "a re-keyed file would carry a value no key opens, so nothing is written";
            return null;
        }
        var salt = opened.ConfirmedSalt ?? Rc4Salt.ZeroSalt;
        var (newKey, newSessionBlob) = MetabaseCrypto.NewSessionKey(newExchange, newSignature, opened.SessionKey.Length);
        var replacements = new List<TextReplacement> { new(oldSessionHex, IisCryptoBlobWriter.ToHex(newSessionBlob), 1) };
        var byHex = opened.Secrets
            .Where(s => s.Decrypted is not null && s.Property.Blob is IisEncryptedDataBlob && s.Property.Hex is not null)
            .GroupBy(s => s.Property.Hex!, StringComparer.Ordinal);
        foreach (var group in byHex)
        {
            var first = group.First();
            // Same clear text, same key: RC4 from the start of the keystream and PKCS#1 v1.5 are deterministic, so
            // every copy of an old blob maps to the same new one.
            var blob = MetabaseCrypto.Encrypt(first.Decrypted!.PrefixedCleartext, newKey, salt, newSignature);
            replacements.Add(new TextReplacement(group.Key, IisCryptoBlobWriter.ToHex(blob), group.Count()));
        }
        return ConfigTextEditor.Replace(file, replacements, out problem);
    }

    /// <summary>
    /// Checks a re-keyed file against the original: the new key set opens it, every signature verifies and every
    /// value decrypts to the same clear text as before. Null when it does; otherwise what differs.
    /// </summary>
    public static string? VerifyRekeyed(MetabaseOpened original, ReadOnlyMemory<byte> rekeyed, KeySet newKeySet)
    {
        MetabaseOpened again;
        try { again = Open(MetabaseXml.Parse(rekeyed), newKeySet); }
        catch (Formats.MalformedDataException ex) { return $"the re-keyed file does not parse: {ex.Message}"; }
        if (again.SessionKey is null) return "the new key does not open the re-keyed SessionKey: " + again.Message;
        if (again.SessionKeySignatureValid != true) return "the new signature key does not verify the re-keyed SessionKey";
        if (again.Secrets.Count != original.Secrets.Count) return "the re-keyed file has a different number of secure properties";
        for (var i = 0; i < again.Secrets.Count; i++)
        {
            var (before, after) = (original.Secrets[i], again.Secrets[i]);
            if (before.Property.Blob is IisSaltedDataBlob) continue;
            if (before.Status == MetabaseSecretStatus.Empty) continue;
            if (after.Decrypted is not { Signature: MetabaseSignatureCheck.Valid } d
                || !d.PrefixedCleartext.AsSpan().SequenceEqual(before.Decrypted!.PrefixedCleartext))
                return $"{after.Property.Location} {after.Property.Name}: does not decrypt to the original value with the new key";
        }
        return null;
    }

    private static RSA PublicKeyOf(RSAParameters parameters)
    {
        var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = parameters.Modulus, Exponent = parameters.Exponent });
        return rsa;
    }
}

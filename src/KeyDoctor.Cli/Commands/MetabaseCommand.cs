using System.CommandLine;
using System.Security.Cryptography;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Cli.Json;
using KeyDoctor.Crypto;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor metabase`: does this key set open this IIS 6 MetaBase.xml, before IISADMIN is started.</summary>
public static class MetabaseCommand
{
    public static Command Create(CliContext context) =>
        new("metabase", "IIS 6 MetaBase.xml: check its SessionKey against a key set, decrypt or re-key its secure properties.")
        {
            CreateVerify(context),
            CreateDecrypt(context),
            CreateRekey(context),
        };

    private const string Mask = "********";

    private static Option<string> KeySetOption(string name, string description) => new(name) { Description = description, Required = true };

    private static Command CreateDecrypt(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "MetaBase.xml (or a History/MetaBack copy)." };
        var key = KeySetOption("--key",
            "The \"Microsoft Internet Information Server\" key set: AT_KEYEXCHANGE private key, and AT_SIGNATURE to verify signatures.");
        var reveal = new Option<bool>("--reveal") { Description = "Print the decrypted values instead of masking them." };
        var password = new Option<string?>("--backup-password-file")
        {
            Description = "File whose first line is the password of a metabase backup, for password-salted (IcSb) values (never on the command line, where the process list and shell history keep it).",
        };
        var json = CommonOptions.Json();
        var command = new Command("decrypt", "Decrypt every secure property (IcDb) with the key set; values are masked unless --reveal.")
        {
            file, key, reveal, password, json,
        };
        command.SetAction(parse =>
        {
            var keySet = KeySetConverter.Read(SecretFiles.ReadKeyFile(parse.GetValue(key)!));
            var opened = MetabaseSecrets.Open(MetabaseXml.Read(parse.GetValue(file)!), keySet,
                parse.GetValue(password) is { } passwordFile ? SecretFiles.ReadFirstLine(passwordFile, "--backup-password-file") : null);
            var show = parse.GetValue(reveal);
            var salt = SaltText(opened);
            var values = opened.Secrets.Select(s => new MetabaseValueJson(
                s.Property.KeyType, s.Property.Location, s.Property.Name, s.Property.Id, s.Property.Line,
                s.DataType is { } t ? MetabaseValue.Name(t) : null, StatusName(s.Status),
                s.Decrypted?.Signature.ToString().ToLowerInvariant(), s.Message,
                s.Value is null ? null : show ? s.Value : Mask)).ToList();
            if (parse.GetValue(json))
                context.WriteJson(new MetabaseDecryptDocument(parse.GetValue(file)!,
                    new MetabaseSessionKeyJson(opened.Metabase.SessionKey.Status.ToString().ToLowerInvariant(), opened.SessionKey is not null,
                        opened.SessionKey?.Length * 8, opened.SessionKeySignatureValid, salt, opened.Message),
                    show, values), KeyDoctorJson.Default.MetabaseDecryptDocument);
            else
            {
                context.Output.WriteLine(opened.Message);
                if (salt is not null) context.Output.WriteLine($"RC4 key: {salt}");
                foreach (var v in values)
                    context.Output.WriteLine($"{v.Location} {v.Name}" + (v.Id is null ? "" : $" (ID {v.Id}") +
                        (v.DataType is null ? "" : (v.Id is null ? " (" : ", ") + v.DataType) + (v.Id is null && v.DataType is null ? "" : ")") +
                        $", line {v.Line}: " + (v.Value is null ? v.Message : $"{v.Value}  [{v.Message}]"));
            }
            return opened.AllDecrypted && opened.SessionKeySignatureValid != false ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private static Command CreateRekey(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "MetaBase.xml to re-key (never changed)." };
        var from = KeySetOption("--from", "The key set that opens the metabase now (AT_KEYEXCHANGE private key; AT_SIGNATURE to verify).");
        var to = KeySetOption("--to", "The new key set: AT_KEYEXCHANGE (public is enough) and AT_SIGNATURE private key, to sign.");
        var output = (new Option<string?>("--output", "-o") { Description = "New file; default <file>.rekeyed<ext> beside the old one. Never overwritten." }).InExistingFolder();
        var json = CommonOptions.Json();
        var command = new Command("rekey", "Write a copy of the metabase whose SessionKey and secure properties belong to a new key set, verified with it.")
        {
            file, from, to, output, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var outputPath = parse.GetValue(output)
                ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + ".rekeyed" + Path.GetExtension(path));
            if (File.Exists(outputPath)) throw new UserInputException($"{outputPath} exists; rekey never overwrites");
            var oldKeys = KeySetConverter.Read(SecretFiles.ReadKeyFile(parse.GetValue(from)!));
            var newKeys = KeySetConverter.Read(SecretFiles.ReadKeyFile(parse.GetValue(to)!));
            var newExchange = newKeys.Exchange ?? throw new UserInputException($"{parse.GetValue(to)} holds no AT_KEYEXCHANGE key");
            if (newKeys.Signature is not { HasPrivateKey: true } newSignature)
                throw new UserInputException($"{parse.GetValue(to)} holds no AT_SIGNATURE private key; the new SessionKey and values must be signed with it");

            var bytes = File.ReadAllBytes(path);
            var opened = MetabaseSecrets.Open(MetabaseXml.Parse(bytes), oldKeys);
            using var exchangeKey = RSA.Create();
            exchangeKey.ImportParameters(new RSAParameters { Modulus = newExchange.Parameters.Modulus, Exponent = newExchange.Parameters.Exponent });
            using var signatureKey = RSA.Create();
            signatureKey.ImportParameters(newSignature.Parameters);

            string? problem = null;
            var rekeyed = opened.SessionKeySignatureValid == false
                ? null
                : MetabaseSecrets.Rekey(bytes, opened, exchangeKey, signatureKey, out problem);
            if (opened.SessionKeySignatureValid == false)
                problem = "the old AT_SIGNATURE key does not verify the SessionKey; re-keying would bless a SessionKey of unknown origin";
            // Verified on the exact bytes before they are written: the new key set must open every value again.
            if (rekeyed is not null && newExchange.HasPrivateKey) problem = MetabaseSecrets.VerifyRekeyed(opened, rekeyed, newKeys);
            else if (rekeyed is not null) problem = VerifyWithSignatureOnly(opened, rekeyed, newKeys);
            var ok = rekeyed is not null && problem is null;
            if (ok) OwnerOnlyFile.WriteAllBytes(outputPath, rekeyed);

            var count = opened.Secrets.Count(s => s.Property.Blob is IisEncryptedDataBlob);
            var salted = opened.Secrets.Count(s => s.Property.Blob is IisSaltedDataBlob);
            if (parse.GetValue(json))
                context.WriteJson(new MetabaseRekeyDocument(path, ok ? outputPath : null, opened.Message, ok ? count : 0, salted,
                    ok && newExchange.HasPrivateKey, problem), KeyDoctorJson.Default.MetabaseRekeyDocument);
            else
            {
                context.Output.WriteLine(opened.Message);
                if (!ok) context.Output.WriteLine($"not re-keyed: {problem}");
                else
                {
                    context.Output.WriteLine($"new SessionKey and {count} secure properties re-encrypted and signed for the new key set" +
                        (salted > 0 ? $"; {salted} password-salted (IcSb) values kept as they were" : ""));
                    context.Output.WriteLine(newExchange.HasPrivateKey
                        ? "verified: the new key set decrypts every value to the original"
                        : "verified: signatures check with the new AT_SIGNATURE key (--to has no AT_KEYEXCHANGE private key, so the values were not decrypted again)");
                    context.Output.WriteLine($"written: {outputPath}");
                }
            }
            return ok ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    /// <summary>When only the new public exchange key is at hand, the check is structural plus the new signatures.</summary>
    private static string? VerifyWithSignatureOnly(MetabaseOpened original, byte[] rekeyed, KeySet newKeys)
    {
        var metabase = MetabaseXml.Parse(rekeyed);
        using var signature = RSA.Create();
        signature.ImportParameters(newKeys.Signature!.Parameters);
        if (metabase.SessionKey.Blob is not { } blob || !blob.VerifySignature(signature)) return "the re-keyed SessionKey does not verify";
        return metabase.SecureProperties.Count == original.Secrets.Count && metabase.SecureProperties.All(p => p.Status != MetabaseBlobStatus.Malformed)
            ? null : "the re-keyed file's secure properties do not parse";
    }

    private static string? SaltText(MetabaseOpened opened)
    {
        if (opened.SessionKey is null) return null;
        if (opened.SessionKey.Length != MetabaseCrypto.FortyBitKeyLength) return $"{opened.SessionKey.Length * 8}-bit key, no salt";
        return opened.ConfirmedSalt switch
        {
            Rc4Salt.ZeroSalt => "40-bit key + 11 zero salt bytes (CryptoAPI default), confirmed by the signatures",
            Rc4Salt.None => "40-bit key without salt (CRYPT_NO_SALT), confirmed by the signatures",
            _ => "40-bit key + 11 zero salt bytes (CryptoAPI default; no signature confirmed it)",
        };
    }

    private static string StatusName(MetabaseSecretStatus status) => status switch
    {
        MetabaseSecretStatus.Decrypted => "decrypted",
        MetabaseSecretStatus.SignatureInvalid => "signature-invalid",
        MetabaseSecretStatus.PasswordProtected => "password-protected",
        MetabaseSecretStatus.NotOpened => "not-opened",
        MetabaseSecretStatus.Empty => "empty",
        _ => "malformed",
    };

    private static Command CreateVerify(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "MetaBase.xml." };
        var key = new Option<string>("--key")
        {
            Description = "The \"Microsoft Internet Information Server\" key set: a <KeyDoctorKeySet> with AT_KEYEXCHANGE and AT_SIGNATURE.",
            Required = true,
        };
        var json = CommonOptions.Json();
        var command = new Command("verify", "Unwrap the SessionKey with the exchange key and check its signature with the signature key.")
        {
            file, key, json,
        };
        command.SetAction(parse =>
        {
            var keySet = KeySetConverter.Read(SecretFiles.ReadKeyFile(parse.GetValue(key)!));
            var metabase = MetabaseXml.Read(parse.GetValue(file)!);
            var sessionKey = metabase.SessionKey;
            MetabaseKeyVerdict? verdict = sessionKey.Blob is { } blob ? MetabaseKeyCheck.Verify(blob, keySet) : null;
            var message = verdict?.Message ?? $"SessionKey cannot be checked: {sessionKey.Problem}";
            if (parse.GetValue(json))
                context.WriteJson(new MetabaseVerifyDocument(parse.GetValue(file)!, sessionKey.Status.ToString(), verdict?.ExchangeKeyOpens,
                    verdict?.SignatureValid, message), KeyDoctorJson.Default.MetabaseVerifyDocument);
            else
                context.Output.WriteLine(message);
            return verdict?.Healthy == true ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }
}

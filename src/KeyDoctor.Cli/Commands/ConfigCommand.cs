using System.CommandLine;
using KeyDoctor.Crypto.ProtectedConfig;
using KeyDoctor.Cli.Json;
using KeyDoctor.Crypto;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor config`: answers "does this key open this applicationHost.config?" offline, before a service is
/// restarted, and reads the protected values it opens (masked unless --reveal).
/// </summary>
public static class ConfigCommand
{
    private const string Mask = "********";

    public static Command Create(CliContext context) =>
        new("config", "IIS 7+ protected configuration: does a key open applicationHost.config, and what does it hold.")
        {
            CreateVerify(context),
            CreateDecrypt(context),
            CreateRekey(context),
        };

    private static Command CreateRekey(CliContext context)
    {
        var file = ConfigArgument();
        var from = new Option<string>("--from") { Description = "The key that opens the configuration now (private key).", Required = true };
        var to = new Option<string>("--to") { Description = "The target server's key (its public half is enough).", Required = true };
        var output = (new Option<string?>("--output", "-o") { Description = "New file (never overwritten); default <file>.rekeyed<ext> beside the old one." }).InExistingFolder();
        var json = CommonOptions.Json();
        var command = new Command("rekey", "Re-wrap every AES provider's session key and every RSA provider value's key for another RSA key, writing a new file (never in place).")
        {
            file, from, to, output, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var (config, providers) = Open(path, parse.GetValue(from)!);
            var target = KeySetConverter.Read(SecretFiles.ReadKeyFile(parse.GetValue(to)!)).Exchange
                ?? throw new UserInputException($"{parse.GetValue(to)} holds no AT_KEYEXCHANGE key");
            var outputPath = parse.GetValue(output)
                ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + ".rekeyed" + Path.GetExtension(path));
            if (File.Exists(outputPath)) throw new UserInputException($"{outputPath} exists; rekey never overwrites");

            using var targetKey = System.Security.Cryptography.RSA.Create();
            targetKey.ImportParameters(new System.Security.Cryptography.RSAParameters { Modulus = target.Parameters.Modulus, Exponent = target.Parameters.Exponent });
            // Only key-wrapping blobs change: AES providers' sessionKey attributes (the [enc] values stay under the same
            // AES key) and, for RSA providers, the SIMPLEBLOB inside each value (its 3DES cipher text is kept). Every
            // other byte of the file is kept.
            var replacements = new List<TextReplacement>();
            var rekeyed = new List<string>();
            foreach (var p in providers.Where(p => p.SessionKey is not null))
            {
                var oldBlob = Convert.ToBase64String(p.Provider.SessionKeyBlob.Span);
                var newBlob = Convert.ToBase64String(ProtectedConfigCrypto.WrapSessionKey(p.SessionKey, targetKey,
                    p.Provider.UseOaep ?? false, p.Provider.SessionKey!.KeyAlgorithm));
                replacements.Add(new TextReplacement($"sessionKey=\"{oldBlob}\"", $"sessionKey=\"{newBlob}\"", 1));
                rekeyed.Add(p.Provider.Name);
            }
            foreach (var p in providers.Where(p => p.RsaKey is not null))
            {
                var oaep = p.Provider.UseOaep ?? false;
                foreach (var payload in ValuesOf(config, p.Provider.Name).Select(v => v.Ciphertext.ToArray()).DistinctBy(Convert.ToBase64String))
                {
                    var value = RsaProviderValue.Parse(payload);
                    var valueKey = ProtectedConfigCrypto.TryUnwrapRsaValueKey(value, p.RsaKey!.Value, oaep)
                        ?? throw new UserInputException($"provider {p.Provider.Name}: a value does not open with --from; nothing written");
                    var newValue = ProtectedConfigCrypto.RewrapRsaValue(value, valueKey, targetKey, oaep);
                    replacements.Add(new TextReplacement($"[enc:{p.Provider.Name}:{Convert.ToBase64String(payload)}:enc]",
                        $"[enc:{p.Provider.Name}:{Convert.ToBase64String(newValue)}:enc]"));
                }
                rekeyed.Add(p.Provider.Name);
            }
            var skipped = providers.Where(p => p.SessionKey is null && p.RsaKey is null).Select(p => new ConfigSkippedJson(p.Provider.Name, p.Message)).ToList();
            if (rekeyed.Count > 0)
            {
                var edited = ConfigTextEditor.Replace(File.ReadAllBytes(path), replacements, out var problem)
                    ?? throw new UserInputException($"{path}: {problem}; nothing written");
                using var stream = new FileStream(outputPath, FileMode.CreateNew, FileAccess.Write);
                stream.Write(edited);
            }

            if (parse.GetValue(json))
                context.WriteJson(new ConfigRekeyDocument(path, rekeyed.Count > 0 ? outputPath : null, rekeyed, skipped), KeyDoctorJson.Default.ConfigRekeyDocument);
            else
            {
                foreach (var name in rekeyed) context.Output.WriteLine($"{name}: session key re-wrapped for the new key");
                foreach (var s in skipped) context.Output.WriteLine($"{s.Name}: not rekeyed ({s.Reason})");
                context.Output.WriteLine(rekeyed.Count > 0 ? $"written: {outputPath}" : "nothing written");
            }
            return rekeyed.Count > 0 && skipped.Count == 0 ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private static Command CreateVerify(CliContext context)
    {
        var (file, key, json) = (ConfigArgument(), KeyOption(), CommonOptions.Json());
        var command = new Command("verify", "For each provider, say whether the key opens it (AES: its sessionKey; RSA: its values).") { file, key, json };
        command.SetAction(parse =>
        {
            var (config, providers) = Open(parse.GetValue(file)!, parse.GetValue(key)!);
            if (parse.GetValue(json))
                context.WriteJson(new ConfigVerifyDocument(parse.GetValue(file)!, providers.Select(p => new ConfigProviderJson(
                    p.Provider.Name, p.Provider.KeyContainerName, p.Provider.UseOaep ?? false, p.Status, p.Message)).ToList()),
                    KeyDoctorJson.Default.ConfigVerifyDocument);
            else
                foreach (var p in providers) context.Output.WriteLine($"{p.Provider.Name}: {p.Message}");
            return providers.Any(p => p.SessionKey is not null || p.RsaKey is not null) ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private static Command CreateDecrypt(CliContext context)
    {
        var (file, key, json) = (ConfigArgument(), KeyOption(), CommonOptions.Json());
        var reveal = new Option<bool>("--reveal") { Description = "Print the decrypted secrets instead of masking them." };
        var command = new Command("decrypt", "Decrypt every [enc:...:enc] value the key opens; secrets are masked unless --reveal.")
        {
            file, key, reveal, json,
        };
        command.SetAction(parse =>
        {
            var (config, providers) = Open(parse.GetValue(file)!, parse.GetValue(key)!);
            var show = parse.GetValue(reveal);
            var byName = providers.ToDictionary(p => p.Provider.Name, StringComparer.Ordinal);
            var values = config.EncryptedAttributes.Select(attribute =>
            {
                string status, message;
                string? value = null;
                if (attribute.Value is null) (status, message) = ("malformed", attribute.Problem ?? "not an [enc:...:enc] value");
                else if (attribute.Value.IsEmpty) (status, message, value) = ("empty", "empty value", "");
                else if (!byName.TryGetValue(attribute.Value.Provider, out var provider))
                    (status, message) = ("unknown-provider", $"provider {attribute.Value.Provider} is not declared");
                else if (provider.RsaKey is { } rsaKey)
                    (status, message, value) = DecryptRsaValue(provider, rsaKey, attribute.Value.Ciphertext.Span, show);
                else if (provider.SessionKey is null)
                    (status, message) = provider.Status == "not-checked"
                        ? ("not-checked", provider.Message)
                        : ("not-opened", $"this key does not open provider {provider.Provider.Name}");
                else if (ProtectedConfigCrypto.TryDecryptValue(provider.SessionKey, attribute.Value.Ciphertext.Span) is { } secret)
                    (status, message, value) = ("decrypted", "decrypted", show ? secret : Mask);
                else (status, message) = ("undecryptable", "the session key does not decrypt this value");
                return new ConfigValueJson(attribute.ElementPath, attribute.AttributeName, attribute.Line, attribute.Provider, status, message, value);
            }).ToList();
            if (parse.GetValue(json))
                context.WriteJson(new ConfigDecryptDocument(parse.GetValue(file)!, show, values), KeyDoctorJson.Default.ConfigDecryptDocument);
            else
                foreach (var v in values)
                    context.Output.WriteLine($"{v.Element}/@{v.Attribute} (line {v.Line}, {v.Provider}): {v.Value ?? v.Message}");
            return values.All(v => v.Status is "decrypted" or "empty") ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    /// <summary>A provider checked against the key: AES providers keep their unwrapped session key, RSA ones the key that opened them.</summary>
    private sealed record ProviderResult(ProtectedConfigProvider Provider, string Status, string Message, byte[]? SessionKey)
    {
        public System.Security.Cryptography.RSAParameters? RsaKey { get; init; }
    }

    private static IEnumerable<EncryptedConfigValue> ValuesOf(ApplicationHostConfig config, string provider) =>
        config.EncryptedAttributes.Select(a => a.Value).OfType<EncryptedConfigValue>()
            .Where(v => v.Provider == provider && !v.IsEmpty);

    /// <summary>
    /// A native RSA provider has no sessionKey: every value wraps its own key, so the key is checked against the
    /// values themselves. With no value, there is nothing that could say whether the key is the right one.
    /// </summary>
    private static ProviderResult CheckRsaProvider(ProtectedConfigProvider provider, ApplicationHostConfig config, KeySetEntry exchange)
    {
        var values = ValuesOf(config, provider.Name).ToList();
        if (values.Count == 0)
            return new(provider, "not-checked", $"provider {provider.Name} encrypts no value in this file, so there is nothing to check the key against", null);
        int opens = 0, closed = 0, malformed = 0, wrappedBits = 0;
        foreach (var value in values)
        {
            RsaProviderValue parsed;
            try { parsed = RsaProviderValue.Parse(value.Ciphertext.Span); }
            catch (KeyDoctor.Formats.MalformedDataException) { malformed++; continue; }
            wrappedBits = parsed.Header.WrappingKeyBits;
            if (ProtectedConfigCrypto.TryUnwrapRsaValueKey(parsed, exchange.Parameters, provider.UseOaep ?? false) is not null) opens++;
            else closed++;
        }
        if (opens > 0 && closed == 0 && malformed == 0)
            return new(provider, "opens", $"this key opens provider {provider.Name} ({opens} value{(opens == 1 ? "" : "s")})", null) { RsaKey = exchange.Parameters };
        if (opens > 0)
            return new(provider, "partly-opens", $"this key opens {opens} of {values.Count} values of provider {provider.Name}" +
                (malformed > 0 ? $" ({malformed} malformed)" : ""), null) { RsaKey = exchange.Parameters };
        if (closed == 0)
            return new(provider, "malformed", $"no value of provider {provider.Name} is a well-formed RSA provider value", null);
        return new(provider, "does-not-open", $"this key does not open provider {provider.Name}" +
            (wrappedBits != 0 && exchange.KeySizeBits != wrappedBits
                ? $" (key is {exchange.KeySizeBits}-bit, its values were wrapped with a {wrappedBits}-bit key)" : ""), null);
    }

    private static (string Status, string Message, string? Value) DecryptRsaValue(ProviderResult provider,
        System.Security.Cryptography.RSAParameters key, ReadOnlySpan<byte> payload, bool show)
    {
        RsaProviderValue value;
        try { value = RsaProviderValue.Parse(payload); }
        catch (KeyDoctor.Formats.MalformedDataException ex) { return ("malformed", ex.Message, null); }
        if (ProtectedConfigCrypto.TryUnwrapRsaValueKey(value, key, provider.Provider.UseOaep ?? false) is not { } valueKey)
            return ("not-opened", $"this key does not open provider {provider.Provider.Name}", null);
        return ProtectedConfigCrypto.TryDecryptRsaValue(value, valueKey) is { } secret
            ? ("decrypted", "decrypted", show ? secret : Mask)
            : ("undecryptable", $"the value's {value.Header.KeyAlgorithmName} key does not decrypt it", null);
    }

    private static (ApplicationHostConfig Config, List<ProviderResult> Providers) Open(string configPath, string keyPath)
    {
        var keySet = KeySetConverter.Read(SecretFiles.ReadKeyFile(keyPath));
        var exchange = keySet.Exchange ?? throw new UserInputException($"{keyPath} holds no AT_KEYEXCHANGE key");
        if (!exchange.HasPrivateKey) throw new UserInputException($"{keyPath} holds a public key only");
        var config = ApplicationHostConfig.Read(configPath);
        var results = new List<ProviderResult>();
        foreach (var provider in config.Providers)
        {
            if (provider.Kind == ProviderKind.Rsa)
                results.Add(CheckRsaProvider(provider, config, exchange));
            else if (provider.Kind == ProviderKind.Cng)
                results.Add(new(provider, "not-checked", "CNG providers are not checked: how IIS 10 derives the AES-256 key from the " +
                    "persisted CNG key, and what the 32-byte field before the cipher text is, are not pinned down by any specification", null));
            else if (provider.Kind != ProviderKind.Aes)
                results.Add(new(provider, "not-checked", $"{provider.Type} is not a provider KeyDoctor knows the format of", null));
            else if (provider.SessionKey is null)
                results.Add(new(provider, "malformed", provider.SessionKeyProblem ?? "no sessionKey", null));
            else if (ProtectedConfigCrypto.TryUnwrapSessionKey(provider.SessionKeyBlob.Span, exchange.Parameters, provider.UseOaep ?? false) is { } sessionKey)
                results.Add(new(provider, "opens", $"this key opens provider {provider.Name}", sessionKey));
            else
                results.Add(new(provider, "does-not-open", $"this key does not open provider {provider.Name}" +
                    (exchange.KeySizeBits != provider.SessionKey.WrappingKeyBits
                        ? $" (key is {exchange.KeySizeBits}-bit, the sessionKey was wrapped with a {provider.SessionKey.WrappingKeyBits}-bit key)"
                        : ""), null));
        }
        return (config, results);
    }

    private static Argument<string> ConfigArgument() => new("file") { Description = "applicationHost.config (or administration.config, redirection.config)." };

    private static Option<string> KeyOption() => new("--key")
    {
        Description = "The provider's key: aspnet_regiis -px XML, a KeyDoctor key set, PEM, PVK or PFX.",
        Required = true,
    };
}

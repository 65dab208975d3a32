using System.CommandLine;
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
        var output = new Option<string?>("--output", "-o") { Description = "New file; default <file>.rekeyed<ext> beside the old one." };
        var json = CommonOptions.Json();
        var command = new Command("rekey", "Re-wrap every AES provider's session key for another RSA key, writing a new file (never in place).")
        {
            file, from, to, output, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var (_, providers) = Open(path, parse.GetValue(from)!);
            var target = KeySetConverter.Read(KeysCommand.ReadKeyFile(parse.GetValue(to)!)).Exchange
                ?? throw new UserInputException($"{parse.GetValue(to)} holds no AT_KEYEXCHANGE key");
            var outputPath = parse.GetValue(output)
                ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + ".rekeyed" + Path.GetExtension(path));
            if (File.Exists(outputPath)) throw new UserInputException($"{outputPath} exists; rekey never overwrites");

            using var targetKey = System.Security.Cryptography.RSA.Create();
            targetKey.ImportParameters(target.Parameters);
            // Only the sessionKey attribute changes: the [enc] values stay encrypted under the same AES session key,
            // and every other byte of the file is kept.
            var text = File.ReadAllText(path);
            var rekeyed = new List<string>();
            foreach (var p in providers.Where(p => p.SessionKey is not null))
            {
                var oldBlob = Convert.ToBase64String(p.Provider.SessionKeyBlob.Span);
                var newBlob = Convert.ToBase64String(ProtectedConfigCrypto.WrapSessionKey(p.SessionKey, targetKey,
                    p.Provider.UseOaep ?? false, p.Provider.SessionKey!.KeyAlgorithm));
                var attribute = $"sessionKey=\"{oldBlob}\"";
                if (text.Split(attribute).Length != 2) throw new UserInputException($"provider {p.Provider.Name}: its sessionKey is not written exactly once in canonical base64");
                text = text.Replace(attribute, $"sessionKey=\"{newBlob}\"");
                rekeyed.Add(p.Provider.Name);
            }
            var skipped = providers.Where(p => p.SessionKey is null).Select(p => new { name = p.Provider.Name, reason = p.Message }).ToList();
            if (rekeyed.Count > 0) File.WriteAllText(outputPath, text, new System.Text.UTF8Encoding(false));

            if (parse.GetValue(json))
                context.WriteJson(new { file = path, output = rekeyed.Count > 0 ? outputPath : null, rekeyed, skipped });
            else
            {
                foreach (var name in rekeyed) context.Output.WriteLine($"{name}: session key re-wrapped for the new key");
                foreach (var s in skipped) context.Output.WriteLine($"{s.name}: not rekeyed ({s.reason})");
                context.Output.WriteLine(rekeyed.Count > 0 ? $"written: {outputPath}" : "nothing written");
            }
            return rekeyed.Count > 0 && skipped.Count == 0 ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private static Command CreateVerify(CliContext context)
    {
        var (file, key, json) = (ConfigArgument(), KeyOption(), CommonOptions.Json());
        var command = new Command("verify", "For each AES provider, say whether the key opens its sessionKey.") { file, key, json };
        command.SetAction(parse =>
        {
            var (config, providers) = Open(parse.GetValue(file)!, parse.GetValue(key)!);
            if (parse.GetValue(json))
                context.WriteJson(new
                {
                    file = parse.GetValue(file),
                    providers = providers.Select(p => new { name = p.Provider.Name, keyContainerName = p.Provider.KeyContainerName, useOaep = p.Provider.UseOaep ?? false, status = p.Status, message = p.Message }),
                });
            else
                foreach (var p in providers) context.Output.WriteLine($"{p.Provider.Name}: {p.Message}");
            return providers.Any(p => p.SessionKey is not null) ? ExitCodes.Healthy : ExitCodes.Findings;
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
                else if (provider.SessionKey is null) (status, message) = ("not-opened", $"this key does not open provider {provider.Provider.Name}");
                else if (ProtectedConfigCrypto.TryDecryptValue(provider.SessionKey, attribute.Value.Ciphertext.Span) is { } secret)
                    (status, message, value) = ("decrypted", "decrypted", show ? secret : Mask);
                else (status, message) = ("undecryptable", "the session key does not decrypt this value");
                return new { element = attribute.ElementPath, attribute = attribute.AttributeName, line = attribute.Line, provider = attribute.Provider, status, message, value };
            }).ToList();
            if (parse.GetValue(json))
                context.WriteJson(new { file = parse.GetValue(file), revealed = show, values });
            else
                foreach (var v in values)
                    context.Output.WriteLine($"{v.element}/@{v.attribute} (line {v.line}, {v.provider}): {v.value ?? v.message}");
            return values.All(v => v.status is "decrypted" or "empty") ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private sealed record ProviderResult(ProtectedConfigProvider Provider, string Status, string Message, byte[]? SessionKey);

    private static (ApplicationHostConfig Config, List<ProviderResult> Providers) Open(string configPath, string keyPath)
    {
        var keySet = KeySetConverter.Read(KeysCommand.ReadKeyFile(keyPath));
        var exchange = keySet.Exchange ?? throw new UserInputException($"{keyPath} holds no AT_KEYEXCHANGE key");
        if (!exchange.HasPrivateKey) throw new UserInputException($"{keyPath} holds a public key only");
        var config = ApplicationHostConfig.Read(configPath);
        var results = new List<ProviderResult>();
        foreach (var provider in config.Providers)
        {
            if (provider.Kind != ProviderKind.Aes)
                results.Add(new(provider, "not-checked", $"{provider.Kind} providers are not checked yet", null));
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

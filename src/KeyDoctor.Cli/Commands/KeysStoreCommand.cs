using System.CommandLine;
using System.Security.Cryptography;
using KeyDoctor.Cli.Json;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keys export` and `keys import` (Windows): a CryptoAPI machine container to and from one key set file.</summary>
internal static class KeysStoreCommand
{
    public static Command CreateExport(CliContext context)
    {
        var container = new Argument<string>("container") { Description = "CryptoAPI machine key container, e.g. iisWasKey." };
        var output = (new Option<string>("--output", "-o") { Description = "Key set XML to write (owner-only, never overwritten).", Required = true }).InExistingFolder();
        var json = CommonOptions.Json();
        var command = new Command("export", "Windows: export both key numbers of a CryptoAPI machine container to one key set XML.")
        {
            container, output, json,
        };
        command.SetAction(parse =>
        {
            if (!OperatingSystem.IsWindows()) throw new UserInputException("keys export reads the CryptoAPI machine key store: it is for Windows (use keys convert elsewhere)");
            var path = parse.GetValue(output)!;
            if (File.Exists(path)) throw new UserInputException($"{path} exists; KeyDoctor never overwrites a key file");
            KeySet keySet;
            try { keySet = CapiKeySetStore.Export(parse.GetValue(container)!); }
            catch (CryptographicException ex) { throw new UserInputException($"cannot export {parse.GetValue(container)}: {ex.Message}"); }
            OwnerOnlyFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(KeySetXml.Write(keySet)));
            WriteSummary(context, parse.GetValue(json), keySet, path);
            return ExitCodes.Healthy;
        });
        return command;
    }

    public static Command CreateImport(CliContext context)
    {
        var input = new Argument<string>("file") { Description = "Key set XML, aspnet_regiis XML, PEM, PVK or PFX." };
        var container = new Option<string>("--container") { Description = "CryptoAPI machine key container to create or replace.", Required = true };
        var exportable = new Option<bool>("--exportable") { Description = "Import the keys as exportable (default: not exportable)." };
        var replace = new Option<bool>("--replace") { Description = "Replace the container when it exists (only when it is proven bad: the key it holds is lost)." };
        var json = CommonOptions.Json();
        var command = new Command("import", "Windows: import a key set into a new CryptoAPI machine container, both key numbers; an existing container is replaced only with --replace.")
        {
            input, container, exportable, replace, json,
        };
        command.SetAction(parse =>
        {
            if (!OperatingSystem.IsWindows()) throw new UserInputException("keys import writes the CryptoAPI machine key store: it is for Windows");
            var keySet = KeySetConverter.Read(SecretFiles.ReadKeyFile(parse.GetValue(input)!));
            if (keySet.Keys.Any(k => !k.HasPrivateKey)) throw new UserInputException("the key set holds a public key only");
            try { CapiKeySetStore.Import(keySet, parse.GetValue(container)!, parse.GetValue(exportable), parse.GetValue(replace)); }
            catch (Exception ex) when (ex is CryptographicException or InvalidOperationException) { throw new UserInputException($"cannot import into {parse.GetValue(container)}: {ex.Message}"); }
            WriteSummary(context, parse.GetValue(json), keySet, parse.GetValue(container)!);
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static void WriteSummary(CliContext context, bool json, KeySet keySet, string target)
    {
        if (json)
            context.WriteJson(new KeySetSummaryDocument(target, keySet.Keys.Select(k => new KeySetKeyJson(KeySetXml.Name(k.KeyNumber), k.KeySizeBits)).ToList()),
                KeyDoctorJson.Default.KeySetSummaryDocument);
        else
            foreach (var key in keySet.Keys) context.Output.WriteLine($"{KeySetXml.Name(key.KeyNumber)} {key.KeySizeBits}-bit -> {target}");
    }
}

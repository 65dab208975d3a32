using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using KeyDoctor.Cli.Json;
using KeyDoctor.Crypto.KeySets;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keys convert`: RSA keys between aspnet_regiis XML, PEM, PVK and PFX; keys are never printed.</summary>
internal static class KeysConvertCommand
{
    public static Command Create(CliContext context)
    {
        var input = new Argument<string>("input") { Description = "Key file: aspnet_regiis XML, PEM (PKCS#1 or PKCS#8), PVK or PFX." };
        var output = (new Option<string>("--output", "-o") { Description = "File to write (created owner-only; never overwritten).", Required = true }).InExistingFolder();
        var to = new Option<string?>("--to") { Description = "xml, pem (PKCS#1), pkcs8, pvk or pfx; by default from the output extension." };
        var keyNumber = new Option<string>("--key-number")
        {
            Description = "Which key a single-key form holds or takes: exchange (AT_KEYEXCHANGE) or signature (AT_SIGNATURE).",
            DefaultValueFactory = _ => "exchange",
        };
        var cert = new Option<string?>("--cert") { Description = "Certificate (DER or PEM) of the key, required for PFX output." };
        var password = new Option<string?>("--password") { Description = "PFX password (input and output)." };
        var json = CommonOptions.Json();
        var command = new Command("convert", "Convert RSA keys between aspnet_regiis XML, PEM PKCS#1/PKCS#8, PVK and PFX. Keys are never printed.")
        {
            input, output, to, keyNumber, cert, password, json,
        };
        command.SetAction(parse =>
        {
            var inputPath = parse.GetValue(input)!;
            var outputPath = parse.GetValue(output)!;
            var number = parse.GetValue(keyNumber) switch
            {
                "exchange" or "1" or "AT_KEYEXCHANGE" => CapiKeyNumber.Exchange,
                "signature" or "2" or "AT_SIGNATURE" => CapiKeyNumber.Signature,
                var other => throw new UserInputException($"--key-number {other}: use exchange or signature"),
            };
            var format = OutputFormat(parse.GetValue(to), outputPath);
            if (File.Exists(outputPath)) throw new UserInputException($"{outputPath} exists; KeyDoctor never overwrites a key file");
            var pfxPassword = parse.GetValue(password);
            var keySet = KeySetConverter.Read(SecretFiles.ReadKeyFile(inputPath), number, pfxPassword);
            using var certificate = parse.GetValue(cert) is { } certPath ? X509CertificateLoader.LoadCertificateFromFile(certPath) : null;
            byte[] bytes;
            try { bytes = KeySetConverter.Write(keySet, format, number, certificate, pfxPassword); }
            catch (ArgumentException ex) { throw new UserInputException(ex.Message); }
            OwnerOnlyFile.WriteAllBytes(outputPath, bytes);

            var written = format == KeySetFileFormat.Xml ? keySet.Keys : keySet.Keys.Where(k => k.KeyNumber == number).ToList();
            if (parse.GetValue(json))
                context.WriteJson(new KeyConvertDocument(inputPath, outputPath, FormatName(format),
                    written.Select(k => new ConvertedKeyJson(KeySetXml.Name(k.KeyNumber), k.KeySizeBits, k.HasPrivateKey)).ToList()),
                    KeyDoctorJson.Default.KeyConvertDocument);
            else
                foreach (var key in written)
                    context.Output.WriteLine($"{KeySetXml.Name(key.KeyNumber)} {key.KeySizeBits}-bit -> {outputPath} ({FormatName(format)}, owner-only)");
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static KeySetFileFormat OutputFormat(string? to, string outputPath) =>
        (to ?? Path.GetExtension(outputPath).TrimStart('.')).ToLowerInvariant() switch
        {
            "xml" => KeySetFileFormat.Xml,
            "pem" or "pkcs1" or "key" => KeySetFileFormat.Pkcs1Pem,
            "pkcs8" or "p8" => KeySetFileFormat.Pkcs8Pem,
            "pvk" => KeySetFileFormat.Pvk,
            "pfx" or "p12" => KeySetFileFormat.Pfx,
            var other => throw new UserInputException($"output format \"{other}\": use --to xml, pem, pkcs8, pvk or pfx"),
        };

    private static string FormatName(KeySetFileFormat format) => format switch
    {
        KeySetFileFormat.Xml => "xml",
        KeySetFileFormat.Pkcs1Pem => "pem-pkcs1",
        KeySetFileFormat.Pkcs8Pem => "pem-pkcs8",
        KeySetFileFormat.Pvk => "pvk",
        _ => "pfx",
    };
}

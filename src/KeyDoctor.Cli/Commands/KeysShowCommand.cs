using System.CommandLine;
using System.Globalization;
using KeyDoctor.Cli.Json;
using KeyDoctor.Formats.Dpapi;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine.KeyStore;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keys show`: every field of one key file (no private key material is printed).</summary>
internal static class KeysShowCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "One key file, also inside a bundle (web01.zip/ProgramData/Microsoft/Crypto/RSA/MachineKeys/<file>)." };
        var machineGuid = KeysCommand.MachineGuidOption();
        var json = CommonOptions.Json();
        var command = new Command("show", "Every field of one key file (no private key material is printed).") { file, machineGuid, json };
        command.SetAction(parse =>
        {
            var (local, bundle) = BundleInput.Open(context, parse.GetValue(file)!); // a key file inside a bundle
            using var bundleScope = bundle;
            var inspection = KeyFileInspector.InspectFile(local, KeysCommand.ParseGuid(parse.GetValue(machineGuid), "--machine-guid"));
            if (bundle is not null)
                inspection = inspection with { Report = KeyStoreInventory.AsCollected(inspection.Report, bundle) with { Path = context.ShowPath(local) } };
            if (parse.GetValue(json)) context.WriteJson(KeysJson.Show(inspection), KeyDoctorJson.Default.KeyFileJson);
            else ShowText(context, inspection.Report, inspection);
            return inspection.Report.Status == KeyFileStatus.Ok ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private static void ShowText(CliContext context, KeyFileReport r, KeyFileInspection inspection)
    {
        var c = context.Console;
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string name, object? value) => grid.AddRow(new Text(name), new Text(value?.ToString() ?? "-"));
        Row("file", r.Path);
        Row("size", r.Size.ToString(CultureInfo.InvariantCulture));
        Row("created (UTC)", r.CreatedUtc?.ToString("u", CultureInfo.InvariantCulture));
        Row("modified (UTC)", r.ModifiedUtc?.ToString("u", CultureInfo.InvariantCulture));
        Row("kind", r.Kind is { } kind ? KeysJson.KindName(kind) : null);
        Row("container", r.Container);
        if (r.WellKnown is { } known) Row("well-known", $"{known.Name}: {known.UsedBy}");
        Row("status", KeyFileStatusNames.Of(r.Status));
        c.Write(grid);
        foreach (var p in r.Problems) c.WriteLine($"  {p.Name}: {p.Evidence}");

        if (inspection.Capi is { } capi)
        {
            var h = capi.Header;
            Section(c, "CAPI header");
            c.WriteLine($"  version {h.Version}, reserved {h.Reserved}, declared length {h.DeclaredFileLength}, trailing {capi.TrailingLength}");
            c.WriteLine($"  lengths: name {h.NameLength}, hash {h.HashLength}; signature public {h.SignaturePublicKeyLength}, private {h.SignaturePrivateKeyLength}, export flag {h.SignatureExportFlagLength}; exchange public {h.ExchangePublicKeyLength}, private {h.ExchangePrivateKeyLength}, export flag {h.ExchangeExportFlagLength}");
            c.WriteLine($"  name '{capi.Name}' (hashes to {ContainerName.Format(capi.NameDigest)}), hash field {Convert.ToHexStringLower(capi.Hash.Span)}");
            foreach (var pair in capi.KeyPairs)
            {
                Section(c, $"{KeysJson.SpecName(pair.Spec)} key pair");
                foreach (var s in new[] { pair.PublicKeySection, pair.PrivateKeySection, pair.ExportFlagSection })
                    c.WriteLine($"  {s.Part,-16} at 0x{s.Offset:X4}, {s.Length} bytes");
                if (pair.PublicKey is { } k)
                {
                    var info = k.ToPublicKeyInfo();
                    c.WriteLine($"  public key: RSA1, key length {k.KeyLength}, {k.BitLength} bits, data length {k.DataLength}, exponent {k.Exponent}");
                    c.WriteLine($"  modulus: {Convert.ToHexStringLower(k.ModulusBigEndian())}");
                    c.WriteLine($"  SHA-256 of SubjectPublicKeyInfo: {info.Sha256}");
                }
                if (pair.PrivateKey is { } priv) BlobText(c, "private key blob", priv);
                if (pair.ExportFlag is { } flag) BlobText(c, "export flag blob", flag);
            }
            foreach (var e in capi.Errors) c.WriteLine($"  error: {e}");
        }
        if (inspection.Cng is { } cng)
        {
            var h = cng.Header;
            Section(c, "CNG header");
            c.WriteLine($"  version {h.Version}, reserved {h.Reserved}, type {h.Type}, property count {h.PropertyCount}, declared length {h.DeclaredFileLength}, trailing {cng.TrailingLength}");
            c.WriteLine($"  lengths: name {h.NameLength}, public properties {h.PublicPropertiesLength}, private properties {h.PrivatePropertiesLength}, private key {h.PrivateKeyLength}; reserved {Convert.ToHexStringLower(h.Reserved2.Span)}");
            c.WriteLine($"  name '{cng.Name}' (hashes to {ContainerName.Format(cng.NameDigest)})");
            Section(c, "public properties");
            foreach (var p in cng.PublicProperties)
                c.WriteLine($"  at 0x{p.Offset:X4}: type {p.Type}, '{p.Name}' = {KeysJson.PropertyValue(p)}");
            if (cng.PublicKey is { } k)
                c.WriteLine($"  public key: {k.Algorithm}, {k.KeyBits} bits{(k.RsaExponent is { } e ? $", exponent {e}" : "")}, SHA-256 of SubjectPublicKeyInfo {k.Sha256}");
            if (cng.PrivateProperties is { } pp) BlobText(c, "private properties blob", pp);
            if (cng.PrivateKey is { } pk) BlobText(c, "private key blob", pk);
            foreach (var e in cng.Errors) c.WriteLine($"  error: {e}");
        }
    }

    private static void Section(IAnsiConsole console, string title)
    {
        console.WriteLine();
        console.Write(new Rule(Markup.Escape(title)).LeftJustified());
    }

    private static void BlobText(IAnsiConsole c, string title, DpapiBlob b)
    {
        Section(c, $"{title} at 0x{b.BaseOffset:X4} ({b.Length} bytes)");
        c.WriteLine($"  version {b.Version}, provider {b.ProviderGuid:B}, master key version {b.MasterKeyVersion}");
        c.WriteLine($"  master key {b.MasterKeyGuid:D}, flags 0x{(uint)b.Flags:X8} ({b.Flags})");
        c.WriteLine($"  description '{b.Description}'");
        c.WriteLine($"  cipher {b.CryptAlgorithmName} (0x{b.CryptAlgorithm:X4}, {b.CryptAlgorithmBits} bits), hash {b.HashAlgorithmName} (0x{b.HashAlgorithm:X4}, {b.HashAlgorithmBits} bits)");
        c.WriteLine($"  salt {Convert.ToHexStringLower(b.Salt.Span)}");
        c.WriteLine($"  HMAC key {(b.HmacKey.Length == 0 ? "(empty)" : Convert.ToHexStringLower(b.HmacKey.Span))}, HMAC salt {Convert.ToHexStringLower(b.HmacSalt.Span)}");
        c.WriteLine($"  cipher text {b.CipherText.Length} bytes at 0x{b.BaseOffset + b.Layout.CipherTextOffset:X4}, signature {b.Signature.Length} bytes at 0x{b.BaseOffset + b.Layout.SignatureOffset:X4}, signed 0x{b.BaseOffset + b.SignedRange.Start.Value:X4}..0x{b.BaseOffset + b.SignedRange.End.Value:X4}");
    }
}

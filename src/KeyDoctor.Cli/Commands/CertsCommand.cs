using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using KeyDoctor.Cli.Json;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Registry;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor certs list|show`: the certificate stores kept in the registry, read offline.</summary>
public static class CertsCommand
{
    public static Command Create(CliContext context)
    {
        var listSource = new Argument<string>("source") { Description = "An image folder, a bundle (.zip) from 'keydoctor collect', a SOFTWARE or NTUSER.DAT hive, or a .reg export." };
        var listStore = new Option<string?>("--store") { Description = "Only this store (MY, Root, WebHosting, ...)." };
        var listJson = CommonOptions.Json();
        var list = new Command("list", "List the certificates of the registry stores, with their key links.") { listSource, listStore, listJson };
        list.Options.Add(context.MaxBundleSize);
        list.SetAction(parse => List(context, parse.GetValue(listSource)!, parse.GetValue(listStore), parse.GetValue(listJson)));

        var thumbprint = new Argument<string>("thumbprint") { Description = "SHA-1 thumbprint, with or without spaces (\"32 b5 39 8e ...\")." };
        var from = new Option<string>("--from") { Description = "Where to look: an image folder, a bundle (.zip), a SOFTWARE or NTUSER.DAT hive, or a .reg export.", Required = true };
        var showStore = new Option<string?>("--store") { Description = "Only this store." };
        var showJson = CommonOptions.Json();
        var show = new Command("show", "Everything about one certificate, like 'certutil -v -store my <thumbprint>' offline.")
        {
            thumbprint, from, showStore, showJson,
        };
        show.Options.Add(context.MaxBundleSize);
        show.SetAction(parse => Show(context, parse.GetValue(thumbprint)!, parse.GetValue(from)!, parse.GetValue(showStore), parse.GetValue(showJson)));

        return new Command("certs", "Read certificate stores from the registry (SOFTWARE, NTUSER.DAT or a .reg export).") { list, show };
    }

    private static int List(CliContext context, string source, string? store, bool json)
    {
        var (local, bundle) = BundleInput.Open(context, source);
        using var bundleScope = bundle;
        var registry = RegistrySources.OpenMachine(local);
        var machineGuid = registry.MachineGuid;
        var reports = registry.Certificates(store).Select(c => Report(c, machineGuid)).ToList();
        if (json) context.WriteJson(new CertificateListDocument(source, machineGuid, reports), KeyDoctorJson.Default.CertificateListDocument);
        else
        {
            var table = new Table().AddColumns("Store", "Thumbprint", "Subject", "Not after", "Key", "Expected key file");
            foreach (var r in reports)
                table.AddRow(Markup.Escape($"{r.Location}\\{r.Store}"), r.Thumbprint, Markup.Escape(r.Subject ?? "(unreadable)"),
                    r.NotAfter?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                    Markup.Escape(r.Key is null ? "(none)" : $"{r.Key.Container} [{r.Key.KeySpecName}]"),
                    Markup.Escape(r.Key?.ExpectedKeyFileName ?? ""));
            context.Console.Write(table);
            context.Console.WriteLine($"{reports.Count} certificate(s); MachineGuid {machineGuid ?? "unknown (no SOFTWARE hive)"}");
            foreach (var r in reports.Where(r => r.Problems.Count > 0))
                foreach (var p in r.Problems) context.Console.WriteLine(Markup.Escape($"{r.Store}\\{r.Thumbprint}: {p}"));
        }
        foreach (var hive in new[] { registry.Software, registry.System, registry.NtUser }.OfType<IRegistryHive>())
            RegistrySources.ReportProblems(context, hive);
        return reports.Any(r => r.Problems.Count > 0) ? ExitCodes.Findings : ExitCodes.Healthy;
    }

    private static int Show(CliContext context, string thumbprintText, string source, string? store, bool json)
    {
        var wanted = Thumbprint.Normalize(thumbprintText) ?? throw new UserInputException($"\"{thumbprintText}\" is not a SHA-1 thumbprint (40 hex digits)");
        var (local, bundle) = BundleInput.Open(context, source);
        using var bundleScope = bundle;
        var registry = RegistrySources.OpenMachine(local);
        var machineGuid = registry.MachineGuid;
        var matches = registry.Certificates(store).Where(c => c.Thumbprint == wanted || c.Entry?.ComputedSha1 == wanted).ToList();
        if (matches.Count == 0) throw new UserInputException($"no certificate {wanted} in {source}");
        var reports = matches.Select(c => Report(c, machineGuid)).ToList();
        if (json)
        {
            if (reports.Count == 1) context.WriteJson(reports[0], KeyDoctorJson.Default.CertificateReport);
            else context.WriteJson<IReadOnlyList<CertificateReport>>(reports, KeyDoctorJson.Default.IReadOnlyListCertificateReport);
        }
        else
            for (var i = 0; i < matches.Count; i++) WriteCertutilStyle(context.Output, i, matches[i], reports[i], machineGuid);
        // The one certificate asked for cannot be decoded: what could be read is shown above, and the command fails
        // as an input error naming the certificate, its store and where in the entry the damage is.
        if (matches.All(m => m.Entry is { Certificate: null, CertificateError: not null }))
        {
            var damaged = matches[0];
            var at = damaged.Entry!.Find(CertificatePropertyIds.Certificate) is { } property ? $" (property 32 at offset 0x{property.Offset:X} of the entry)" : "";
            throw new UserInputException($"certificate {wanted} in {damaged.Location}\\{damaged.Store} of {source} cannot be decoded{at}: " +
                $"{damaged.Entry.CertificateError}; export the store again from the server, or import the certificate again from its PFX");
        }
        return reports.Any(r => r.Problems.Count > 0) ? ExitCodes.Findings : ExitCodes.Healthy;
    }

    private static void WriteCertutilStyle(TextWriter o, int index, StoredCertificate stored, CertificateReport r, string? machineGuid)
    {
        o.WriteLine($"================ Certificate {index} ================");
        o.WriteLine($"Store: {r.Location}\\{r.Store}");
        o.WriteLine($"Registry key: {r.RegistryPath}");
        var certificate = stored.Entry?.Certificate;
        if (certificate is not null)
        {
            o.WriteLine($"Serial Number: {r.SerialNumber}");
            o.WriteLine($"Issuer: {r.Issuer}");
            o.WriteLine($" NotBefore: {r.NotBefore:yyyy-MM-dd HH:mm:ss}Z");
            o.WriteLine($" NotAfter: {r.NotAfter:yyyy-MM-dd HH:mm:ss}Z");
            o.WriteLine($"Subject: {r.Subject}");
            o.WriteLine($"Signature Algorithm: {certificate.SignatureAlgorithm.FriendlyName ?? certificate.SignatureAlgorithm.Value}");
            o.WriteLine($"Public Key Algorithm: {certificate.PublicKey.Oid.FriendlyName ?? certificate.PublicKey.Oid.Value} ({KeySize(certificate)} bits)");
            foreach (var extension in certificate.Extensions)
                o.WriteLine($"  Extension {extension.Oid?.FriendlyName ?? extension.Oid?.Value}{(extension.Critical ? " (critical)" : "")}: {extension.Format(false)}");
        }
        o.WriteLine($"Cert Hash(sha1): {Spaced(r.Thumbprint)}");
        if (r.Sha256 is not null) o.WriteLine($"Cert Hash(sha256): {Spaced(r.Sha256)}");
        if (r.FriendlyName is not null) o.WriteLine($"Friendly Name: {r.FriendlyName}");
        if (r.Key is { } key)
        {
            o.WriteLine($"  Key Container = {key.Container}");
            o.WriteLine($"  Provider = {key.Provider}");
            o.WriteLine($"  Provider Type = {key.ProviderType} ({key.ProviderTypeName})");
            o.WriteLine($"  Flags = 0x{key.Flags:x}{(key.MachineKey ? " (machine key set)" : "")}");
            o.WriteLine($"  KeySpec = {key.KeySpec} ({key.KeySpecName})");
            o.WriteLine($"  Expected key file = {key.ExpectedKeyFileDirectory}\\{key.ExpectedKeyFileName}{(machineGuid is null ? " (MachineGuid unknown)" : "")}");
        }
        else o.WriteLine("No key provider information (no private key link)");
        o.WriteLine("Properties:");
        foreach (var p in r.Properties) o.WriteLine($"  {p.Name}({p.Id}), {p.Length} bytes: {p.Text ?? p.Hex}");
        foreach (var problem in r.Problems) o.WriteLine($"Problem: {problem}");
        o.WriteLine();
    }

    private static CertificateReport Report(StoredCertificate stored, string? machineGuid)
    {
        var entry = stored.Entry;
        var certificate = entry?.Certificate;
        CertificateKeyReport? key = null;
        if (entry?.KeyProviderInfo is { } info)
        {
            var file = info.ExpectedKeyFile(machineGuid);
            key = new CertificateKeyReport(info.ContainerName, info.ProviderName, info.ProviderType, info.ProviderTypeName, info.Flags,
                info.IsMachineKey, info.KeySpec, info.KeySpecName, file.FileName, file.Directory);
        }
        var properties = entry?.Properties.Select(p => new CertificatePropertyReport(p.Id, p.Name, p.Value.Length, PropertyText(p),
            PropertyText(p) is null && p.Id != CertificatePropertyIds.Certificate ? Convert.ToHexStringLower(p.Value) : null)).ToList() ?? [];
        return new CertificateReport(stored.Location, stored.Store, stored.Thumbprint, stored.RegistryPath,
            certificate?.Subject, certificate?.Issuer, certificate?.SerialNumber, certificate?.NotBefore.ToUniversalTime(),
            certificate?.NotAfter.ToUniversalTime(), entry?.ComputedSha256, entry?.FriendlyName, key, properties, stored.Problems);
    }

    private static string? PropertyText(CertificateProperty p) => p.Id switch
    {
        CertificatePropertyIds.FriendlyName or CertificatePropertyIds.Description => SerializedUtf16(p.Value),
        CertificatePropertyIds.Certificate => $"(encoded certificate)",
        CertificatePropertyIds.KeyProviderInfo => "(key provider information, see above)",
        CertificatePropertyIds.KeySpec when p.Value.Length == 4 => BitConverter.ToUInt32(p.Value).ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private static string SerializedUtf16(byte[] value)
    {
        var text = System.Text.Encoding.Unicode.GetString(value, 0, value.Length & ~1);
        var nul = text.IndexOf('\0');
        return nul >= 0 ? text[..nul] : text;
    }

    private static int KeySize(X509Certificate2 certificate) =>
        certificate.GetRSAPublicKey()?.KeySize ?? certificate.GetECDsaPublicKey()?.KeySize ?? certificate.GetDSAPublicKey()?.KeySize ?? 0;

    private static string Spaced(string hex) =>
        string.Join(' ', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2).ToLowerInvariant()));
}

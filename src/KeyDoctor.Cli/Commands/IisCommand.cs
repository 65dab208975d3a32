using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Iis;
using KeyDoctor.Machine;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor iis`: the IIS side of the SSL chain (sites, bindings, HTTP.sys keys, legacy customMetadata hashes),
/// the protected-configuration providers and their key containers, encrypted values, and the IIS 6 metabase.
/// </summary>
public static class IisCommand
{
    public static Command Create(CliContext context)
    {
        var input = new Argument<string>("path")
        {
            Description = "An image root (a copy of the system drive), a bundle (.zip) from 'keydoctor collect', or one " +
                          "applicationHost.config, administration.config, redirection.config or MetaBase.xml.",
        };
        var json = CommonOptions.Json();
        var command = new Command("iis", "Show IIS sites, SSL bindings, protected-configuration keys and metabase secrets, and what is wrong with them.")
        {
            input, json,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(input)!;
            IisReport report;
            var (local, bundle) = BundleInput.Open(context, path);
            using var bundleScope = bundle;
            if (Directory.Exists(local))
            {
                if (bundle is null) MachineSource.RequireSystemDrive(local);
                report = IisInspector.InspectImage(local, OpenMachineLookup(context, local));
            }
            else if (File.Exists(local)) report = IisInspector.InspectFile(local);
            else throw new UserInputException($"there is no file or folder {path}: give an image root or one IIS configuration file.");

            if (parse.GetValue(json)) context.WriteJson(report, KeyDoctorJson.Default.IisReport);
            else Print(context, report);
            return report.NeedsAttention() ? ExitCodes.Findings : ExitCodes.Healthy;
        });
        return command;
    }

    /// <summary>
    /// The registry half of the SSL chain. A damaged hive must not hide what the configuration files show: the
    /// report then falls back to the key folders alone, and stderr says why.
    /// </summary>
    private static IIisMachineLookup? OpenMachineLookup(CliContext context, string imageRoot)
    {
        try
        {
            return RegistryMachineLookup.ForImage(imageRoot);
        }
        catch (Exception ex) when (ex is KeyDoctor.Formats.MalformedDataException or IOException)
        {
            context.Error.WriteLine(context.ShowPathsIn($"keydoctor: registry not used ({ex.Message}); HTTP.sys bindings and certificates are not looked up"));
            return null;
        }
    }

    private static void Print(CliContext context, IisReport report)
    {
        var console = context.Console;
        void Line(string text) => console.MarkupLine(context.ShowPathsIn(text, Markup.Escape));
        string E(object? value) => Markup.Escape(value?.ToString() ?? "");

        Line($"[bold]IIS configuration[/] of {E(report.Input)} ({E(report.InputKind)}; machine lookup: {E(report.Lookup)})");
        foreach (var file in report.Files)
            Line($"  {E(file.Kind),-24} {E(file.Status),-10} {E(file.Path)}{(file.Problem is null ? "" : " - " + E(file.Problem))}");
        if (report.Files.Count == 0) Line("  no IIS configuration files found");

        if (report.SharedConfiguration is { } shared)
        {
            Line("");
            Line($"[bold]Shared configuration[/]: {(shared.Enabled ? "on" : "off")}" +
                 (shared.ConfiguredPath is null ? "" : $", path {E(shared.ConfiguredPath)}") +
                 (shared.UserName is null ? "" : $", user {E(shared.UserName)}") +
                 $", password {E(shared.PasswordStorage)}{(shared.PasswordProvider is null ? "" : " with " + E(shared.PasswordProvider))}");
            if (shared.LocalDirectory is not null) Line($"  read from {E(shared.LocalDirectory)}");
        }

        if (report.Sites.Count > 0)
        {
            Line("");
            Line("[bold]Sites[/]");
            foreach (var site in report.Sites)
            {
                Line($"  {E(site.Id)} {E(site.Name)}");
                foreach (var binding in site.Bindings)
                {
                    var flags = binding.SslFlagNames is null ? "" : $"  sslFlags {binding.SslFlags} ({E(string.Join(", ", binding.SslFlagNames))})";
                    Line($"    {E(binding.Protocol),-6} {E(binding.BindingInformation)}{flags}");
                    if (binding.Ssl is { } ssl) PrintChain(ssl);
                }
            }
        }

        void PrintChain(IisSslChainView ssl)
        {
            var httpSys = ssl.HttpSysBinding is { } b
                ? $"certificate {E(b.CertificateThumbprint)} in {E(b.CertificateStoreName ?? "MY")}"
                : report.HttpSysChecked ? "[red]missing[/]" : "not looked up";
            Line($"           → HTTP.sys {E(ssl.HttpSysKind)} {E(ssl.HttpSysKey)}: {httpSys}");
            if (ssl.Certificate is { } c)
                Line($"           → certificate {E(c.Subject)}, expires {c.NotAfter:yyyy-MM-dd}, key {(c.HasKeyLink ? E(c.KeyContainerName) : "[red]not linked[/]")}");
            if (ssl.KeyFile is { } k)
                Line($"           → key file {E(k.ExpectedFileName ?? k.Prefix + "_*")}: {E(KeyFileText(k))}");
            if (ssl.LegacyCertificateHash is not null)
                Line($"           [yellow]legacy customMetadata 5506[/] {E(ssl.LegacyCertificateHash)}");
        }

        if (report.LegacySslMetadata.Count > 0)
        {
            Line("");
            Line("[bold]customMetadata SSL properties[/] (IIS 6 compatibility)");
            foreach (var m in report.LegacySslMetadata)
                Line($"  {E(m.Path)}  {m.Id} {E(m.Name)} ({E(m.DataType)}) {(m.Secure ? "(secure, not shown)" : E(m.Value))}");
        }

        if (report.Providers.Count > 0)
        {
            Line("");
            Line("[bold]Protected-configuration providers[/]");
            foreach (var p in report.Providers)
            {
                var session = p.SessionKey is { } s
                    ? $", sessionKey {E(s.KeyAlgorithm)} wrapped by {s.WrappingKeyBits}-bit RSA"
                    : p.SessionKeyProblem is null ? "" : $", [red]sessionKey: {E(p.SessionKeyProblem)}[/]";
                Line($"  {E(p.Name)} ({E(p.Kind)}): container {E(p.KeyContainerName ?? "-")}" +
                     (p.KeyStore is null ? "" : $" in {E(p.KeyStore)}") + session + $", {p.EncryptedValues} encrypted value(s)");
                if (p.ExpectedKeyFilePrefix is not null)
                    Line($"      key file {E(p.ExpectedKeyFilePrefix)}_{E(report.MachineGuid ?? "<MachineGuid>")}" +
                         (p.KeyFile is null ? "" : ": " + E(KeyFileText(p.KeyFile))));
            }
        }

        if (report.EncryptedValues.Count > 0)
        {
            Line("");
            Line("[bold]Encrypted values[/] (never decrypted here)");
            foreach (var v in report.EncryptedValues)
                Line($"  {E(v.ElementPath)}/@{E(v.Attribute)} (line {v.Line}): " +
                     (v.Problem is null ? $"{E(v.Provider)}, {v.CiphertextLength} bytes" : $"[red]{E(v.Problem)}[/]"));
        }

        if (report.Metabase is { } mb)
        {
            Line("");
            Line($"[bold]IIS 6 metabase[/] {E(mb.Path)} (change {E(mb.ChangeNumber)}, history version {E(mb.HistoryMajorVersion)})");
            var key = mb.SessionKey;
            Line($"  SessionKey: {E(key.Status)}" + (key.KeyAlgorithm is null ? "" : $", {E(key.KeyAlgorithm)} wrapped by {key.WrappingKeyBits}-bit RSA, {key.SignedHashLength}-byte signed hash") +
                 (key.Problem is null ? "" : $" - {E(key.Problem)}"));
            Line($"  container '{E(mb.KeyContainerName)}', key file {E(mb.ExpectedKeyFilePrefix)}_{E(report.MachineGuid ?? "<MachineGuid>")}" +
                 (mb.KeyFile is null ? "" : ": " + E(KeyFileText(mb.KeyFile))));
            foreach (var site in mb.Sites)
                Line($"  {E(site.Location)} {E(site.ServerComment)}: bindings {E(string.Join(" ", site.ServerBindings))}" +
                     (site.SecureBindings.Count == 0 ? "" : $", secure {E(string.Join(" ", site.SecureBindings))}") +
                     (site.SslCertHash is null ? "" : $", SSLCertHash {E(site.SslCertHash)} in {E(site.SslStoreName ?? "MY")}"));
            foreach (var property in mb.SecureProperties)
                Line($"  secure {E(property.Name)} at {E(property.Location)}: {E(property.Status)}" +
                     (property.EncryptedDataLength is null ? "" : $", {property.EncryptedDataLength} bytes") +
                     (property.Problem is null ? "" : $" - {E(property.Problem)}"));
            if (mb.History is { } history)
                Line($"  history: {history.Copies} copies, last good {E(history.LastGood is null ? "none" : Path.GetFileName(history.LastGood))}");
            if (mb.Backups is { Count: > 0 } backups)
                Line($"  backups: {E(string.Join(", ", backups.Select(b => $"{b.Name} v{b.Version}")))}");
        }

        Line("");
        if (report.Findings.Count == 0)
        {
            Line("[green]No findings.[/]");
            return;
        }
        Line($"[bold]Findings[/] ({report.Findings.Count})");
        foreach (var f in report.Findings)
        {
            var colour = f.Severity switch { Severity.Critical or Severity.Error => "red", Severity.Warning => "yellow", _ => "grey" };
            Line($"  [{colour}]{E(f.Severity).ToLowerInvariant()}[/] [bold]{E(f.Id)}[/] {E(f.Title)}");
            Line($"      {E(f.Message)}");
            foreach (var evidence in f.Evidence)
                Line($"      [grey]evidence:[/] {E(FindingOutput.DescribeEvidence(evidence))}");
        }
        Line("[grey]Each id is explained, with its fix, in docs/findings/<id>.md (one catalogue with 'keydoctor scan': the same problem has the same id in both).[/]");
    }

    private static string KeyFileText(KeyFileStatus status) =>
        status.Exists switch
        {
            true => "present",
            false => status.MatchingFiles.Count == 0 ? "missing" : $"missing (other GUIDs: {string.Join(", ", status.MatchingFiles)})",
            null => status.MatchingFiles.Count == 0
                ? "no file with this prefix" + (status.Problem is null ? "" : $" ({status.Problem})")
                : $"found {string.Join(", ", status.MatchingFiles)} (MachineGuid not known)",
        };
}

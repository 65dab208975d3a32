using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Cli.Json;
using KeyDoctor.Formats;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Recovery;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor recover`: rebuilds private keys from an offline image or bundle (DPAPI_SYSTEM from the hives, system
/// master keys, CAPI/CNG key files; user keys with a password) and writes them as PFX files (with their certificate)
/// or aspnet_regiis-style XML (containers without a certificate), owner-only, plus a report without key material.
/// </summary>
public static class RecoverCommand
{
    public const string ReportFileName = "recovery-report.json";
    public const string TextReportFileName = "recovery-report.txt";

    public static Command Create(CliContext context)
    {
        var source = new Argument<string>("source") { Description = "Image folder (a copied system drive) or bundle (.zip or extracted folder)." };
        var container = new Option<string?>("--container") { Description = "Recover only this container (CAPI) or key (CNG) name." };
        var thumbprint = new Option<string?>("--thumbprint") { Description = "Recover only the key of the certificate with this thumbprint." };
        var all = new Option<bool>("--all") { Description = "Recover every key that can be recovered." };
        var output = new Option<string>("--output", "-o") { Description = "Folder for the PFX/XML files and the report (created owner-only).", Required = true };
        var passwordFile = new Option<string?>("--password-file") { Description = "File whose first line is the password protecting the PFX files. Without it the password is asked on the terminal." };
        var userSid = new Option<string?>("--user-sid") { Description = "Also recover this user's keys (needs --user-password-file or --user-hash-file)." };
        var userPasswordFile = new Option<string?>("--user-password-file") { Description = "File whose first line is the user's Windows password (local and domain accounts: every pre-key form is tried)." };
        var userHashFile = new Option<string?>("--user-hash-file") { Description = "File holding the user's SHA-1 password hash (20 bytes, local account) or NT hash (16 bytes, domain account; both domain pre-key forms are tried), in hex." };
        var domainBackupKey = new Option<string?>("--domain-backup-key") { Description = "The domain's DPAPI backup key (.pvk from mimikatz lsadump::backupkeys or SharpDPAPI backupkey, its base64, or Nemesis JSON): opens every domain user's master keys." };
        var json = CommonOptions.Json();
        var command = new Command("recover", "Recover private keys (also non-exportable ones) from an offline image or bundle, with their certificates. " +
            "Say which with exactly one of --container, --thumbprint or --all.\n\n" +
            "Typical use:\n" +
            "  keydoctor recover /mnt/web01 --thumbprint 3A7F... -o keys --password-file pfx.txt   one site's certificate and key as a PFX\n" +
            "  keydoctor recover web01.zip --container \"Microsoft Internet Information Server\" -o keys   the IIS 6 key set as XML")
        {
            source, container, thumbprint, all, output, passwordFile, userSid, userPasswordFile, userHashFile, domainBackupKey, json,
        };
        command.Options.Add(context.MaxBundleSize);
        command.SetAction(parse =>
        {
            var selections = new[] { parse.GetValue(container) is not null, parse.GetValue(thumbprint) is not null, parse.GetValue(all) }.Count(x => x);
            if (selections != 1) throw new UserInputException("say what to recover: exactly one of --container NAME, --thumbprint T or --all");
            var selection = new RecoverySelection(parse.GetValue(container), parse.GetValue(thumbprint));
            var user = ReadUserCredential(parse.GetValue(userSid), parse.GetValue(userPasswordFile), parse.GetValue(userHashFile));
            var domainKey = parse.GetValue(domainBackupKey) is { } keyFile ? ReadDomainBackupKey(keyFile) : null;
            var outputFolder = parse.GetValue(output)!;
            var pfxPassword = parse.GetValue(passwordFile) is { } file ? SecretFiles.ReadFirstLine(file, "--password-file") : AskPassword(context);

            using var machine = MachineSource.Open(parse.GetValue(source)!);
            var result = KeyRecovery.Recover(machine, selection, user, domainKey);
            CreatePrivateFolder(outputFolder);

            var written = new Dictionary<RecoveredKey, List<string>>();
            foreach (var key in result.Keys.Where(k => k.Recovered))
                written[key] = WriteKey(outputFolder, key, pfxPassword);

            var document = ToDocument(machine.Description, outputFolder, result, written, domainKey);
            WritePrivateFile(Path.Combine(outputFolder, ReportFileName), JsonOutput.ToUtf8(document, KeyDoctorJson.Default.RecoverDocument));
            var text = RenderText(document);
            WritePrivateFile(Path.Combine(outputFolder, TextReportFileName), Encoding.UTF8.GetBytes(text));
            if (parse.GetValue(json)) context.WriteJson(document, KeyDoctorJson.Default.RecoverDocument);
            else context.Output.Write(text);

            if (result.Keys.Count == 0 && context.Interactive)
                context.ErrorConsole.MarkupLine("[yellow]No key file matched the selection.[/]");
            // A damaged file is an input error, not a finding: the keys that could be recovered are written, and the
            // run ends with exit 2 naming each damaged file (its offset and reason are in the failure above).
            var damaged = result.Keys.Where(k => !k.Recovered && k.DamagedFile is not null).Select(k => k.DamagedFile!)
                .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
            if (damaged.Count > 0)
                throw new UserInputException($"{damaged.Count} file(s) needed for recovery are damaged: {string.Join(", ", damaged)}; " +
                    $"restore them from a backup copy of the server and run recover again (the keys that could be recovered are in {outputFolder})");
            return document.Failed == 0 && document.Recovered > 0 ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }

    private static UserCredential? ReadUserCredential(string? sid, string? passwordFile, string? hashFile)
    {
        if (sid is null)
        {
            if (passwordFile is not null || hashFile is not null) throw new UserInputException("--user-password-file and --user-hash-file need --user-sid");
            return null;
        }
        if (!sid.StartsWith("S-1-", StringComparison.OrdinalIgnoreCase)) throw new UserInputException($"--user-sid '{sid}' is not a SID (S-1-5-21-...)");
        if ((passwordFile is null) == (hashFile is null)) throw new UserInputException("--user-sid needs exactly one of --user-password-file or --user-hash-file");
        if (passwordFile is not null) return UserCredential.FromPassword(sid, SecretFiles.ReadFirstLine(passwordFile, "--user-password-file"));
        var hex = SecretFiles.ReadFirstLine(hashFile!, "--user-hash-file").Trim();
        byte[] hash;
        try { hash = Convert.FromHexString(hex); }
        catch (FormatException) { throw new UserInputException("--user-hash-file does not hold a hex hash"); }
        if (hash.Length is not (16 or 20)) throw new UserInputException($"--user-hash-file holds {hash.Length} bytes; expected 20 (SHA-1) or 16 (NT hash)");
        return UserCredential.FromHash(sid, hash);
    }

    private static DomainBackupKey ReadDomainBackupKey(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new UserInputException($"--domain-backup-key: no such file {path}");
        if (info.Length > DomainBackupKey.MaxFileLength) throw new UserInputException($"--domain-backup-key: {path} is too large for a backup key");
        byte[] content;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            content = new byte[stream.Length];
            stream.ReadExactly(content);
        }
        try
        {
            return DomainBackupKey.Read(content, path);
        }
        catch (MalformedDataException e)
        {
            throw new UserInputException($"--domain-backup-key: {path}: {e.Message}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    private static string AskPassword(CliContext context)
    {
        if (Console.IsInputRedirected || !context.Interactive)
            throw new UserInputException("no terminal to ask the PFX password on: give --password-file FILE");
        string Read(string prompt)
        {
            context.Error.Write(prompt);
            var text = new StringBuilder();
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter) break;
                if (key.Key == ConsoleKey.Backspace) { if (text.Length > 0) text.Length--; continue; }
                if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
            }
            context.Error.WriteLine();
            return text.ToString();
        }
        var first = Read("Password for the PFX files: ");
        if (first.Length == 0) throw new UserInputException("the PFX password must not be empty");
        if (Read("Again: ") != first) throw new UserInputException("the two passwords differ");
        return first;
    }

    private static List<string> WriteKey(string folder, RecoveredKey key, string password)
    {
        var files = new List<string>();
        var baseName = SafeName(key.Container ?? Path.GetFileName(key.Path)) + (key.Spec == KeySpec.Signature ? "_signature" : "");
        using var algorithm = key.Key!.CreateAlgorithm()!;
        foreach (var stored in key.Certificates)
        {
            if (stored.Entry?.Certificate is not { } certificate) continue;
            using var withKey = algorithm switch
            {
                RSA rsa => certificate.CopyWithPrivateKey(rsa),
                ECDsa ecdsa => certificate.CopyWithPrivateKey(ecdsa),
                _ => throw new InvalidOperationException("unexpected key type"),
            };
            var name = $"{baseName}_{stored.Thumbprint}.pfx";
            WritePrivateFile(Path.Combine(folder, name), withKey.Export(X509ContentType.Pkcs12, password));
            files.Add(name);
        }
        if (files.Count > 0) return files;
        if (algorithm is RSA rsaKey)
        {
            // aspnet_regiis -px ... -pri writes this RSAKeyValue form; -pi imports it back into a container.
            var xml = rsaKey.ToXmlString(includePrivateParameters: true);
            WritePrivateFile(Path.Combine(folder, baseName + ".xml"), Encoding.UTF8.GetBytes(xml));
            files.Add(baseName + ".xml");
        }
        else
        {
            var pem = algorithm.ExportEncryptedPkcs8PrivateKeyPem(password.AsSpan(),
                new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000));
            WritePrivateFile(Path.Combine(folder, baseName + ".p8.pem"), Encoding.ASCII.GetBytes(pem));
            files.Add(baseName + ".p8.pem");
        }
        return files;
    }

    private static string SafeName(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name) builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        var result = builder.ToString().TrimStart('.');
        return result.Length == 0 ? "key" : result.Length > 100 ? result[..100] : result;
    }

    private static void CreatePrivateFolder(string folder)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
        else Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Owner-only (0600) and never over an existing file: a PFX from an earlier run is evidence too.</summary>
    internal static void WritePrivateFile(string path, byte[] data)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(data);
    }

    private static RecoverDocument ToDocument(string source, string folder, RecoveryResult result, Dictionary<RecoveredKey, List<string>> written,
                                              DomainBackupKey? domainKey)
    {
        var keys = result.Keys.Select(k => new RecoveredKeyJson(
            k.Path, k.Kind == KeyProviderKind.Capi ? "capi" : "cng", k.Container,
            k.Spec switch { KeySpec.KeyExchange => "AT_KEYEXCHANGE", KeySpec.Signature => "AT_SIGNATURE", _ => null },
            k.Algorithm, k.KeyBits, k.PublicKeySha256, k.MasterKeyGuid?.ToString("D"), k.MasterKeyOpenedWith, k.MarkedExportable,
            k.Certificates.Select(c => new RecoverCertificateJson(c.Thumbprint, c.Location, c.Store, c.Entry?.Certificate?.Subject)).ToList(),
            k.Recovered, k.Failure, written.GetValueOrDefault(k) ?? [])).ToList();
        return new RecoverDocument(
            source, Path.GetFullPath(folder),
            new RecoverSystemSecretJson(result.HasSystemSecret, result.SystemSecretFailure),
            domainKey is null ? null : new RecoverDomainBackupKeyJson(domainKey.Guid?.ToString("D"), domainKey.KeySizeBits),
            keys.Count(k => k.Recovered), keys.Count(k => !k.Recovered), keys,
            result.MasterKeys.Select(m => new RecoverMasterKeyJson(m.Guid.ToString("D"), m.Path, m.OpenedWith, m.Failure)).ToList(),
            result.CertificatesWithoutKey.Select(c => new RecoverCertificateJson(c.Thumbprint, c.Location, c.Store, c.Entry?.Certificate?.Subject)).ToList());
    }

    private static string RenderText(RecoverDocument d)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"Source: {d.Source}");
        s.AppendLine(CultureInfo.InvariantCulture, $"Output: {d.OutputDirectory}");
        s.AppendLine(d.SystemSecret.Available ? "DPAPI_SYSTEM: read from SYSTEM + SECURITY" : $"DPAPI_SYSTEM: not available: {d.SystemSecret.Failure}");
        if (d.DomainBackupKey is { } backup)
            s.AppendLine(CultureInfo.InvariantCulture, $"Domain backup key: {backup.Guid ?? "GUID unknown"} (RSA {backup.KeyBits} bits)");
        s.AppendLine(CultureInfo.InvariantCulture, $"Keys: {d.Recovered} recovered, {d.Failed} failed");
        foreach (var k in d.Keys)
        {
            s.AppendLine();
            s.AppendLine(CultureInfo.InvariantCulture, $"{(k.Recovered ? "RECOVERED" : "FAILED   ")} {k.Container ?? "(no name)"} [{k.Kind}{(k.KeySpec is null ? "" : " " + k.KeySpec)}] {k.Algorithm} {k.KeyBits}");
            s.AppendLine(CultureInfo.InvariantCulture, $"  file: {k.Path}");
            if (k.MasterKey is not null) s.AppendLine(CultureInfo.InvariantCulture, $"  master key: {k.MasterKey}{(k.MasterKeyOpenedWith is null ? "" : " (" + k.MasterKeyOpenedWith + ")")}");
            if (k.MarkedExportable is { } exportable) s.AppendLine(CultureInfo.InvariantCulture, $"  marked exportable: {(exportable ? "yes" : "no")}");
            foreach (var c in k.Certificates) s.AppendLine(CultureInfo.InvariantCulture, $"  certificate: {c.Thumbprint} {c.Subject} ({c.Location}\\{c.Store})");
            foreach (var f in k.Files) s.AppendLine(CultureInfo.InvariantCulture, $"  written: {f}");
            if (k.Failure is not null) s.AppendLine(CultureInfo.InvariantCulture, $"  why: {k.Failure}");
        }
        foreach (var c in d.CertificatesWithoutKey)
            s.AppendLine(CultureInfo.InvariantCulture, $"\nFAILED    certificate {c.Thumbprint} {c.Subject}: no key file with its public key");
        return s.ToString();
    }
}

using System.Globalization;
using System.Text;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Commands;

/// <summary>
/// The commands fixes and repair steps are made of, built in one place so a finding's fix in <c>scan</c> and the
/// plan's step for it are the same commands. Native programs (reg, netsh, certutil, icacls) and keydoctor's own
/// verbs only: both shells run the same programs.
/// </summary>
public static class FixCommands
{
    public const string MachineGuidKey = @"HKLM\SOFTWARE\Microsoft\Cryptography";

    /// <summary>A path relative to the system drive as the shells spell it: under %ProgramData%, %windir%, or %SystemDrive%.</summary>
    public static CommandArg MachinePath(string windowsPath)
    {
        var path = WindowsPaths.Normalize(windowsPath);
        if (StartsWithFolder(path, "ProgramData")) return CommandArg.Path(ArgToken.ProgramData, path["ProgramData".Length..]);
        if (StartsWithFolder(path, "Windows")) return CommandArg.Path(ArgToken.WinDir, path["Windows".Length..]);
        return CommandArg.Path(ArgToken.SystemDrive, path);
    }

    private static bool StartsWithFolder(string path, string folder) =>
        path.StartsWith(folder, StringComparison.OrdinalIgnoreCase) && (path.Length == folder.Length || path[folder.Length] == '\\');

    public static ShellCommand KeyDoctor(params CommandArg[] arguments) => new("keydoctor", arguments);

    // --- KD1001: the MachineGuid

    public static ShellCommand SetMachineGuid(string guid) =>
        ShellCommand.Run("reg", "add", MachineGuidKey, "/v", "MachineGuid", "/t", "REG_SZ", "/d", guid, "/f");

    /// <summary>KD1001: the used key files made since the change copied to the original GUID's name, then the GUID put back.</summary>
    public static IReadOnlyList<ShellCommand> PutBackMachineGuid(Scan.GuidCarryForward carry) =>
        [.. carry.Copies.Select(c => CopyKeyFile(MachinePath(c.Path), c.Target)), SetMachineGuid(carry.Original)];

    // --- key files

    /// <summary>
    /// Copies a key file and checks the copy by SHA-256 (<c>keydoctor repair copy-file</c>): the target must not
    /// exist, unless it is proven bad (its SHA-256 is <paramref name="replaceSha256"/>, or <paramref name="replaceDamaged"/>
    /// and it does not parse as a key file).
    /// </summary>
    public static ShellCommand CopyKeyFile(CommandArg source, string targetPath, string? sha256 = null, bool fromSnapshot = false,
                                           string? replaceSha256 = null, bool replaceDamaged = false)
    {
        var arguments = new List<CommandArg> { "repair", "copy-file", source, MachinePath(targetPath) };
        if (fromSnapshot) arguments.AddRange(["--snapshot", CommandArg.Of(new TokenPart(ArgToken.Snapshot))]);
        if (sha256 is not null) arguments.AddRange(["--sha256", sha256]);
        if (replaceSha256 is not null) arguments.AddRange(["--replace-sha256", replaceSha256]);
        if (replaceDamaged) arguments.Add("--replace-damaged");
        return KeyDoctor([.. arguments]);
    }

    public static RequiredInput KeyFileInput(string fileName) =>
        new($"keyfile-{fileName}", $"copy of {fileName} from a backup of this server", InputKind.File);

    // --- key sets (KD1002, KD3001)

    public static RequiredInput KeySetInput(string container) =>
        new($"keyset-{InputName(container)}", $"key set of {container} from a backup of this server", InputKind.File);

    /// <summary>Checks a key set against MetaBase.xml before anything is imported: both halves must open its SessionKey.</summary>
    public static ShellCommand VerifyMetabaseKey(RequiredInput keySet) =>
        KeyDoctor("metabase", "verify", "--key", CommandArg.Input(keySet.Name), MachinePath(WindowsPaths.Metabase));

    /// <summary>Checks a key set against applicationHost.config before anything is imported.</summary>
    public static ShellCommand VerifyConfigKey(RequiredInput keySet) =>
        KeyDoctor("config", "verify", "--key", CommandArg.Input(keySet.Name), MachinePath(WindowsPaths.ApplicationHostConfig));

    /// <summary>Imports a key set into a new container; <paramref name="replace"/> only for a container proven bad.</summary>
    public static ShellCommand ImportKeySet(RequiredInput keySet, string container, bool replace = false) =>
        replace ? KeyDoctor("keys", "import", CommandArg.Input(keySet.Name), "--container", container, "--replace")
                : KeyDoctor("keys", "import", CommandArg.Input(keySet.Name), "--container", container);

    // --- certificates

    public static RequiredInput PfxInput(string thumbprint) => new($"pfx-{thumbprint}", $"PFX file for {thumbprint}", InputKind.File);

    /// <summary>certutil imports the PFX into a new container as AT_KEYEXCHANGE; it asks for the password (never on the command line).</summary>
    public static ShellCommand ImportPfx(string store, RequiredInput pfx) =>
        ShellCommand.Run("certutil", "-f", "-importpfx", store, CommandArg.Input(pfx.Name), "AT_KEYEXCHANGE") with { AsksForPassword = true };

    /// <summary>Where a certificate is written as a .cer file by <see cref="ExportCertificate"/> (a path a person picks).</summary>
    public static RequiredInput CertificateFileInput(string thumbprint) =>
        new($"cer-{thumbprint}", $"certificate file (.cer) for {thumbprint}", InputKind.File);

    /// <summary><c>certutil -store STORE THUMBPRINT FILE</c>: the certificate (without its key) written to a file.</summary>
    public static ShellCommand ExportCertificate(string store, string thumbprint, RequiredInput cer) =>
        ShellCommand.Run("certutil", "-store", store, thumbprint, CommandArg.Input(cer.Name));

    /// <summary>
    /// As the user who owns the key: the certificate put in the user's My store, linked to the user's key by its
    /// public key (-repairstore), and exported with the key (certutil asks for a new PFX password). Shown, never run
    /// by a plan: it must run in that user's session.
    /// </summary>
    public static IReadOnlyList<ShellCommand> ExportUserKey(string thumbprint, RequiredInput cer, RequiredInput pfx, string user)
    {
        var who = $"as {user}, who owns the key";
        return
        [
            ShellCommand.Run("certutil", "-user", "-addstore", "my", CommandArg.Input(cer.Name)) with { RunFirstAs = who },
            ShellCommand.Run("certutil", "-user", "-repairstore", "my", thumbprint) with { RunFirstAs = who },
            ShellCommand.Run("certutil", "-user", "-exportpfx", "my", thumbprint, CommandArg.Input(pfx.Name)) with { AsksForPassword = true, RunFirstAs = who },
        ];
    }

    /// <summary>A copy of this server's disk or a bundle (for <c>keydoctor recover</c>), with a restored profile when <paramref name="sid"/> is given.</summary>
    public static RequiredInput RestoredImageInput(string? sid) => sid is null
        ? new("bundle", "bundle or disk copy of this server (keydoctor collect)", InputKind.File)
        : new($"restored-{InputName(sid)}", $"copy of this server's disk with the profile of {sid} restored", InputKind.File);

    /// <summary>The folder <c>keydoctor recover</c> writes the PFX of <paramref name="thumbprint"/> into (created owner-only).</summary>
    public static RequiredInput RecoveryFolderInput(string thumbprint) =>
        new($"recovered-{thumbprint}", $"new folder for the PFX of {thumbprint}", InputKind.File);

    /// <summary>A file whose first line is the user's Windows password: never an argument.</summary>
    public static RequiredInput UserPasswordFileInput(string? sid) =>
        new($"password-file-{InputName(sid ?? "user")}", $"file holding the password of {sid ?? "the user"}", InputKind.File);

    /// <summary>A user's SID a person looks up (ProfileList or the domain).</summary>
    public static RequiredInput SidInput(string what) => new($"sid-{InputName(what)}", $"SID of {what}", InputKind.Sid);

    public static ShellCommand RepairStore(string store, string thumbprint) => ShellCommand.Run("certutil", "-repairstore", store, thumbprint);

    public static ShellCommand ListStore(string store) => ShellCommand.Run("certutil", "-store", store);

    public static RequiredInput ThumbprintInput(string what, string description) =>
        new($"thumbprint-{InputName(what)}", description, InputKind.Thumbprint);

    // --- HTTP.sys

    /// <summary>
    /// <c>netsh http update sslcert</c> for <paramref name="binding"/> with another certificate. netsh re-creates the
    /// binding from its arguments, so every setting KeyDoctor read is carried over; <paramref name="notCarried"/> says
    /// what could not be (unknown flags or values).
    /// </summary>
    public static ShellCommand NetshUpdate(HttpSysBinding binding, CommandArg certificateHash, out string? notCarried)
    {
        var arguments = new List<CommandArg> { "http", "update", "sslcert", NetshEndpoint(binding.Kind, binding.Endpoint), Prefixed("certhash=", certificateHash),
            "appid=" + (binding.AppId?.ToString("B") ?? DefaultAppId), "certstorename=" + binding.EffectiveStoreName };
        var lost = new List<string>();
        if (binding.DefaultCertCheckMode is { } mode)
        {
            if ((mode & 1) != 0) arguments.Add("verifyclientcertrevocation=disable");
            if ((mode & 2) != 0) arguments.Add("verifyrevocationwithcachedclientcertonly=enable");
            if ((mode & 0x10000) != 0) arguments.Add("usagecheck=disable");
            if ((mode & ~0x10007u) != 0) lost.Add($"DefaultCertCheckMode 0x{mode:X}");
        }
        if (binding.DefaultRevocationFreshnessTime is { } freshness and > 0)
            arguments.Add("revocationfreshnesstime=" + freshness.ToString(CultureInfo.InvariantCulture));
        if (binding.DefaultRevocationUrlRetrievalTimeout is { } timeout and > 0)
            arguments.Add("urlretrievaltimeout=" + timeout.ToString(CultureInfo.InvariantCulture));
        AddText("sslctlidentifier=", binding.DefaultSslCtlIdentifier);
        AddText("sslctlstorename=", binding.DefaultSslCtlStoreName);
        if (binding.DefaultFlags is { } flags)
        {
            if ((flags & 1) != 0) arguments.Add("dsmapperusage=enable");
            if ((flags & 2) != 0) arguments.Add("clientcertnegotiation=enable");
            if ((flags & ~3u) != 0) lost.Add($"DefaultFlags 0x{flags:X}");
        }
        lost.AddRange(binding.OtherValues);
        notCarried = lost.Count == 0 ? null : string.Join(", ", lost);
        return new ShellCommand("netsh", arguments);

        void AddText(string name, string? value)
        {
            if (string.IsNullOrEmpty(value)) return;
            if (CommandArg.Unsafe(name + value) is null && !value.Contains(' ')) arguments.Add(name + value);
            else lost.Add(name.TrimEnd('='));
        }
    }

    public static ShellCommand NetshAdd(HttpSysBindingKind kind, string endpoint, CommandArg certificateHash, string store = "MY") =>
        new("netsh", ["http", "add", "sslcert", NetshEndpoint(kind, endpoint), Prefixed("certhash=", certificateHash), "appid=" + DefaultAppId, "certstorename=" + store]);

    public static ShellCommand NetshDelete(HttpSysBindingKind kind, string endpoint) =>
        ShellCommand.Run("netsh", "http", "delete", "sslcert", NetshEndpoint(kind, endpoint));

    public static ShellCommand NetshShow(HttpSysBindingKind kind, string endpoint) =>
        ShellCommand.Run("netsh", "http", "show", "sslcert", NetshEndpoint(kind, endpoint));

    /// <summary>The AppId netsh needs when the binding's own is unknown: IIS's W3SVC application id.</summary>
    public const string DefaultAppId = "{4dc3e181-e14b-4a21-b022-59fc669b0914}";

    /// <summary>netsh's name for an HTTP.sys entry: the same kind picks the same table whether IIS needs it or the registry has it.</summary>
    public static string NetshEndpoint(HttpSysBindingKind kind, string endpoint) => kind switch
    {
        HttpSysBindingKind.Sni => $"hostnameport={endpoint}",
        HttpSysBindingKind.CentralCertificateStore => $"ccs={HttpSysBindingReader.SplitEndpoint(endpoint).Port}",
        _ => $"ipport={endpoint}",
    };

    private static CommandArg Prefixed(string prefix, CommandArg value) => CommandArg.Of([new LiteralPart(prefix), .. value.Parts]);

    // --- IIS configuration

    /// <summary>
    /// Removes only properties <paramref name="propertyIds"/> of one customMetadata key, as a precise edit of
    /// applicationHost.config (<c>keydoctor repair remove-metadata</c>): every other property and byte stays, on the
    /// live server as on an image.
    /// </summary>
    public static ShellCommand RemoveCustomMetadata(string configPath, string keyPath, IEnumerable<uint> propertyIds)
    {
        var arguments = new List<CommandArg> { "repair", "remove-metadata", MachinePath(configPath), keyPath };
        foreach (var id in propertyIds) arguments.AddRange(["--property", id.ToString(CultureInfo.InvariantCulture)]);
        return KeyDoctor([.. arguments]);
    }

    // --- MachineKeys permissions and attributes (KD1004)

    public static CommandArg MachineKeysFolder => MachinePath(WindowsPaths.MachineKeys);

    /// <summary>compact and cipher undo NTFS compression and EFS on a key folder (MachineKeys unless another is named).</summary>
    public static IReadOnlyList<ShellCommand> UndoCompressionAndEfs(string? folder = null)
    {
        var path = folder is null ? MachineKeysFolder : MachinePath(folder);
        return
        [
            ShellCommand.Run("compact", "/u", CommandArg.Of([new LiteralPart("/s:"), .. path.Parts]), "/i", "/q"),
            ShellCommand.Run("cipher", "/d", CommandArg.Of([new LiteralPart("/s:"), .. path.Parts])),
        ];
    }

    /// <summary>Windows' default DACL of a machine key folder (MachineKeys unless another is named).</summary>
    public static ShellCommand DefaultMachineKeysAcl(string? folder = null) =>
        ShellCommand.Run("icacls", folder is null ? MachineKeysFolder : MachinePath(folder), "/inheritance:r", "/grant:r", "*S-1-1-0:(RD,WD,AD,REA,WEA,RA,WA,RC,S)", "*S-1-5-32-544:(F)");

    // --- the steps around a change

    /// <summary>Re-reads this server in process and fails while the finding is there (<c>keydoctor repair check</c>).</summary>
    public static ShellCommand Check(string findingId, string subject) =>
        CommandArg.Unsafe(subject) is null
            ? KeyDoctor("repair", "check", findingId, subject)
            : KeyDoctor("repair", "check", findingId, "--subject-base64", Convert.ToBase64String(Encoding.UTF8.GetBytes(subject)));

    /// <summary>A name usable in an input's name: letters, digits, '-', '.', '_' kept, anything else '_'.</summary>
    public static string InputName(string text) =>
        string.Concat(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':' ? c : '_'));
}

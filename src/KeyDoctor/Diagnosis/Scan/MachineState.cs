using KeyDoctor.Diagnosis.Trace;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>A key file KeyDoctor keeps for the checks (see <see cref="MachineState.KeyFiles"/>).</summary>
public sealed record ScannedKeyFile(string Folder, KeyFileReport Report)
{
    public string WindowsPath => WindowsPaths.Combine(Folder, Report.FileName);
}

/// <summary>The result of <see cref="MachineState.FindLinkedKeyFile"/>.</summary>
public sealed record LinkedKeyFile(ExpectedKeyFile Expected, string Folder, IReadOnlyList<ScannedKeyFile> Candidates, ScannedKeyFile? KeyFile);

/// <summary>An event the checks look at, with the log it came from.</summary>
public sealed record ScannedEvent(string Log, EvtxRecord Record);

/// <summary>A Process Monitor capture read for the scan: where it came from (a --trace path, or traces\… in the bundle) and its key story.</summary>
public sealed record ScannedTrace(string Path, ProcmonCaptureFormat Format, KeyStory Story);

/// <summary>
/// Everything the checks read from one machine, gathered once (the "read" stage): registry facts, the key stores,
/// certificates, bindings, IIS configuration and the relevant events. Memory stays bounded on key stores with
/// millions of files: all files are tallied by MachineGuid suffix, but full reports are kept only for files that
/// are damaged, belong to a well-known container, or are named by a certificate or a configuration.
/// </summary>
public sealed class MachineState
{
    /// <summary>Damaged files kept with full evidence; beyond this only their count is kept.</summary>
    public const int MaxDamagedFilesKept = 10_000;

    public static readonly IReadOnlySet<int> SystemEventIds = new HashSet<int>
    {
        7023, 7024, 15021, 15300, 36868, 36869, 36870, 36871, 36872, 36874, 36876, 36877, 36882, 36885, 36886, 36887, 36888,
    };

    public static readonly IReadOnlySet<int> SecurityEventIds = new HashSet<int> { 5058, 5061 };

    private readonly List<(string What, string Why)> _unavailable = [];

    private MachineState(IMachineSource source) => Source = source;

    public IMachineSource Source { get; }
    public WindowsRegistry? Registry { get; private set; }
    public string? MachineGuid { get; private set; }

    /// <summary>The computer name from the SYSTEM hive, else the one the bundle's manifest recorded; null when neither is known.</summary>
    public string? ComputerName { get; private set; }
    public IReadOnlyList<StoredCertificate> Certificates { get; private set; } = [];
    public IReadOnlyList<HttpSysBinding> HttpSysBindings { get; private set; } = [];
    public string? ApplicationHostPath { get; private set; }
    public ApplicationHostConfig? ApplicationHost { get; private set; }
    public MetabaseXml? Metabase { get; private set; }

    /// <summary>Machine key files kept for the checks (damaged, well-known, or named by a certificate or configuration).</summary>
    public IReadOnlyList<ScannedKeyFile> KeyFiles { get; private set; } = [];

    /// <summary>How many machine key files (CryptoAPI MachineKeys) end in each MachineGuid suffix.</summary>
    public IReadOnlyDictionary<Guid, long> KeyFilesByGuid { get; private set; } = new Dictionary<Guid, long>();

    public long KeyFileCount { get; private set; }
    public long DamagedKeyFileCount { get; private set; }

    /// <summary>Key file names found in users' profiles (RSA\&lt;SID&gt; and Crypto\Keys), by file name prefix.</summary>
    public ILookup<string, string> UserKeyFiles { get; private set; } = Array.Empty<string>().ToLookup(x => x);

    public IReadOnlyList<ScannedEvent> Events { get; private set; } = [];

    /// <summary>The folder of a bundle (or image) where Process Monitor captures are picked up (docs/formats/bundle.md).</summary>
    public const string TracesFolder = "traces";

    /// <summary>Process Monitor captures read: those in <see cref="TracesFolder"/>, then those given by the user, each with its key story.</summary>
    public IReadOnlyList<ScannedTrace> Traces { get; private set; } = [];

    /// <summary>What could not be read, and why: the checks that need it are skipped and KD0001 says so.</summary>
    public IReadOnlyList<(string What, string Why)> Unavailable => _unavailable;

    /// <summary>The time "now" for validity checks: when the bundle was collected, else the scan time.</summary>
    public DateTimeOffset ReferenceTime => Source.Info.CollectedUtc ?? DateTimeOffset.UtcNow;

    /// <summary>Reads everything once; <paramref name="traces"/> are Process Monitor captures (PML, CSV or XML export) of this machine.</summary>
    public static MachineState Load(IMachineSource source, Action<string>? progress = null, IReadOnlyList<string>? traces = null)
    {
        var state = new MachineState(source);
        progress?.Invoke("registry");
        state.LoadRegistry();
        progress?.Invoke("IIS configuration");
        state.LoadIis();
        progress?.Invoke("key stores");
        state.LoadKeyStores();
        progress?.Invoke("event logs");
        state.LoadEvents();
        progress?.Invoke("traces");
        state.LoadTraces(traces ?? []);
        return state;
    }

    private string? Root => (Source as FolderMachineSource)?.Root;

    private void LoadRegistry()
    {
        ComputerName = Source.Info.HostName;
        if (Root is null) return;
        try
        {
            Registry = WindowsRegistry.OpenImage(Root);
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException)
        {
            _unavailable.Add(("registry (SOFTWARE, SYSTEM)", ex.Message));
            return;
        }
        if (Registry.Software is null) _unavailable.Add(("SOFTWARE registry", $"no {WindowsPaths.SoftwareHive} and no SOFTWARE in registry\\*.reg"));
        if (Registry.System is null) _unavailable.Add(("SYSTEM registry", $"no {WindowsPaths.SystemHive} and no SYSTEM in registry\\*.reg"));
        MachineGuid = Registry.MachineGuid?.Trim();
        ComputerName = Registry.ComputerName ?? Source.Info.HostName;
        if (Registry.Software is not null && MachineGuid is null)
            _unavailable.Add(("MachineGuid", @"SOFTWARE\Microsoft\Cryptography has no MachineGuid value"));
        Certificates = Registry.Software is null ? [] : Registry.Certificates()
            .Where(c => c.Location.StartsWith("LocalMachine", StringComparison.Ordinal)).ToList();
        // A certificate that cannot be decoded is evidence KeyDoctor could not read: a finding about it, not a failure.
        foreach (var certificate in Certificates.Where(c => c.Entry?.Certificate is null))
            _unavailable.Add(($@"certificate {certificate.Thumbprint} in {certificate.Location}\{certificate.Store}",
                certificate.Entry?.CertificateError ?? string.Join("; ", certificate.Problems)));
        HttpSysBindings = Registry.System is null ? [] : Registry.HttpSysBindings;
    }

    private void LoadIis()
    {
        ApplicationHostPath = Source.GetLocalPath(WindowsPaths.ApplicationHostConfig);
        if (ApplicationHostPath is not null)
        {
            try
            {
                ApplicationHost = ApplicationHostConfig.Read(ApplicationHostPath);
            }
            catch (MalformedDataException ex)
            {
                _unavailable.Add((WindowsPaths.ApplicationHostConfig, ex.Message));
            }
        }
        if (Source.GetLocalPath(WindowsPaths.Metabase) is { } metabase)
        {
            try
            {
                Metabase = MetabaseXml.Read(metabase);
            }
            catch (MalformedDataException ex)
            {
                _unavailable.Add((WindowsPaths.Metabase, ex.Message));
            }
        }
    }

    /// <summary>Prefixes the checks will ask about: well-known containers, certificate key links, configuration keys.</summary>
    private HashSet<string> InterestingPrefixes()
    {
        var prefixes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var known in WellKnownContainers.All) prefixes.Add(known.Prefix);
        foreach (var certificate in Certificates)
            if (certificate.Entry?.KeyProviderInfo is { ContainerName: not null } link)
                prefixes.Add(link.KeyFilePrefix);
        foreach (var provider in ApplicationHost?.Providers ?? [])
            if (provider.ExpectedKeyFilePrefix is { } prefix) prefixes.Add(prefix);
        return prefixes;
    }

    private void LoadKeyStores()
    {
        Guid? machineGuid = Guid.TryParse(MachineGuid, out var g) ? g : null;
        var interesting = InterestingPrefixes();
        // Certificates that lost their key link: a key file holding their public key is the key to re-link (KD2001).
        var unlinked = Certificates
            .Where(c => c.Entry is { KeyProviderInfo: null, Certificate: not null })
            .Select(c => PublicKeyInfo.FingerprintOf(c.Entry!.Certificate!))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = new List<ScannedKeyFile>();
        var byGuid = new Dictionary<Guid, long>();
        foreach (var (folder, kind) in new[]
                 {
                     (WindowsPaths.MachineKeys, KeyProviderKind.Capi), (WindowsPaths.CngMachineKeys, KeyProviderKind.Cng),
                     (WindowsPaths.CngSystemKeys, KeyProviderKind.Cng),
                 })
        {
            if (Source.GetLocalDirectory(folder) is not { } local) continue;
            var store = new KeyStoreFolder(local, kind);
            // In file-name order: which damaged files are kept past the limit, and which of two candidates a check
            // meets first, never depend on the order the directory lists them in.
            foreach (var report in KeyStoreScanner.Scan(store, new KeyStoreScanOptions { MachineGuid = machineGuid }))
            {
                KeyFileCount++;
                if (kind == KeyProviderKind.Capi && ContainerName.TrySplitFileName(report.FileName, out _, out var suffix) && suffix is { } guid)
                    byGuid[guid] = byGuid.GetValueOrDefault(guid) + 1;
                var damaged = IsDamaged(report.Status);
                if (damaged) DamagedKeyFileCount++;
                var prefix = report.FileName.Length >= 32 ? report.FileName[..32] : report.FileName;
                if ((damaged && DamagedKeyFileCount <= MaxDamagedFilesKept) || interesting.Contains(prefix)
                    || (report.PublicKeySha256 is { } publicKey && unlinked.Contains(publicKey)))
                    kept.Add(new ScannedKeyFile(folder, report));
            }
        }
        if (!Source.DirectoryExists(WindowsPaths.MachineKeys))
            _unavailable.Add((WindowsPaths.MachineKeys, "the folder is not in the image"));
        KeyFiles = kept;
        KeyFilesByGuid = byGuid;
        UserKeyFiles = UserProfileKeyFiles().ToLookup(f => WindowsPaths.FileName(f)[..Math.Min(32, WindowsPaths.FileName(f).Length)],
            StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Where a certificate's key link leads in the machine store: the expected file, the files with its prefix, and
    /// the one that is the key (under the current MachineGuid, or any when the GUID is unknown).
    /// </summary>
    public LinkedKeyFile FindLinkedKeyFile(KeyProviderInfo link)
    {
        var expected = link.ExpectedKeyFile(MachineGuid);
        var folder = link.IsCng ? WindowsPaths.CngMachineKeys : WindowsPaths.MachineKeys;
        var candidates = KeyFiles.Where(f => (f.Folder == folder || (link.IsCng && f.Folder == WindowsPaths.CngSystemKeys))
                                             && f.Report.FileName.StartsWith(expected.Prefix, StringComparison.OrdinalIgnoreCase)).ToList();
        var keyFile = MachineGuid is null
            ? candidates.FirstOrDefault()
            : candidates.FirstOrDefault(f => f.Report.FileName.Equals(expected.FileName, StringComparison.OrdinalIgnoreCase));
        return new LinkedKeyFile(expected, folder, candidates, keyFile);
    }

    /// <summary>
    /// An intact CryptoAPI machine key file under the current MachineGuid that holds this public key: what
    /// <c>certutil -repairstore</c> would link a certificate to. Null when there is none (or the GUID is unknown).
    /// </summary>
    public ScannedKeyFile? FindMachineKeyFor(string publicKeySha256)
    {
        if (!Guid.TryParse(MachineGuid, out var current)) return null;
        return KeyFiles.FirstOrDefault(f => f.Folder == WindowsPaths.MachineKeys && f.Report.Container is not null
            && string.Equals(f.Report.PublicKeySha256, publicKeySha256, StringComparison.OrdinalIgnoreCase)
            && !IsDamaged(f.Report.Status)
            && ContainerName.TrySplitFileName(f.Report.FileName, out _, out var guid) && guid == current);
    }

    /// <summary>Damage that makes a key unusable (GUID and duplicate statuses are the MachineGuid check's business).</summary>
    public static bool IsDamaged(KeyFileStatus status) => status is KeyFileStatus.ZeroLength or KeyFileStatus.Unreadable
        or KeyFileStatus.NotAKeyFile or KeyFileStatus.Truncated or KeyFileStatus.DpapiBlobMalformed
        or KeyFileStatus.PublicKeyMalformed or KeyFileStatus.NameMismatch;

    private IEnumerable<string> UserProfileKeyFiles()
    {
        foreach (var user in Source.EnumerateDirectories(WindowsPaths.Users))
        {
            var rsa = $@"{WindowsPaths.Users}\{user}\AppData\Roaming\Microsoft\Crypto\RSA";
            foreach (var sid in Source.EnumerateDirectories(rsa))
                foreach (var file in Source.EnumerateFiles($@"{rsa}\{sid}"))
                    yield return file.Path;
            foreach (var file in Source.EnumerateFiles($@"{WindowsPaths.Users}\{user}\AppData\Roaming\Microsoft\Crypto\Keys"))
                yield return file.Path;
        }
    }

    /// <summary>
    /// The key story of every capture, read once in bounded memory; key file names are matched to the containers of
    /// the key files read above. A damaged capture gives its events before the damage, and KD0001 says where it ends.
    /// </summary>
    private void LoadTraces(IReadOnlyList<string> given)
    {
        var captures = Source.EnumerateFiles(TracesFolder)
            .Select(f => (Name: f.Path, Local: Source.GetLocalPath(f.Path)))
            .Where(c => c.Local is not null)
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
            .Select(c => (c.Name, Local: c.Local!))
            .Concat(given.Select(path => (Name: path, Local: path)))
            .ToList();
        if (captures.Count == 0) return;
        var keyFiles = KeyFiles.Select(f => new KnownKeyFile(f.Report.FileName, f.Report.Container)).ToList();
        var traces = new List<ScannedTrace>();
        foreach (var (name, local) in captures)
        {
            try
            {
                using var capture = ProcmonCapture.Open(local);
                MalformedDataException? damage = null;
                var story = KeyStoryBuilder.Build(capture.ReadEventsUntilDamage(ex => damage = ex), keyFiles);
                if (damage is not null)
                    _unavailable.Add(($"the capture {name}", $"it is damaged at offset 0x{damage.Offset:X} ({damage.Reason}); the {story.EventsRead} events before it were used"));
                traces.Add(new ScannedTrace(name, capture.Format, story));
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException or UnauthorizedAccessException)
            {
                _unavailable.Add(($"the capture {name}", $"it is not a Process Monitor capture KeyDoctor can read ({ex.Message})"));
            }
        }
        Traces = traces;
    }

    private void LoadEvents()
    {
        var events = new List<ScannedEvent>();
        foreach (var (log, ids) in new[] { ("System.evtx", SystemEventIds), ("Security.evtx", SecurityEventIds) })
        {
            var path = WindowsPaths.Combine(WindowsPaths.EventLogs, log);
            if (Source.GetLocalPath(path) is not { } local) continue;
            try
            {
                using var reader = EvtxReader.Open(local);
                foreach (var result in reader.ReadRecords(new EvtxReadOptions { EventIds = ids.ToHashSet() }))
                    if (result.Record is { } record) events.Add(new ScannedEvent(path, record));
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException)
            {
                _unavailable.Add((path, ex.Message));
            }
        }
        Events = events;
    }
}

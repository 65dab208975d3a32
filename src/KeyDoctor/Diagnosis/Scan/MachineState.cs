using KeyDoctor.Diagnosis.Trace;
using System.Security.Cryptography;
using KeyDoctor.Crypto.Metabase;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Evt;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.KeyStore;
using KeyDoctor.Machine.Recovery;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>A key file KeyDoctor keeps for the checks (see <see cref="MachineState.KeyFiles"/>), and the store it is in.</summary>
public sealed record ScannedKeyFile(KeyStoreLocation Store, KeyFileReport Report)
{
    public string Folder => Store.Path;
    public string WindowsPath => WindowsPaths.Combine(Folder, Report.FileName);

    /// <summary>In CryptoAPI's machine store (MachineKeys of this machine's layout).</summary>
    public bool InMachineCapi => Store is { IsMachine: true, Kind: KeyProviderKind.Capi };
}

/// <summary>What became of one DPAPI master key a kept key file names.</summary>
/// <param name="Path">Where the master-key file is; null when no folder that should hold it does.</param>
/// <param name="Opened">True when DPAPI_SYSTEM opened it, false when it did not, null when not tried (no SECURITY hive, or a user's key).</param>
/// <param name="Failure">Why it was not found or not opened.</param>
public sealed record MasterKeyState(Guid Guid, string? Path, bool? Opened, string? Failure)
{
    public bool Missing => Path is null;
}

/// <summary>The result of <see cref="MachineState.FindLinkedKeyFile"/>.</summary>
public sealed record LinkedKeyFile(ExpectedKeyFile Expected, string Folder, IReadOnlyList<ScannedKeyFile> Candidates, ScannedKeyFile? KeyFile);

/// <summary>An event the checks look at, with the log it came from (an EVTX file, or a legacy .Evt mapped onto the same record).</summary>
public sealed record ScannedEvent(string Log, EvtxRecord Record);

/// <summary>A Process Monitor capture read for the scan: where it came from (a --trace path, or traces\… in the bundle) and its key story.</summary>
public sealed record ScannedTrace(string Path, ProcmonCaptureFormat Format, KeyStory Story);

/// <summary>
/// Everything the checks read from one machine, gathered once (the "read" stage): registry facts, the key stores,
/// certificates, bindings, IIS configuration and the relevant events. The key stores come from the machine's
/// <see cref="KeyStoreCatalogue"/>, so a Server 2003 disk (Documents and Settings, .Evt logs) is read like a
/// Server 2022 one. Memory stays bounded on key stores with millions of files: all files are tallied by MachineGuid
/// suffix, but full reports are kept only for files that are damaged, belong to a well-known container, or are
/// named by a certificate or a configuration.
/// </summary>
public sealed class MachineState
{
    /// <summary>Damaged files kept with full evidence; beyond this only their count is kept.</summary>
    public const int MaxDamagedFilesKept = 10_000;

    public static readonly IReadOnlySet<int> SystemEventIds = new HashSet<int>
    {
        5057, 5059, 5172, 5173, 7023, 7024, 15021, 15300, 36868, 36869, 36870, 36871, 36872, 36874, 36876, 36877, 36882, 36885, 36886, 36887, 36888,
    };

    public static readonly IReadOnlySet<int> SecurityEventIds = new HashSet<int> { 5058, 5061 };

    private readonly List<(string What, string Why)> _unavailable = [];

    private MachineState(IMachineSource source) => Source = source;

    public IMachineSource Source { get; }

    /// <summary>Where this machine's Windows keeps key stores, profiles and logs.</summary>
    public WindowsLayout Layout { get; private set; } = WindowsLayout.Modern;

    /// <summary>Every key store of the machine (machine, LocalSystem, services, users), with their master-key folders.</summary>
    public KeyStoreCatalogue Catalogue { get; private set; } = null!;

    public WindowsRegistry? Registry { get; private set; }
    public string? MachineGuid { get; private set; }

    /// <summary>The computer name from the SYSTEM hive, else the one the bundle's manifest recorded; null when neither is known.</summary>
    public string? ComputerName { get; private set; }
    public IReadOnlyList<StoredCertificate> Certificates { get; private set; } = [];
    public IReadOnlyList<HttpSysBinding> HttpSysBindings { get; private set; } = [];
    public string? ApplicationHostPath { get; private set; }
    public ApplicationHostConfig? ApplicationHost { get; private set; }
    public MetabaseXml? Metabase { get; private set; }

    /// <summary>The registry's profiles (ProfileList), present on disk or not.</summary>
    public IReadOnlyList<ProfileListEntry> ProfileList { get; private set; } = [];

    /// <summary>Services by key name with their DisplayName (SYSTEM hive), to recognise event 7024 in any language.</summary>
    public IReadOnlyDictionary<string, string> ServiceDisplayNames { get; private set; } = new Dictionary<string, string>();

    /// <summary>
    /// Machine and LocalSystem key files kept for the checks (damaged, well-known, or named by a certificate or
    /// configuration): the stores whose files CryptoAPI and CNG open for services.
    /// </summary>
    public IReadOnlyList<ScannedKeyFile> KeyFiles { get; private set; } = [];

    /// <summary>Key files of the service accounts' and users' stores that a certificate or configuration names.</summary>
    public IReadOnlyList<ScannedKeyFile> ProfileKeyFiles { get; private set; } = [];

    /// <summary>How many machine key files (CryptoAPI MachineKeys) end in each MachineGuid suffix.</summary>
    public IReadOnlyDictionary<Guid, long> KeyFilesByGuid { get; private set; } = new Dictionary<Guid, long>();

    /// <summary>
    /// Of <see cref="KeyFilesByGuid"/>, the files under another GUID than the registry's that have no twin under the
    /// registry's GUID (the same container name holding the same public key). A twin is what KD1001's carry-forward
    /// leaves until the reboot (the key copied to the other GUID's name, the original kept): no evidence of a change.
    /// </summary>
    public IReadOnlyDictionary<Guid, long> UntwinnedKeyFilesByGuid { get; private set; } = new Dictionary<Guid, long>();

    public long KeyFileCount { get; private set; }

    /// <summary>Files in each key store folder read (machine, LocalSystem, services, users), by the store's path.</summary>
    public IReadOnlyDictionary<string, long> KeyFileCountsByStore { get; private set; } = new Dictionary<string, long>();
    public long DamagedKeyFileCount { get; private set; }

    /// <summary>The DPAPI master keys the kept key files name, by GUID (see <see cref="MasterKeyState"/>).</summary>
    public IReadOnlyDictionary<Guid, MasterKeyState> MasterKeys { get; private set; } = new Dictionary<Guid, MasterKeyState>();

    /// <summary>Whether DPAPI_SYSTEM could be had from the SYSTEM and SECURITY hives, so system master keys were opened.</summary>
    public bool SystemSecretAvailable { get; private set; }

    /// <summary>
    /// For each IIS 6 container file ("Microsoft Internet Information Server"): does its AT_SIGNATURE public key verify
    /// the metabase SessionKey's signature (what IISADMIN checks at start)? Null: not checked (no signature key, no
    /// SessionKey, unreadable file).
    /// </summary>
    public IReadOnlyDictionary<string, bool?> Iis6SignatureVerdicts { get; private set; } = new Dictionary<string, bool?>(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<ScannedEvent> Events { get; private set; } = [];

    /// <summary>The folder of a bundle (or image) where Process Monitor captures are picked up (docs/formats/bundle.md).</summary>
    public const string TracesFolder = "traces";

    /// <summary>Process Monitor captures read: those in <see cref="TracesFolder"/>, then those given by the user, each with its key story.</summary>
    public IReadOnlyList<ScannedTrace> Traces { get; private set; } = [];

    /// <summary>What could not be read, and why: the checks that need it are skipped and KD0001 says so.</summary>
    public IReadOnlyList<(string What, string Why)> Unavailable => _unavailable;

    /// <summary>The time "now" for validity checks, read once per scan (<see cref="SourceClock"/>).</summary>
    public DatedFact ReferenceTime => _referenceTime ??= SourceClock.Of(Source);

    private DatedFact? _referenceTime;

    /// <summary>CryptoAPI MachineKeys of this machine's layout.</summary>
    public string MachineKeysFolder => Catalogue.MachineCapi.Path;

    /// <summary>Reads everything once; <paramref name="traces"/> are Process Monitor captures (PML, CSV or XML export) of this machine.</summary>
    public static MachineState Load(IMachineSource source, Action<string>? progress = null, IReadOnlyList<string>? traces = null)
    {
        var state = new MachineState(source);
        state.LoadCollectionGaps();
        progress?.Invoke("registry");
        state.LoadRegistry();
        state.Layout = WindowsLayout.Detect(source);
        state.Catalogue = KeyStoreCatalogue.Of(source, state.Layout, state.ProfileList);
        progress?.Invoke("IIS configuration");
        state.LoadIis();
        progress?.Invoke("key stores");
        state.LoadKeyStores();
        state.LoadMasterKeys();
        state.CheckIis6Container();
        progress?.Invoke("event logs");
        state.LoadEvents();
        progress?.Invoke("traces");
        state.LoadTraces(traces ?? []);
        return state;
    }

    private string? Root => (Source as FolderMachineSource)?.Root;

    /// <summary>
    /// A partial bundle (collect could not take a hive or MachineKeys) says so in its manifest: each failed core item
    /// is KD0001 with the collector's reason, so a scan of it is never a clean bill of health.
    /// </summary>
    private void LoadCollectionGaps()
    {
        if ((Source as FolderMachineSource)?.Manifest is not { } manifest) return;
        foreach (var item in manifest.Items.Where(i => i.Core && i.Status == CollectedItemStatus.Failed))
            _unavailable.Add(($"{item.Description} (not collected into the bundle)", item.Error ?? "the collector recorded it as failed"));
    }

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
        ProfileList = Registry.ProfileList.Select(p => new ProfileListEntry(p.Sid, p.ProfileImagePath)).ToList();
        ServiceDisplayNames = Registry.ServiceDisplayNames;
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
        var inProfiles = new List<ScannedKeyFile>();
        var byGuid = new Dictionary<Guid, long>();
        var twins = new TwinTally(machineGuid);
        var perStore = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        foreach (var store in Catalogue.Stores)
        {
            if (Source.GetLocalDirectory(store.Path) is not { } local) continue;
            perStore[store.Path] = 0;
            var system = store.Owner is KeyStoreOwner.Machine or KeyStoreOwner.LocalSystem;
            var folder = new KeyStoreFolder(local, store.Kind);
            // In file-name order: which damaged files are kept past the limit, and which of two candidates a check
            // meets first, never depend on the order the directory lists them in.
            foreach (var report in KeyStoreScanner.Scan(folder, new KeyStoreScanOptions { MachineGuid = machineGuid }))
            {
                var prefix = report.FileName.Length >= 32 ? report.FileName[..32] : report.FileName;
                var wanted = interesting.Contains(prefix) || (report.PublicKeySha256 is { } publicKey && unlinked.Contains(publicKey));
                perStore[store.Path]++;
                if (!system)
                {
                    // A user's or service's store: only what a certificate or configuration names matters here.
                    if (wanted) inProfiles.Add(new ScannedKeyFile(store, report));
                    continue;
                }
                KeyFileCount++;
                if (store is { IsMachine: true, Kind: KeyProviderKind.Capi } && ContainerName.TrySplitFileName(report.FileName, out _, out var suffix) && suffix is { } guid)
                {
                    byGuid[guid] = byGuid.GetValueOrDefault(guid) + 1;
                    twins.Add(prefix, guid, report.PublicKeySha256);
                }
                var damaged = IsDamaged(report.Status);
                if (damaged) DamagedKeyFileCount++;
                if ((damaged && DamagedKeyFileCount <= MaxDamagedFilesKept) || wanted)
                    kept.Add(new ScannedKeyFile(store, report));
            }
        }
        if (!Source.DirectoryExists(Catalogue.MachineCapi.Path))
            _unavailable.Add((Catalogue.MachineCapi.Path, $"the folder is not in the image ({Layout.Name} layout)"));
        KeyFiles = kept;
        ProfileKeyFiles = inProfiles;
        KeyFilesByGuid = byGuid;
        KeyFileCountsByStore = perStore;
        UntwinnedKeyFilesByGuid = twins.Finish();
    }

    /// <summary>
    /// Counts files under other GUIDs that have no twin under the registry's GUID. Files arrive in name order, so the
    /// files of one container name (&lt;prefix&gt;_&lt;GUID&gt;) are adjacent: one group is held at a time.
    /// </summary>
    private sealed class TwinTally(Guid? current)
    {
        private readonly Dictionary<Guid, long> _untwinned = [];
        private readonly List<(Guid Guid, string? PublicKey)> _group = [];
        private string? _prefix;

        public void Add(string prefix, Guid guid, string? publicKey)
        {
            if (!string.Equals(prefix, _prefix, StringComparison.OrdinalIgnoreCase)) Flush();
            _prefix = prefix;
            _group.Add((guid, publicKey));
        }

        public Dictionary<Guid, long> Finish()
        {
            Flush();
            return _untwinned;
        }

        private void Flush()
        {
            var underCurrent = _group.Where(f => f.Guid == current).Select(f => f.PublicKey).ToList();
            foreach (var (guid, publicKey) in _group.Where(f => f.Guid != current))
                if (!underCurrent.Any(k => k is not null && string.Equals(k, publicKey, StringComparison.OrdinalIgnoreCase)))
                    _untwinned[guid] = _untwinned.GetValueOrDefault(guid) + 1;
            _group.Clear();
        }
    }

    /// <summary>
    /// The master keys the kept key files' DPAPI blobs name: found in the folders that protect their store, and for
    /// the machine's and LocalSystem's keys opened with DPAPI_SYSTEM when the SYSTEM and SECURITY hives are there
    /// (the recover chain: boot key → LSA key → DPAPI_SYSTEM → master key).
    /// </summary>
    private void LoadMasterKeys()
    {
        var files = KeyFiles.Concat(ProfileKeyFiles).Where(f => !IsDamaged(f.Report.Status) && f.Report.MasterKeyGuids.Count > 0).ToList();
        if (files.Count == 0) return;
        var systemFolders = Catalogue.MasterKeyFolders.Where(f => f.Owner == KeyStoreOwner.LocalSystem).ToList();
        MasterKeyRing? ring = null;
        if (files.Any(f => f.Store.Owner is KeyStoreOwner.Machine or KeyStoreOwner.LocalSystem))
        {
            if (systemFolders.Any(f => Source.DirectoryExists(f.Path)))
            {
                var (secret, _) = KeyRecovery.ReadSystemSecret(Source);
                SystemSecretAvailable = secret is not null;
                ring = new MasterKeyRing(Source, secret, null);
            }
            else
            {
                _unavailable.Add((WindowsPaths.SystemMasterKeys, "the system's DPAPI master keys are not in the image; KD1005 was not checked for machine keys"));
            }
        }
        var states = new Dictionary<Guid, MasterKeyState>();
        foreach (var file in files.OrderBy(f => f.WindowsPath, StringComparer.OrdinalIgnoreCase))
        {
            var folders = Catalogue.MasterKeyFoldersFor(file.Store).ToList();
            var system = file.Store.Owner is KeyStoreOwner.Machine or KeyStoreOwner.LocalSystem;
            if (system ? ring is null : !folders.Any(f => Source.DirectoryExists(f.Path))) continue; // the folder was not collected: nothing to say
            foreach (var guid in file.Report.MasterKeyGuids)
            {
                if (states.ContainsKey(guid)) continue;
                if (system)
                {
                    var key = ring!.Open(guid, out var outcome);
                    if (key is not null) CryptographicOperations.ZeroMemory(key);
                    states[guid] = new MasterKeyState(guid, outcome.Path, SystemSecretAvailable ? outcome.Opened : null,
                        outcome.Path is null ? $"no file named {guid:D} in {string.Join(" or ", systemFolders.Select(f => f.Path))}"
                        : SystemSecretAvailable ? outcome.Failure : null);
                    continue;
                }
                var path = folders.Select(f => WindowsPaths.Combine(f.Path, guid.ToString("D"))).FirstOrDefault(p => Source.GetFile(p) is not null);
                states[guid] = new MasterKeyState(guid, path, null,
                    path is null ? $"no file named {guid:D} in {string.Join(" or ", folders.Select(f => f.Path))}" : null);
            }
        }
        MasterKeys = states;
    }

    /// <summary>
    /// The IIS 6 container against MetaBase.xml, as far as public keys allow: its AT_SIGNATURE public key must verify
    /// the SessionKey's signature. A container IISADMIN re-created (new keys) exists, parses, and fails here.
    /// </summary>
    private void CheckIis6Container()
    {
        if (Metabase?.SessionKey is not { Status: MetabaseBlobStatus.Valid, Blob: { } sessionKey }) return;
        var verdicts = new Dictionary<string, bool?>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in KeyFiles.Where(f => f.InMachineCapi && f.Report.FileName.StartsWith(KeyStoreChecks.Iis6Prefix, StringComparison.OrdinalIgnoreCase)))
        {
            bool? verdict = null;
            try
            {
                if (!IsDamaged(file.Report.Status) && Source.GetFile(file.WindowsPath) is { Length: > 0 and < 1 << 20 } info)
                {
                    var data = new byte[info.Length];
                    using (var stream = Source.OpenRead(file.WindowsPath)) stream.ReadExactly(data);
                    if (CapiKeyFile.Parse(data).Signature?.PublicKey is { } signature)
                    {
                        using var rsa = RSA.Create();
                        rsa.ImportParameters(new RSAParameters { Modulus = BigEndianModulus(signature), Exponent = ExponentBytes(signature.Exponent) });
                        verdict = sessionKey.VerifySignature(rsa);
                    }
                }
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException or CryptographicException)
            {
                verdict = null;
            }
            verdicts[file.WindowsPath] = verdict;
        }
        Iis6SignatureVerdicts = verdicts;
    }

    private static byte[] BigEndianModulus(CapiRsaPublicKey key)
    {
        var modulus = key.Modulus.Span[..(int)(key.BitLength / 8)].ToArray();
        Array.Reverse(modulus);
        return modulus;
    }

    private static byte[] ExponentBytes(uint exponent)
    {
        var bytes = BitConverter.GetBytes(exponent);
        if (BitConverter.IsLittleEndian) Array.Reverse(bytes);
        var first = Array.FindIndex(bytes, b => b != 0);
        return first < 0 ? [0] : bytes[first..];
    }

    /// <summary>
    /// Where a certificate's key link leads in the machine store: the expected file, the files with its prefix, and
    /// the one that is the key (under the current MachineGuid, or any when the GUID is unknown).
    /// </summary>
    public LinkedKeyFile FindLinkedKeyFile(KeyProviderInfo link)
    {
        var expected = link.ExpectedKeyFile(MachineGuid);
        var store = link.IsCng ? Catalogue.MachineCng : Catalogue.MachineCapi;
        var candidates = KeyFiles.Where(f => (f.Store == store || (link.IsCng && f.Store is { Owner: KeyStoreOwner.LocalSystem, Kind: KeyProviderKind.Cng }))
                                             && f.Report.FileName.StartsWith(expected.Prefix, StringComparison.OrdinalIgnoreCase)).ToList();
        var keyFile = MachineGuid is null
            ? candidates.FirstOrDefault()
            : candidates.FirstOrDefault(f => f.Report.FileName.Equals(expected.FileName, StringComparison.OrdinalIgnoreCase));
        return new LinkedKeyFile(expected, store.Path, candidates, keyFile);
    }

    /// <summary>
    /// Key files of a certificate's container outside the machine store: LocalSystem's own store (RSA\S-1-5-18,
    /// SystemKeys), the service accounts' and the users' stores, in the catalogue's order.
    /// </summary>
    public IReadOnlyList<ScannedKeyFile> FindKeyOutsideMachineStore(KeyProviderInfo link)
    {
        var kind = link.IsCng ? KeyProviderKind.Cng : KeyProviderKind.Capi;
        var prefix = link.KeyFilePrefix;
        return KeyFiles.Where(f => f.Store.Owner == KeyStoreOwner.LocalSystem).Concat(ProfileKeyFiles)
            .Where(f => f.Store.Kind == kind && f.Report.FileName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f.Store.Owner).ThenBy(f => f.WindowsPath, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// An intact CryptoAPI machine key file under the current MachineGuid that holds this public key: what
    /// <c>certutil -repairstore</c> would link a certificate to. Null when there is none (or the GUID is unknown).
    /// </summary>
    public ScannedKeyFile? FindMachineKeyFor(string publicKeySha256)
    {
        if (!Guid.TryParse(MachineGuid, out var current)) return null;
        return KeyFiles.FirstOrDefault(f => f.InMachineCapi && f.Report.Container is not null
            && string.Equals(f.Report.PublicKeySha256, publicKeySha256, StringComparison.OrdinalIgnoreCase)
            && !IsDamaged(f.Report.Status)
            && ContainerName.TrySplitFileName(f.Report.FileName, out _, out var guid) && guid == current);
    }

    /// <summary>Damage that makes a key unusable (GUID and duplicate statuses are the MachineGuid check's business).</summary>
    public static bool IsDamaged(KeyFileStatus status) => status is KeyFileStatus.ZeroLength or KeyFileStatus.Unreadable
        or KeyFileStatus.NotAKeyFile or KeyFileStatus.Truncated or KeyFileStatus.DpapiBlobMalformed
        or KeyFileStatus.PublicKeyMalformed or KeyFileStatus.NameMismatch;

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

    /// <summary>
    /// The System and Security logs of this layout (EVTX on Vista and later, SysEvent.Evt and SecEvent.Evt on
    /// Server 2003), only the events the checks look at.
    /// </summary>
    private void LoadEvents()
    {
        var events = new List<ScannedEvent>();
        foreach (var log in Layout.EventLogFiles)
        {
            var ids = log.Channel switch { "System" => SystemEventIds, "Security" => SecurityEventIds, _ => null };
            if (ids is null || Source.GetLocalPath(log.Path) is not { } local) continue;
            try
            {
                if (log.Legacy)
                {
                    using var legacy = EvtReader.Open(local);
                    foreach (var result in legacy.ReadRecords())
                        if (result.Record is { } record && ids.Contains(record.EventId))
                            events.Add(new ScannedEvent(log.Path, record.ToEventRecord(log.Channel)));
                    continue;
                }
                using var reader = EvtxReader.Open(local);
                foreach (var result in reader.ReadRecords(new EvtxReadOptions { EventIds = ids.ToHashSet() }))
                    if (result.Record is { } record) events.Add(new ScannedEvent(log.Path, record));
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException)
            {
                _unavailable.Add((log.Path, ex.Message));
            }
        }
        Events = events;
    }
}

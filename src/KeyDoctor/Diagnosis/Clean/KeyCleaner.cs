using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Certificates;
using KeyDoctor.Formats.Evt;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Audit;
using KeyDoctor.Machine.KeyStore;

namespace KeyDoctor.Diagnosis.Clean;

/// <summary>What <c>keys clean</c> does with one key file.</summary>
public enum CleanAction
{
    /// <summary>Something uses it, or it is too recent to judge.</summary>
    Keep,

    /// <summary>Nothing uses it: moved into the repair's backup folder when the plan is applied.</summary>
    Quarantine,

    /// <summary>Never moved automatically: another MachineGuid's key, a damaged key something uses, a file that is no key file.</summary>
    Review,
}

/// <summary>One key file's verdict. <see cref="File"/> is a Windows path relative to the system drive.</summary>
public sealed record CleanRow(string File, string Store, KeyProviderKind Kind, string? Container, string? MachineGuid,
                              CleanAction Action, string Reason, DateTime? CreatedUtc, DateTime? ModifiedUtc, long Size);

public sealed record CleanOptions
{
    /// <summary>Keys modified within this many days of the reference time are kept.</summary>
    public int OlderThanDays { get; init; } = 30;

    /// <summary>Parallel readers; one per core by default.</summary>
    public int Workers { get; init; }

    /// <summary>The time "now" for the age rule; by default when the source was collected, else see <see cref="KeyCleaner.ReferenceTime"/>.</summary>
    public DateTimeOffset? Now { get; init; }

    /// <summary>The last boot, when the caller knows it (the live machine); else read from the System log.</summary>
    public DateTimeOffset? LastBoot { get; init; }

    /// <summary>
    /// Orphans to keep for a plan (<see cref="KeyCleaner.PlannedOrphans"/>): the first this many in store and name
    /// order; 0 keeps none.
    /// </summary>
    public int PlanLimit { get; init; }
}

/// <summary>The orphans of one store kept for a plan, in name order (made from the store's packed names when read).</summary>
public sealed record PlannedOrphans(string Store, IReadOnlyList<string> Names);

/// <summary>Which process and account created orphan keys, from Security 5058/5061 events.</summary>
public sealed record LeakCreator(string Account, string Process, long Events, DateTime First, DateTime Last);

/// <summary>Orphans that share a container-name shape, with their first and last creation day and their rate.</summary>
public sealed record LeakPattern(string Pattern, long Files, DateOnly First, DateOnly Last, double PerDay, string Example);

/// <summary>How many orphans were created on one day.</summary>
public sealed record LeakDay(DateOnly Day, long Files);

/// <summary>The totals of one store, by action.</summary>
public sealed record CleanStoreTotals(string Store, string Owner, KeyProviderKind Kind, long Files, long Keep, long Quarantine, long Review, long QuarantineBytes);

/// <summary>The summary <c>keys clean</c> prints first.</summary>
public sealed record CleanSummary
{
    public required long Files { get; init; }
    public required long Keep { get; init; }
    public required long Quarantine { get; init; }
    public required long Review { get; init; }
    public required long Bytes { get; init; }
    public required long QuarantineBytes { get; init; }
    public required IReadOnlyList<CleanStoreTotals> Stores { get; init; }
    public string? MachineGuid { get; init; }
    public required DatedFact Reference { get; init; }
    public DatedFact? LastBoot { get; init; }
    public required int OlderThanDays { get; init; }
    public required IReadOnlyList<LeakDay> Days { get; init; }
    public required IReadOnlyList<LeakPattern> Patterns { get; init; }
    public required IReadOnlyList<LeakCreator> Creators { get; init; }

    /// <summary>"~41,000 keys/day since 2026-03-02", or null with no orphans.</summary>
    public string? Rate { get; init; }

    /// <summary>Keys kept because something names them, by what names them (certificate, configuration, system).</summary>
    public required IReadOnlyDictionary<string, long> KeptBy { get; init; }

    /// <summary>What could not be read, and so was not used to keep a key (every such gap keeps more, never less, unless said).</summary>
    public required IReadOnlyList<string> Unavailable { get; init; }
}

/// <summary>
/// <c>keys clean</c>: decides, for every key file of every machine and service key store of a source, whether
/// something uses it (keep, and what), whether it is an orphan (quarantine), or whether a person must look (review).
/// Streams each folder in name order, reading only each file's header; holds no file contents.
/// </summary>
public sealed class KeyCleaner
{
    /// <summary>Bytes read from an unused key file: the header and the container name.</summary>
    public const int HeaderBytes = 1024;

    private readonly IMachineSource _source;
    private readonly CleanOptions _options;
    private readonly Dictionary<UInt128, string> _usedCapi = [];
    private readonly Dictionary<UInt128, string> _usedCng = [];
    private readonly List<string> _unavailable = [];
    private readonly Tally _tally = new();
    private readonly List<PlannedOrphans> _planned = [];
    private int _plannedCount;
    private WindowsRegistry? _registry;
    private Guid? _machineGuid;
    private DateTimeOffset _cutoff;
    private bool _linksKnown;

    public KeyCleaner(IMachineSource source, CleanOptions? options = null)
    {
        _source = source;
        _options = options ?? new CleanOptions();
        Layout = WindowsLayout.Detect(source);
    }

    public WindowsLayout Layout { get; }
    public KeyStoreCatalogue Catalogue { get; private set; } = null!;
    public string? MachineGuid => _machineGuid?.ToString("D");
    public DatedFact ReferenceTime { get; private set; } = null!;
    public DatedFact? LastBoot { get; private set; }

    /// <summary>
    /// The orphans kept for a plan (up to <see cref="CleanOptions.PlanLimit"/>), per store in <see cref="Stores"/>
    /// order, once <see cref="Classify"/> has been read to the end.
    /// </summary>
    public IReadOnlyList<PlannedOrphans> PlannedOrphans => _planned;

    /// <summary>Orphans beyond <see cref="CleanOptions.PlanLimit"/>: left for the next run, once the plan is applied.</summary>
    public long OrphansNotPlanned { get; private set; }

    /// <summary>The stores read: the machine's (CryptoAPI, CNG, DSS), LocalSystem's, and the service accounts' profiles.</summary>
    public IReadOnlyList<KeyStoreLocation> Stores { get; private set; } = [];

    /// <summary>Reads what decides a key is used: registry (MachineGuid, certificates), configuration files, boot time.</summary>
    public KeyCleaner Prepare()
    {
        OpenRegistry();
        var profiles = _registry?.ProfileList.Select(p => new ProfileListEntry(p.Sid, p.ProfileImagePath)).ToList() ?? [];
        Catalogue = KeyStoreCatalogue.Of(_source, Layout, profiles);
        var stores = Catalogue.Stores.Where(s => s.Owner != KeyStoreOwner.User).ToList();
        stores.Insert(1, new KeyStoreLocation($@"{Layout.Crypto}\DSS\MachineKeys", KeyProviderKind.Capi, KeyStoreOwner.Machine));
        // systemprofile: LocalSystem's own profile (its roaming Crypto folders, besides ProgramData's S-1-5-18).
        const string systemProfile = @"Windows\System32\config\systemprofile";
        stores.Add(new KeyStoreLocation(Layout.UserRsaKeys(systemProfile, WellKnownSids.LocalSystem), KeyProviderKind.Capi, KeyStoreOwner.LocalSystem, WellKnownSids.LocalSystem, systemProfile));
        stores.Add(new KeyStoreLocation(Layout.UserCngKeys(systemProfile), KeyProviderKind.Cng, KeyStoreOwner.LocalSystem, WellKnownSids.LocalSystem, systemProfile));
        Stores = stores.DistinctBy(s => s.Path, StringComparer.OrdinalIgnoreCase).ToList();

        foreach (var kind in new[] { KeyProviderKind.Capi, KeyProviderKind.Cng })
            foreach (var (digest, usedBy) in KeepList.Digests(kind))
                Used(kind).TryAdd(digest, $"system container {usedBy}");
        AddCertificateLinks();
        AddConfigurationKeys();
        ReferenceTime = DecideReferenceTime();
        LastBoot = _options.LastBoot is { } boot ? new DatedFact(boot, "this machine's uptime") : ReadLastBoot();
        if (LastBoot is null) _unavailable.Add("the last boot time (no boot event in the System log): only the age rule keeps recent keys");
        _cutoff = ReferenceTime.Time.AddDays(-_options.OlderThanDays);
        // The orphans' digests are only kept to match Security events: without a Security log they cost memory for nothing.
        _tally.KeepDigests = Layout.EventLogFiles.Any(l => l.Channel == "Security" && !l.Legacy && _source.GetLocalPath(l.Path) is not null);
        return this;
    }

    private Dictionary<UInt128, string> Used(KeyProviderKind kind) => kind == KeyProviderKind.Capi ? _usedCapi : _usedCng;

    /// <summary>A name something uses, kept in both stores (a link's provider type can be wrong; keeping too much is safe).</summary>
    private void AddUsed(string name, string usedBy)
    {
        _usedCapi.TryAdd(ContainerName.CapiDigest(name), usedBy);
        _usedCng.TryAdd(ContainerName.CngDigest(name), usedBy);
    }

    private void OpenRegistry()
    {
        var root = (_source as FolderMachineSource)?.Root;
        if (root is null) return;
        try
        {
            _registry = WindowsRegistry.OpenImage(root);
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException)
        {
            _unavailable.Add($"the registry ({ex.Message}): certificates' key links were not read");
            return;
        }
        if (_registry.Software is null) _unavailable.Add("the SOFTWARE registry: certificates' key links and MachineGuid were not read");
        if (Guid.TryParse(_registry.MachineGuid?.Trim(), out var guid)) _machineGuid = guid;
    }

    /// <summary>Every KEY_PROV_INFO of every machine store, the group-policy stores, the services' stores and the service profiles' user stores.</summary>
    private void AddCertificateLinks()
    {
        if (_registry?.Software is not { } software) return;
        _linksKnown = true;
        var certificates = new List<StoredCertificate>(_registry.Certificates());
        if (software.OpenKey(@"Microsoft\Cryptography\Services") is { } services)
            foreach (var service in services.Subkeys)
                if (service.OpenSubkey("SystemCertificates") is { } stores)
                    certificates.AddRange(CertificateStoreReader.ReadAll(stores, $"Service {service.Name}"));
        foreach (var store in Stores.Where(s => s.Profile is not null).Select(s => s.Profile!).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (_source.GetLocalPath($@"{store}\NTUSER.DAT") is not { } hive) continue;
            try
            {
                certificates.AddRange(new WindowsRegistry(null, null, RegistryHive.Open(hive)).Certificates());
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException)
            {
                _unavailable.Add($@"{store}\NTUSER.DAT ({ex.Message}): its certificates' key links were not read");
            }
        }
        foreach (var certificate in certificates)
            if (certificate.Entry?.KeyProviderInfo is { ContainerName: { Length: > 0 } container })
                AddUsed(container, $@"certificate {certificate.Thumbprint} in {certificate.Location}\{certificate.Store}");
    }

    /// <summary>keyContainerName of every protected-configuration provider in applicationHost.config, machine.config and the web.config files present.</summary>
    private void AddConfigurationKeys()
    {
        var files = new List<string> { WindowsPaths.ApplicationHostConfig, WindowsPaths.AdministrationConfig };
        foreach (var framework in new[] { "Framework", "Framework64" })
        {
            var folder = $@"Windows\Microsoft.NET\{framework}";
            foreach (var version in _source.EnumerateDirectories(folder).Order(StringComparer.OrdinalIgnoreCase))
            {
                files.Add($@"{folder}\{version}\Config\machine.config");
                files.Add($@"{folder}\{version}\Config\web.config");
            }
        }
        files.Add(@"inetpub\wwwroot\web.config");
        ApplicationHostConfig? host = null;
        foreach (var file in files)
        {
            var config = ReadConfig(file);
            if (file == WindowsPaths.ApplicationHostConfig) host = config;
        }
        // Each site's and application's web.config on the system drive.
        foreach (var directory in (host?.Sites ?? []).SelectMany(s => s.Applications).SelectMany(a => a.VirtualDirectories))
            if (directory.PhysicalPath is { } physical && WindowsLayout.ProfilePathOnSystemDrive(physical) is { } folder)
                ReadConfig($@"{folder}\web.config");
    }

    private ApplicationHostConfig? ReadConfig(string file)
    {
        if (_source.GetLocalPath(file) is not { } local) return null;
        try
        {
            var config = ApplicationHostConfig.Read(local);
            foreach (var provider in config.Providers)
                if (provider.KeyContainerName is { Length: > 0 } name)
                    AddUsed(name, $"protected-configuration provider {provider.Name} in {file}");
            return config;
        }
        catch (MalformedDataException ex)
        {
            _unavailable.Add($"{file} ({ex.Reason}): its providers' keys were not read");
            return null;
        }
    }

    /// <summary>
    /// When the source was collected; for an image, the newest of its SOFTWARE and SYSTEM hives (written at shutdown),
    /// else of its registry exports (.reg, what an image without hive files holds); now only when the image has neither.
    /// An offline source is never dated by the clock: keys would age with the copy, and two runs would differ.
    /// </summary>
    private DatedFact DecideReferenceTime() => _options.Now is { } now ? new DatedFact(now, "given") : SourceClock.Of(_source);

    private DatedFact? ReadLastBoot()
    {
        DateTime? newest = null;
        string? from = null;
        foreach (var log in Layout.EventLogFiles.Where(l => l.Channel == "System"))
        {
            if (_source.GetLocalPath(log.Path) is not { } local) continue;
            try
            {
                if (log.Legacy)
                {
                    using var legacy = EvtReader.Open(local);
                    foreach (var result in legacy.ReadRecords())
                        if (result.Record is { EventId: 6005 } record && record.ToEventRecord(log.Channel).Time is var time && (newest is null || time > newest))
                            (newest, from) = (time, $"{log.Path} event 6005");
                    continue;
                }
                using var reader = EvtxReader.Open(local);
                foreach (var result in reader.ReadRecords(new EvtxReadOptions { EventIds = new HashSet<int> { 12, 6005 } }))
                    if (result.Record is { } record && (record.EventId == 6005 || record.Provider?.Contains("Kernel-General", StringComparison.OrdinalIgnoreCase) == true)
                        && (newest is null || record.Time > newest))
                        (newest, from) = (record.Time, $"{log.Path} event {record.EventId}");
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException)
            {
                _unavailable.Add($"{log.Path} ({ex.Message}): the last boot was not read from it");
            }
        }
        return newest is { } boot ? new DatedFact(new DateTimeOffset(DateTime.SpecifyKind(boot, DateTimeKind.Utc)), from!) : null;
    }

    /// <summary>
    /// Every key file's verdict, store by store, each store in file-name order. <paramref name="progress"/> is told
    /// the number of files done so far now and then.
    /// </summary>
    public IEnumerable<CleanRow> Classify(Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        long done = 0;
        foreach (var store in Stores)
        {
            if (_source.GetLocalDirectory(store.Path) is not { } local) continue;
            var names = KeyFolderNames.Read(local, cancellationToken);
            var used = Used(store.Kind);
            var index = -1;
            List<int>? planned = null;
            foreach (var row in names.Map((path, name, buffer) => ClassifyOne(store, path, name, buffer, used), HeaderBytes, _options.Workers,
                         cancellationToken: cancellationToken))
            {
                index++;
                _tally.Add(store, row);
                if (row.Action == CleanAction.Quarantine && _options.PlanLimit > 0)
                {
                    if (_plannedCount < _options.PlanLimit)
                    {
                        if (planned is null) _planned.Add(new PlannedOrphans(store.Path, names.Subset(planned = [])));
                        planned.Add(index);
                        _plannedCount++;
                    }
                    else OrphansNotPlanned++;
                }
                if ((++done & 0x3FF) == 0) progress?.Invoke(done);
                yield return row;
            }
        }
        progress?.Invoke(done);
    }

    private CleanRow ClassifyOne(KeyStoreLocation store, string path, string name, byte[] buffer, Dictionary<UInt128, string> used)
    {
        var file = WindowsPaths.Combine(store.Path, name);
        var hasPrefix = ContainerName.TrySplitFileName(name, out var prefix, out var guid);
        long size;
        DateTime created, modified;
        int read;
        try
        {
            var info = new FileInfo(path);
            size = info.Length;
            created = info.CreationTimeUtc;
            modified = info.LastWriteTimeUtc;
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(size, buffer.Length)), 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new CleanRow(file, store.Path, store.Kind, null, guid?.ToString("D"), CleanAction.Review,
                $"could not be read ({ex.Message}): look at it before removing anything", null, null, 0);
        }
        CleanRow Row(string? container, CleanAction action, string reason) =>
            new(file, store.Path, store.Kind, container, guid?.ToString("D"), action, reason, created, modified, size);

        var container = ReadContainerName(buffer.AsSpan(0, read), store.Kind);
        if (!hasPrefix)
            return Row(container, CleanAction.Review, "the file name is not <32 hex>_<GUID>: not a key file CryptoAPI or CNG made");
        if (guid is { } own && _machineGuid is { } current && own != current)
            return Row(container, CleanAction.Review,
                $"carries MachineGuid {own:D}, not this machine's {current:D}: evidence for KD1001, and it may work again once that GUID is restored");
        if (used.TryGetValue(prefix, out var usedBy))
        {
            // Something uses this container: a damaged file of it is evidence to restore, never an orphan.
            var damage = Damage(path, name, store.Kind);
            return damage is null ? Row(container, CleanAction.Keep, $"used by {usedBy}")
                : Row(container, CleanAction.Review, $"damaged ({damage}), and used by {usedBy}: restore it from a backup, do not remove it");
        }
        if (modified >= _cutoff.UtcDateTime)
            return Row(container, CleanAction.Keep, $"modified {modified:yyyy-MM-dd}, within the last {_options.OlderThanDays} days");
        if (LastBoot is { } boot && created >= boot.Time.UtcDateTime)
            return Row(container, CleanAction.Keep, $"created {created:yyyy-MM-dd HH:mm} UTC, after the last boot ({boot.Time.UtcDateTime:yyyy-MM-dd HH:mm} UTC)");
        if (!_linksKnown)
            return Row(container, CleanAction.Review,
                "nothing KeyDoctor read uses it, but the certificate stores (SOFTWARE registry) could not be read: a certificate may link it");
        var what = container is null ? "a file whose container name does not read" : "a container";
        return Row(container, CleanAction.Quarantine,
            $"orphan: {what} no system service, certificate or protected-configuration provider uses; last modified {modified:yyyy-MM-dd}");
    }

    /// <summary>The container name stored after the header (CryptoAPI: ANSI, CNG: UTF-16LE), or null when the header does not read.</summary>
    public static string? ReadContainerName(ReadOnlySpan<byte> data, KeyProviderKind kind)
    {
        var headerLength = kind == KeyProviderKind.Capi ? CapiKeyFileHeader.Length : CngKeyFileHeader.Length;
        if (data.Length < headerLength) return null;
        var version = BinaryPrimitives.ReadUInt32LittleEndian(data);
        var nameLength = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        if (nameLength == 0 || headerLength + (long)nameLength > data.Length) return null;
        var name = data.Slice(headerLength, (int)nameLength);
        if (kind == KeyProviderKind.Capi && version == CapiKeyFileHeader.ExpectedVersion)
            return ContainerName.AnsiEncoding.GetString(name).TrimEnd('\0');
        if (kind == KeyProviderKind.Cng && version == CngKeyFileHeader.ExpectedVersion && nameLength % 2 == 0)
            return Encoding.Unicode.GetString(name).TrimEnd('\0');
        return null;
    }

    /// <summary>Why a used key file is damaged (the full inspection of the scan), or null when it is intact.</summary>
    private static string? Damage(string path, string name, KeyProviderKind kind)
    {
        var report = KeyStoreScanner.ReadOne(path, new byte[KeyFileInspector.MaxKeyFileLength], kind, null, null);
        return report.Problems.FirstOrDefault(p => p.Status is KeyFileStatus.ZeroLength or KeyFileStatus.Unreadable or KeyFileStatus.NotAKeyFile
            or KeyFileStatus.Truncated or KeyFileStatus.DpapiBlobMalformed or KeyFileStatus.PublicKeyMalformed or KeyFileStatus.NameMismatch) is { } problem
            ? $"{problem.Name}: {problem.Evidence}"
            : null;
    }

    /// <summary>The totals and the leak's shape, once <see cref="Classify"/> has been read to the end.</summary>
    public CleanSummary Summarize() => _tally.Summarize(this, ReadCreators());

    /// <summary>Security 5058/5061 events about orphan keys: who made them (the account, the process id and, from 4688 when logged, its image).</summary>
    private IReadOnlyList<LeakCreator> ReadCreators()
    {
        if (_tally.OrphanDigests.Count == 0) return [];
        var creators = new Dictionary<(string Account, string Process), (long Count, DateTime First, DateTime Last)>();
        var processNames = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var log in Layout.EventLogFiles.Where(l => l.Channel == "Security" && !l.Legacy))
        {
            if (_source.GetLocalPath(log.Path) is not { } local) continue;
            try
            {
                using var reader = EvtxReader.Open(local);
                foreach (var result in reader.ReadRecords(new EvtxReadOptions { EventIds = new HashSet<int> { 4688, 5058, 5061 } }))
                {
                    if (result.Record is not { } record) continue;
                    if (record.EventId == 4688)
                    {
                        if (record.GetData("NewProcessId") is { } pid && record.GetData("NewProcessName") is { } image) processNames[Pid(pid)] = image;
                        continue;
                    }
                    if (!IsOrphanKey(record)) continue;
                    var account = $@"{record.GetData("SubjectDomainName")}\{record.GetData("SubjectUserName")}".Trim('\\');
                    if (record.GetData("SubjectUserSid") is { Length: > 0 } sid) account = account.Length == 0 ? sid : $"{account} ({sid})";
                    var process = record.GetData("ClientProcessId") is { Length: > 0 } id ? Pid(id) : record.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "?";
                    var key = (account.Length == 0 ? "?" : account, process);
                    creators[key] = creators.TryGetValue(key, out var seen)
                        ? (seen.Count + 1, record.Time < seen.First ? record.Time : seen.First, record.Time > seen.Last ? record.Time : seen.Last)
                        : (1, record.Time, record.Time);
                }
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException)
            {
                _unavailable.Add($"{log.Path} ({ex.Message}): who created the orphans was not read from it");
            }
        }
        return creators.Select(c => new LeakCreator(c.Key.Account,
                processNames.TryGetValue(c.Key.Process, out var image) ? $"{image} (pid {c.Key.Process})" : $"pid {c.Key.Process}",
                c.Value.Count, c.Value.First, c.Value.Last))
            .OrderByDescending(c => c.Events).ThenBy(c => c.Account, StringComparer.Ordinal).ThenBy(c => c.Process, StringComparer.Ordinal)
            .Take(20).ToList();
    }

    /// <summary>A process id as Windows logs it (0x1a2c or 6700), as a decimal string; anything else as written.</summary>
    private static string Pid(string text) =>
        KeyAccessReport.ParseNumber(text)?.ToString(CultureInfo.InvariantCulture) ?? text.Trim();

    private bool IsOrphanKey(EvtxRecord record)
    {
        if (record.GetData("KeyFilePath") is { Length: > 0 } keyFile
            && ContainerName.TrySplitFileName(WindowsPaths.FileName(keyFile), out var prefix, out _))
            return _tally.OrphanDigests.Contains(prefix);
        if (record.GetData("KeyName") is not { Length: > 0 } keyName) return false;
        return _tally.OrphanDigests.Contains(ContainerName.CapiDigest(keyName)) || _tally.OrphanDigests.Contains(ContainerName.CngDigest(keyName));
    }

    internal IReadOnlyList<string> Unavailable => _unavailable;

    /// <summary>Running totals: a few numbers per store, a count per day and per name pattern, the orphans' prefix digests.</summary>
    private sealed class Tally
    {
        public const int MaxPatterns = 10_000;
        private readonly Dictionary<string, CleanStoreTotals> _stores = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _storeOrder = [];
        private readonly SortedDictionary<DateOnly, long> _days = [];
        private readonly Dictionary<string, (long Files, DateOnly First, DateOnly Last, string Example)> _patterns = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _keptBy = new(StringComparer.Ordinal);
        public HashSet<UInt128> OrphanDigests { get; } = [];
        public bool KeepDigests { get; set; } = true;
        private long _otherPatterns;

        public void Add(KeyStoreLocation store, CleanRow row)
        {
            if (!_stores.TryGetValue(store.Path, out var totals))
            {
                totals = new CleanStoreTotals(store.Path, store.Describe(), store.Kind, 0, 0, 0, 0, 0);
                _storeOrder.Add(store.Path);
            }
            _stores[store.Path] = totals with
            {
                Files = totals.Files + 1,
                Keep = totals.Keep + (row.Action == CleanAction.Keep ? 1 : 0),
                Quarantine = totals.Quarantine + (row.Action == CleanAction.Quarantine ? 1 : 0),
                Review = totals.Review + (row.Action == CleanAction.Review ? 1 : 0),
                QuarantineBytes = totals.QuarantineBytes + (row.Action == CleanAction.Quarantine ? row.Size : 0),
            };
            _bytes += row.Size;
            if (row.Action == CleanAction.Keep)
            {
                var by = row.Reason.StartsWith("used by certificate", StringComparison.Ordinal) ? "certificate key link"
                    : row.Reason.StartsWith("used by protected-configuration", StringComparison.Ordinal) ? "protected-configuration provider"
                    : row.Reason.StartsWith("used by system container", StringComparison.Ordinal) ? "system container (keep list)"
                    : row.Reason.StartsWith("modified", StringComparison.Ordinal) ? "modified recently"
                    : "created after the last boot";
                _keptBy[by] = _keptBy.GetValueOrDefault(by) + 1;
            }
            if (row.Action != CleanAction.Quarantine) return;
            if (KeepDigests && ContainerName.TrySplitFileName(WindowsPaths.FileName(row.File), out var prefix, out _)) OrphanDigests.Add(prefix);
            var day = DateOnly.FromDateTime(row.CreatedUtc ?? row.ModifiedUtc ?? DateTime.UnixEpoch);
            _days[day] = _days.GetValueOrDefault(day) + 1;
            var pattern = PatternOf(row.Container);
            if (_patterns.TryGetValue(pattern, out var seen))
                _patterns[pattern] = (seen.Files + 1, day < seen.First ? day : seen.First, day > seen.Last ? day : seen.Last, seen.Example);
            else if (_patterns.Count < MaxPatterns) _patterns[pattern] = (1, day, day, row.Container ?? "(unreadable)");
            else _otherPatterns++;
        }

        private long _bytes;

        public CleanSummary Summarize(KeyCleaner cleaner, IReadOnlyList<LeakCreator> creators)
        {
            var stores = _storeOrder.Select(p => _stores[p]).ToList();
            var quarantine = stores.Sum(s => s.Quarantine);
            var patterns = _patterns.Select(p => new LeakPattern(p.Key, p.Value.Files, p.Value.First, p.Value.Last,
                    p.Value.Files / (double)(p.Value.Last.DayNumber - p.Value.First.DayNumber + 1), p.Value.Example))
                .OrderByDescending(p => p.Files).ThenBy(p => p.Pattern, StringComparer.Ordinal).Take(20).ToList();
            if (_otherPatterns > 0) patterns.Add(new LeakPattern("(other names)", _otherPatterns, DateOnly.MinValue, DateOnly.MinValue, 0, ""));
            return new CleanSummary
            {
                Files = stores.Sum(s => s.Files),
                Keep = stores.Sum(s => s.Keep),
                Quarantine = quarantine,
                Review = stores.Sum(s => s.Review),
                Bytes = _bytes,
                QuarantineBytes = stores.Sum(s => s.QuarantineBytes),
                Stores = stores,
                MachineGuid = cleaner.MachineGuid,
                Reference = cleaner.ReferenceTime,
                LastBoot = cleaner.LastBoot,
                OlderThanDays = cleaner._options.OlderThanDays,
                Days = _days.Select(d => new LeakDay(d.Key, d.Value)).ToList(),
                Patterns = patterns,
                Creators = creators,
                Rate = Rate(),
                KeptBy = new SortedDictionary<string, long>(_keptBy, StringComparer.Ordinal),
                Unavailable = cleaner.Unavailable.ToList(),
            };
        }

        /// <summary>
        /// The leak's pace: the busiest run of days (from the first day with at least a tenth of the busiest day's
        /// count to the last orphan), so a handful of old strays does not dilute it.
        /// </summary>
        private string? Rate()
        {
            if (_days.Count == 0) return null;
            var peak = _days.Values.Max();
            var start = _days.First(d => d.Value * 10 >= peak).Key;
            var last = _days.Keys.Max();
            var files = _days.Where(d => d.Key >= start).Sum(d => d.Value);
            var perDay = files / (double)(last.DayNumber - start.DayNumber + 1);
            return $"~{Round(perDay).ToString("N0", CultureInfo.InvariantCulture)} keys/day since {start:yyyy-MM-dd}";
        }

        /// <summary>Two significant digits from 100 up (41,000 not 41,237): a rate, not a count.</summary>
        private static double Round(double value)
        {
            if (value < 100) return Math.Round(value);
            var step = Math.Pow(10, Math.Floor(Math.Log10(value)) - 1);
            return Math.Round(value / step) * step;
        }
    }

    /// <summary>
    /// A container name's shape: GUIDs become {GUID}, runs of 8+ hex digits {HEX}, other digit runs {N}, so
    /// "le-1f3a…-4711" from one leaking application all fall in one group.
    /// </summary>
    public static string PatternOf(string? container)
    {
        if (container is null) return "(unreadable name)";
        var text = new StringBuilder(container.Length);
        var i = 0;
        while (i < container.Length)
        {
            if (i + 36 <= container.Length && Guid.TryParseExact(container.AsSpan(i, 36), "D", out _))
            {
                text.Append("{GUID}");
                i += 36;
                continue;
            }
            var j = i;
            while (j < container.Length && char.IsAsciiHexDigit(container[j])) j++;
            if (j - i >= 8 && container.AsSpan(i, j - i).ContainsAnyInRange('0', '9'))
            {
                text.Append("{HEX}");
                i = j;
                continue;
            }
            if (char.IsAsciiDigit(container[i]))
            {
                j = i;
                while (j < container.Length && char.IsAsciiDigit(container[j])) j++;
                text.Append("{N}");
                i = j;
                continue;
            }
            text.Append(container[i]);
            i++;
        }
        return text.ToString();
    }
}

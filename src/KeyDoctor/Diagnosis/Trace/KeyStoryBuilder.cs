using System.Globalization;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Diagnosis.Trace;

/// <summary>A key file on the machine the trace came from (from --source): its name and the container name inside it.</summary>
public sealed record KnownKeyFile(string FileName, string? Container);

/// <summary>
/// Builds the <see cref="KeyStory"/> from a stream of Procmon events (PML, CSV or XML alike), keeping only the
/// accesses that matter, so a capture of any size is read once in bounded memory. Key file names are mapped to
/// containers by the file-name hash rule (well-known containers), or by the key files themselves when given.
/// </summary>
public static class KeyStoryBuilder
{
    public static KeyStory Build(IEnumerable<ProcmonEvent> events, IReadOnlyList<KnownKeyFile>? keyFiles = null)
    {
        var byProcess = new Dictionary<ProcmonProcess, List<KeyAccess>>(ReferenceEqualityComparer.Instance);
        var order = new List<ProcmonProcess>();
        var guids = new List<string>();
        var containers = new Dictionary<UInt128, string>();
        foreach (var file in keyFiles ?? [])
            if (file.Container is not null && ContainerName.TrySplitFileName(file.FileName, out var prefix, out _))
                containers.TryAdd(prefix, file.Container);
        long read = 0;
        foreach (var e in events)
        {
            read++;
            if (Classify(e.Path) is not { } kind) continue;
            var access = ToAccess(e, kind, containers);
            if (kind == KeyResourceKind.MachineGuid && IsMachineGuidValue(e.Path) && e.ValueData is { Length: > 0 } guid && !guids.Contains(guid))
                guids.Add(guid);
            if (!byProcess.TryGetValue(e.Process, out var list))
            {
                byProcess[e.Process] = list = [];
                order.Add(e.Process);
            }
            list.Add(access);
        }

        var processes = order
            .Select(p => new KeyStoryProcess
            {
                Process = p,
                Accesses = [.. byProcess[p].OrderByDescending(a => a.Failed).ThenBy(a => a.Sequence)],
                Sentences = Sentences(p, byProcess[p], keyFiles),
            })
            .OrderByDescending(p => p.Failures > 0)
            .ThenBy(p => p.Accesses.Min(a => a.Sequence))
            .ToList();
        return new KeyStory { Processes = processes, MachineGuids = guids, EventsRead = read };
    }

    /// <summary>Which key-related resource a Procmon path is, or null.</summary>
    public static KeyResourceKind? Classify(string path)
    {
        if (path.Length == 0) return null;
        if (Contains(path, @"\Crypto\RSA\MachineKeys")) return KeyResourceKind.MachineKeys;
        if (Contains(path, @"\Crypto\Keys")) return KeyResourceKind.CngKeys;
        if (Contains(path, @"\Crypto\DSS")) return KeyResourceKind.DssKeys;
        if (Contains(path, @"\Crypto\RSA\S-1-")) return KeyResourceKind.UserKeys;
        if (path.StartsWith(@"HKLM\SOFTWARE\Microsoft\Cryptography", StringComparison.OrdinalIgnoreCase)
            && (path.Length == 36 || path[36] == '\\')) return KeyResourceKind.MachineGuid;
        if (Contains(path, "SystemCertificates")) return KeyResourceKind.CertificateStore;
        if (Contains(path, "SslBindingInfo")) return KeyResourceKind.SslBinding;
        return null;
    }

    private static bool Contains(string path, string part) => path.Contains(part, StringComparison.OrdinalIgnoreCase);

    private static bool IsMachineGuidValue(string path) => path.EndsWith(@"\Cryptography\MachineGuid", StringComparison.OrdinalIgnoreCase);

    private static KeyAccess ToAccess(ProcmonEvent e, KeyResourceKind kind, Dictionary<UInt128, string> containers)
    {
        var name = e.Path[(e.Path.LastIndexOf('\\') + 1)..];
        string? keyFile = null, container = null, use = null;
        Guid? suffix = null;
        if (kind is KeyResourceKind.MachineKeys or KeyResourceKind.CngKeys or KeyResourceKind.DssKeys or KeyResourceKind.UserKeys
            && ContainerName.TrySplitFileName(name, out var prefix, out var guid))
        {
            keyFile = name;
            suffix = guid;
            var known = kind == KeyResourceKind.CngKeys ? WellKnownContainers.Find(prefix, KeyProviderKind.Cng) : WellKnownContainers.Find(prefix);
            container = containers.GetValueOrDefault(prefix) ?? known?.Name;
            use = known?.UsedBy;
        }
        return new KeyAccess
        {
            Sequence = e.Sequence,
            Time = e.Time,
            Kind = kind,
            Operation = e.Operation,
            Path = e.Path,
            Result = e.Result,
            Failed = e.Status is { } status ? ProcmonResults.IsFailure(status) : e.Result is "ACCESS DENIED" or "NAME NOT FOUND" or "PATH NOT FOUND",
            Detail = e.Detail,
            KeyFile = keyFile,
            Container = container,
            ContainerUse = use,
            MachineGuidSuffix = suffix,
        };
    }

    /// <summary>The process's story: MachineGuid reads, key files not found, created, denied; the older files of the same containers.</summary>
    private static List<string> Sentences(ProcmonProcess process, List<KeyAccess> accesses, IReadOnlyList<KnownKeyFile>? keyFiles)
    {
        var who = Who(process);
        var sentences = new List<string>();
        var guid = accesses.LastOrDefault(a => a.Kind == KeyResourceKind.MachineGuid && IsMachineGuidValue(a.Path) && a.Operation == "RegQueryValue" && !a.Failed)
            is { } query ? ValueOf(query.Detail) : null;
        foreach (var write in accesses.Where(a => a.Kind == KeyResourceKind.MachineGuid && IsMachineGuidValue(a.Path) && a.Operation == "RegSetValue"))
            sentences.Add($"{who} wrote MachineGuid = {ValueOf(write.Detail) ?? "?"} ({write.Result}).");

        foreach (var file in accesses.Where(a => a.KeyFile is not null).GroupBy(a => a.KeyFile!, StringComparer.OrdinalIgnoreCase))
        {
            var first = file.OrderBy(a => a.Sequence).First();
            var name = Short(file.Key);
            var container = first.Container is null ? "" : $" (container \"{first.Container}\")";
            var notFound = file.Any(a => a.NotFound);
            var created = file.Any(a => a.Created);
            var prefix = guid is not null && first.MachineGuidSuffix is { } s && string.Equals(s.ToString(), guid.Trim('{', '}'), StringComparison.OrdinalIgnoreCase)
                ? $"{who} read MachineGuid = {guid}, " : $"{who} ";
            if (notFound && created)
                sentences.Add($"{prefix}did not find {name}{container} (NAME NOT FOUND) and created it.");
            else if (notFound)
                sentences.Add($"{prefix}did not find {name}{container} ({file.First(a => a.NotFound).Result}).");
            else if (created)
                sentences.Add($"{prefix}created {name}{container}.");
            foreach (var denied in file.Where(a => a.Denied).Take(1))
                sentences.Add($"{who} was denied {Access(denied.Detail)} on {name}{container}.");
            foreach (var removed in file.Where(a => a.Deleted || a.Renamed).Take(1))
                sentences.Add(removed.Deleted ? $"{who} deleted {name}{container}."
                    : $"{who} renamed or moved {name}{container}{(removed.RenamedTo is { } to ? $" to {to}" : "")}.");

            // The same container under another MachineGuid: the file the container was before the GUID changed.
            if (first.MachineGuidSuffix is not { } mine || !(notFound || created)) continue;
            var older = OtherSuffixes(file.Key, mine, accesses, keyFiles);
            foreach (var other in older)
            {
                var use = first.ContainerUse is null ? "" : $", used by {first.ContainerUse}";
                var what = first.Container is null ? "the same container" : $"the \"{first.Container}\" container{use}";
                sentences.Add($"{Short(other)} ({Suffix(other)} = the GUID before) is {what}: it sits unused since MachineGuid changed.");
            }
        }
        if (guid is not null && !sentences.Any(s => s.Contains("read MachineGuid", StringComparison.Ordinal)))
            sentences.Insert(0, $"{who} read MachineGuid = {guid}.");
        return sentences;
    }

    /// <summary>Files of the same hash with another GUID suffix, seen in the trace or on the machine (--source).</summary>
    private static IEnumerable<string> OtherSuffixes(string keyFile, Guid mine, List<KeyAccess> accesses, IReadOnlyList<KnownKeyFile>? keyFiles)
    {
        var hash = keyFile[..ContainerName.PrefixLength];
        return accesses.Select(a => a.KeyFile).OfType<string>()
            .Concat(keyFiles?.Select(k => k.FileName) ?? [])
            .Where(f => f.StartsWith(hash, StringComparison.OrdinalIgnoreCase) && ContainerName.TrySplitFileName(f, out _, out var g) && g != mine)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase);
    }

    private static string Who(ProcmonProcess p)
    {
        var user = p.User is { Length: > 0 } u ? $", {u}" : "";
        return $"{p.Name} (PID {p.ProcessId.ToString(CultureInfo.InvariantCulture)}{user})";
    }

    /// <summary>c2319c42033a5ca7f44e731bfba3dbbc_1a2b… → c2319c42…_1a2b…(full GUID kept: it is the evidence).</summary>
    private static string Short(string keyFile) => keyFile.Length > 9 && keyFile[ContainerName.PrefixLength] == '_'
        ? $"{keyFile[..8]}…{keyFile[ContainerName.PrefixLength..]}" : keyFile;

    private static string Suffix(string keyFile) => keyFile[(ContainerName.PrefixLength + 1)..];

    /// <summary>The data of a registry value read or written, from Procmon's detail ("… Data: X").</summary>
    public static string? ValueOf(string detail)
    {
        var at = detail.IndexOf("Data: ", StringComparison.Ordinal);
        return at < 0 ? null : detail[(at + 6)..];
    }

    /// <summary>The access asked for, from a CreateFile detail ("generic read", "read data/list directory, …").</summary>
    public static string Access(string detail)
    {
        var at = detail.IndexOf("Desired Access: ", StringComparison.Ordinal);
        if (at < 0) return "access";
        var end = detail.IndexOf(", Disposition", at, StringComparison.Ordinal);
        return (end < 0 ? detail[(at + 16)..] : detail[(at + 16)..end]).ToLowerInvariant();
    }
}

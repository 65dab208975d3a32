using System.Globalization;
using KeyDoctor.Diagnosis.Commands;
using KeyDoctor.Diagnosis.Trace;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;
using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>
/// KD6001-KD6003: what Process Monitor captures of the machine prove about its keys, each linked to the root-cause
/// finding it confirms (RootCauses). Only what an event shows is claimed: a lookup that failed, a denial, a deletion, by whom.
/// </summary>
internal static class TraceChecks
{
    public static IEnumerable<Finding> Run(MachineState state) => state.Traces
        .SelectMany(trace => GuidMismatch(state, trace).Concat(AccessDenied(state, trace)).Concat(Removed(state, trace)))
        .DistinctBy(f => (f.Id, f.Subject));

    /// <summary>KD6001: a process asked for &lt;hash&gt;_&lt;current GUID&gt;, got NAME NOT FOUND, while the container's file is under another GUID.</summary>
    private static IEnumerable<Finding> GuidMismatch(MachineState state, ScannedTrace trace)
    {
        foreach (var process in trace.Story.Processes)
        {
            var read = process.Accesses
                .Where(a => a.Kind == KeyResourceKind.MachineGuid && a.Operation == "RegQueryValue" && !a.Failed
                            && a.Path.EndsWith(@"\Cryptography\MachineGuid", StringComparison.OrdinalIgnoreCase))
                .MaxBy(a => a.Sequence);
            var expected = (read is null ? null : KeyStoryBuilder.ValueOf(read.Detail)) ?? trace.Story.MachineGuids.LastOrDefault() ?? state.MachineGuid;
            foreach (var file in KeyFileGroups(process))
            {
                var lookup = file.Where(a => a.NotFound).MinBy(a => a.Sequence);
                if (lookup?.MachineGuidSuffix is not { } guid) continue;
                if (Guid.TryParse(expected, out var current) && current != guid) continue;
                var older = OlderFiles(state, trace, lookup, guid);
                if (older.Count == 0) continue;
                var created = file.Where(a => a.Created && a.Sequence > lookup.Sequence).MinBy(a => a.Sequence);
                var evidence = new List<Evidence>();
                if (read is not null) evidence.Add(Event(trace, process, read));
                evidence.Add(Event(trace, process, lookup));
                if (created is not null) evidence.Add(Event(trace, process, created));
                evidence.AddRange(older.Select(o => Evidence.ForFile(o.Path, o.Where)));
                var first = older[0];
                yield return new Finding(FindingCatalog.TraceGuidMismatch, lookup.KeyFile!,
                    FindingCatalog.TraceGuidMismatch.FormatMessage(Who(process.Process), Named(lookup), guid.ToString("D"),
                        created is null ? "" : " and then created an empty container under that name", string.Join(", ", older.Select(o => o.Name))))
                {
                    Evidence = evidence,
                    Properties = Facts(trace, process.Process, lookup, ("machineGuid", guid.ToString("D")), ("originalGuid", first.Guid.ToString("D"))),
                    Fix = new Fix($"This proves KD1001 for {Named(lookup)}: put the MachineGuid the key was made under ({first.Guid:D}) back, " +
                                  $"with its carry-forward of newer keys (keydoctor repair plan --accept KD1001), so {process.Process.Name} finds {first.Name} again.")
                    {
                        Risk = "Changing the MachineGuid affects every key of the machine: follow KD1001's plan, not a bare registry edit.",
                        NeedsReboot = true,
                        NeedsDecision = true,
                    },
                };
            }
        }
    }

    /// <summary>KD6002: a process was denied on a key file (or a key folder), with the account it ran as.</summary>
    private static IEnumerable<Finding> AccessDenied(MachineState state, ScannedTrace trace)
    {
        foreach (var process in trace.Story.Processes)
            foreach (var denied in process.Accesses
                         .Where(a => a.Denied && (a.KeyFile is not null || IsKeyFolder(a.Path)))
                         .GroupBy(a => a.Path, StringComparer.OrdinalIgnoreCase)
                         .Select(g => g.MinBy(a => a.Sequence)!))
            {
                var account = process.Process.User is { Length: > 0 } user ? user : null;
                var who = $"{process.Process.Name} (PID {process.Process.ProcessId.ToString(CultureInfo.InvariantCulture)}) " +
                          (account is null ? "(the capture does not record its account)" : $"running as {account}");
                var access = denied.Operation == "CreateFile" ? KeyStoryBuilder.Access(denied.Detail) : $"{denied.Operation}";
                var certificates = CertificatesOf(state, denied);
                var relative = DriveRelative(denied.Path);
                var commands = account is null || relative is null || CommandArg.Unsafe(account) is not null ? []
                    : new[] { ShellCommand.Run("icacls", FixCommands.MachinePath(relative), "/grant", $"{account}:R") };
                yield return new Finding(FindingCatalog.TraceKeyAccessDenied,
                    $"{WindowsPaths.FileName(denied.Path)} for {account ?? process.Process.Name}",
                    FindingCatalog.TraceKeyAccessDenied.FormatMessage(who, access, denied.Path, Belongs(denied, certificates)))
                {
                    Evidence = [Event(trace, process, denied), .. certificates.Select(c => Evidence.ForCertificate(c.Thumbprint, $"certificate whose key this is: {c.Subject}"))],
                    Properties = Facts(trace, process.Process, denied, ("account", account), ("thumbprint", certificates.FirstOrDefault().Thumbprint)),
                    Fix = new Fix(account is null
                        ? $"Give the account {process.Process.Name} runs as read access to the key (for a certificate: the certificates MMC, All Tasks > Manage Private Keys), or restore MachineKeys' default permissions if KD1004 is reported."
                        : $"Give {account} read access to the key (for a certificate the same is done in the certificates MMC, All Tasks > Manage Private Keys), or restore MachineKeys' default permissions if KD1004 is reported.")
                    {
                        Commands = commands,
                        Risk = "Grants read on this one key to this one account; the key can then be used (not exported) by everything running as it.",
                        NeedsIisRestart = true,
                    },
                };
            }
    }

    /// <summary>KD6003: a named process deleted a key file or moved it away.</summary>
    private static IEnumerable<Finding> Removed(MachineState state, ScannedTrace trace)
    {
        foreach (var process in trace.Story.Processes)
            foreach (var file in KeyFileGroups(process))
            {
                var removal = file.Where(a => a.Deleted || a.Renamed).MinBy(a => a.Sequence);
                if (removal is null) continue;
                var p = process.Process;
                var role = ProcessRoles.Of(p);
                var who = $"{p.Name} (PID {p.ProcessId.ToString(CultureInfo.InvariantCulture)}{(p.User is { Length: > 0 } u ? $", {u}" : "")})"
                          + (role is null ? "" : $", {role.Description}")
                          + (p.CommandLine is { Length: > 0 } line && role?.IsScript == true ? $" (command line: {line})" : "")
                          + (role is null ? "" : ",");
                var what = removal.Deleted ? "deleted" : removal.RenamedTo is { } to ? $"moved (to {to})" : "renamed or moved away";
                var relative = DriveRelative(removal.Path);
                var present = relative is null ? (bool?)null : state.Source.GetFile(relative) is not null;
                var now = present switch
                {
                    false => "the file is missing from this machine now",
                    true => "a file of that name is there again (restored or re-created)",
                    null => "the capture's path is not on the system drive, so whether it is still missing is not known",
                };
                var certificates = CertificatesOf(state, removal);
                var copy = FixCommands.KeyFileInput(removal.KeyFile!);
                var stop = role?.IsAntiVirus == true
                    ? $"exclude %ProgramData%\\Microsoft\\Crypto from scanning by {role.Description}"
                    : $"stop {p.Name} from removing key files (fix or remove the job that runs it)";
                yield return new Finding(FindingCatalog.TraceKeyFileRemoved, removal.Path,
                    FindingCatalog.TraceKeyFileRemoved.FormatMessage(who, what, removal.Path, Belongs(removal, certificates),
                        removal.Time?.ToString("u", CultureInfo.InvariantCulture) ?? $"event {removal.Sequence}", now))
                {
                    Severity = present == true ? Severity.Warning : Severity.Error,
                    Evidence = [Event(trace, process, removal), .. certificates.Select(c => Evidence.ForCertificate(c.Thumbprint, $"certificate whose key this is: {c.Subject}"))],
                    Properties = Facts(trace, process.Process, removal, ("role", role?.Description), ("thumbprint", certificates.FirstOrDefault().Thumbprint)),
                    Fix = new Fix($"Restore the key file from a backup or a snapshot (or re-import the certificate's PFX), and {stop}.")
                    {
                        Commands = present == false && relative is not null ? [FixCommands.CopyKeyFile(CommandArg.Input(copy.Name), relative)] : [],
                        Inputs = present == false && relative is not null ? [copy] : [],
                        Risk = "A copy from another machine or another time may hold another key; the copy is refused over an existing file.",
                    },
                };
            }
    }

    /// <summary>A key file under another GUID than <paramref name="guid"/> with the same hash: on the machine, or opened in the capture.</summary>
    private static List<(string Name, string Path, Guid Guid, string Where)> OlderFiles(MachineState state, ScannedTrace trace, KeyAccess lookup, Guid guid)
    {
        var prefix = lookup.KeyFile![..ContainerName.PrefixLength];
        var folder = DriveRelative(lookup.Path[..lookup.Path.LastIndexOf('\\')]);
        var found = new List<(string, string, Guid, string)>();
        var guids = state.KeyFilesByGuid.Keys
            .Concat(trace.Story.MachineGuids.Select(g => Guid.TryParse(g, out var parsed) ? parsed : Guid.Empty))
            .Concat(state.KeyFiles.Select(KeyStoreChecks.SuffixOf).OfType<Guid>())
            .Where(g => g != guid && g != Guid.Empty).Distinct().Order();
        if (folder is not null)
            foreach (var other in guids)
            {
                var path = WindowsPaths.Combine(folder, $"{prefix}_{other:D}");
                if (state.Source.GetFile(path) is not null) found.Add(($"{prefix}_{other:D}", path, other, "the key file under the GUID before, on this machine"));
            }
        foreach (var seen in trace.Story.Processes.SelectMany(p => p.Accesses)
                     .Where(a => !a.Failed && a.MachineGuidSuffix is { } g && g != guid && a.KeyFile!.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                     .DistinctBy(a => a.MachineGuidSuffix))
            if (!found.Any(f => f.Item3 == seen.MachineGuidSuffix))
                found.Add((seen.KeyFile!, seen.Path, seen.MachineGuidSuffix!.Value, $"the key file under the GUID before, opened in the capture {trace.Path}"));
        return found;
    }

    private static IEnumerable<IGrouping<string, KeyAccess>> KeyFileGroups(KeyStoryProcess process) => process.Accesses
        .Where(a => a.KeyFile is not null && a.Kind is KeyResourceKind.MachineKeys or KeyResourceKind.CngKeys or KeyResourceKind.DssKeys or KeyResourceKind.UserKeys)
        .GroupBy(a => a.KeyFile!, StringComparer.OrdinalIgnoreCase);

    private static bool IsKeyFolder(string path) =>
        path.EndsWith(@"\Crypto\RSA\MachineKeys", StringComparison.OrdinalIgnoreCase) || path.EndsWith(@"\Crypto\Keys", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(@"\Crypto\SystemKeys", StringComparison.OrdinalIgnoreCase);

    /// <summary>Machine certificates whose key link names this key file's container.</summary>
    private static List<(string Thumbprint, string Subject)> CertificatesOf(MachineState state, KeyAccess access)
    {
        if (access.KeyFile is not { Length: > ContainerName.PrefixLength } name) return [];
        var prefix = name[..ContainerName.PrefixLength];
        return state.Certificates
            .Where(c => c.Entry?.KeyProviderInfo is { ContainerName: not null } link && string.Equals(link.KeyFilePrefix, prefix, StringComparison.OrdinalIgnoreCase))
            .Select(c => (c.Thumbprint, c.Entry!.Certificate?.Subject ?? "(unreadable certificate)"))
            .Distinct().OrderBy(c => c.Thumbprint, StringComparer.Ordinal).ToList();
    }

    /// <summary>" (container "X", the key of certificate T (CN=…))", each part only when known.</summary>
    private static string Belongs(KeyAccess access, List<(string Thumbprint, string Subject)> certificates)
    {
        var parts = new List<string>();
        if (access.Container is { } container) parts.Add($"container \"{container}\"{(access.ContainerUse is { } use ? $", used by {use}" : "")}");
        parts.AddRange(certificates.Select(c => $"the private key of certificate {c.Thumbprint} ({c.Subject})"));
        return parts.Count == 0 ? "" : $" ({string.Join("; ", parts)})";
    }

    private static string Named(KeyAccess access) => access.Container is { } container ? $"{access.KeyFile} (container \"{container}\")" : access.KeyFile!;

    private static string Who(ProcmonProcess p) =>
        $"{p.Name} (PID {p.ProcessId.ToString(CultureInfo.InvariantCulture)}{(p.User is { Length: > 0 } user ? $", {user}" : "")})";

    /// <summary>One event as evidence: the capture, the event's number and time, who did what, with Procmon's detail.</summary>
    private static Evidence Event(ScannedTrace trace, KeyStoryProcess process, KeyAccess a) =>
        Evidence.ForFile(trace.Path,
            $"event {a.Sequence.ToString(CultureInfo.InvariantCulture)}{(a.Time is { } t ? " at " + t.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture) : "")}: " +
            $"{process.Process.Name} (PID {process.Process.ProcessId.ToString(CultureInfo.InvariantCulture)}) {a.Operation} {a.Path}: {a.Result}",
            value: a.Detail.Length == 0 ? null : a.Detail);

    private static Dictionary<string, string> Facts(ScannedTrace trace, ProcmonProcess p, KeyAccess a, params (string Name, string? Value)[] more)
    {
        var facts = new Dictionary<string, string>
        {
            ["trace"] = trace.Path,
            ["event"] = a.Sequence.ToString(CultureInfo.InvariantCulture),
            ["process"] = p.Name,
            ["pid"] = p.ProcessId.ToString(CultureInfo.InvariantCulture),
            ["keyFile"] = a.Path,
        };
        foreach (var (name, value) in more)
            if (value is not null) facts[name] = value;
        return facts;
    }

    /// <summary>C:\ProgramData\… → ProgramData\… (the source is laid out like the system drive); null for another form.</summary>
    private static string? DriveRelative(string path) =>
        path.Length > 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] == '\\' ? path[3..] : null;
}

using System.Text.Json;
using System.Text.Json.Serialization;
using KeyDoctor.Formats.Security;

namespace KeyDoctor.Machine.Audit;

/// <summary>One advanced audit policy subcategory and whether it audits success and failure.</summary>
public sealed record AuditPolicySetting(Guid Subcategory, string Name, bool Success, bool Failure)
{
    public string Inclusion => (Success, Failure) switch
    {
        (true, true) => "Success and Failure",
        (true, false) => "Success",
        (false, true) => "Failure",
        _ => "No Auditing",
    };
}

/// <summary>What <c>audit enable</c> changed, so <c>audit disable</c> can put back exactly what was there.</summary>
public sealed record AuditState(DateTimeOffset EnabledUtc, string? PreviousSacl, List<AuditPolicySetting> PreviousPolicy)
{
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, AuditStateJson.Default.AuditState);

    public static AuditState Parse(byte[] json) =>
        JsonSerializer.Deserialize(json, AuditStateJson.Default.AuditState) ?? throw new Formats.MalformedDataException("audit state", 0, "empty");
}

/// <summary>The audit state file's JSON, source-generated; property names as written since the first release (PascalCase).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n")]
[JsonSerializable(typeof(AuditState))]
internal sealed partial class AuditStateJson : JsonSerializerContext;

/// <summary>The machine the audit commands change: SACL of MachineKeys and the audit policy. Windows has the real one.</summary>
public interface IAuditHost
{
    /// <summary>The MachineKeys folder's SACL as SDDL ("S:..."), or null when it has none.</summary>
    string? ReadMachineKeysSacl();

    void WriteMachineKeysSacl(string? saclSddl);

    AuditPolicySetting ReadPolicy(Guid subcategory);

    void WritePolicy(AuditPolicySetting setting);

    /// <summary>Where the state of the last <c>enable</c> is kept (owner-only).</summary>
    string StatePath { get; }
}

/// <summary>
/// Turns on, off, and reports auditing of the MachineKeys folder, so the next time a key file is deleted, rewritten
/// or has its permissions changed, the Security log names the process and account (events 4656, 4663, 4658, 4660,
/// 4670). The SACL audits Everyone, success and failure, for the rights that change a key file: traverse, create
/// files/write data, create folders/append, write attributes and extended attributes, delete sub-folders and
/// files, delete, change permissions and take ownership, on the folder and inherited by its files. Only the
/// "File System" and "Handle Manipulation" subcategories are enabled: the whole Object Access category would flood
/// the Security log with registry and kernel-object events.
/// </summary>
public sealed class MachineKeysAudit(IAuditHost host)
{
    /// <summary>Traverse 0x20, write data 0x2, append 0x4, write EA 0x10, delete child 0x40, write attributes 0x100,
    /// delete 0x10000, WRITE_DAC 0x40000, WRITE_OWNER 0x80000.</summary>
    public const uint AuditedRights = 0x20 | 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000;

    public static readonly SddlAce AuditAce = new("AU", "OISAFA", AuditedRights, "", "", "S-1-1-0");

    public static readonly AuditPolicySetting[] RequiredPolicy =
    [
        new(new Guid("0CCE921D-69AE-11D9-BED3-505054503030"), "File System", true, true),
        new(new Guid("0CCE9223-69AE-11D9-BED3-505054503030"), "Handle Manipulation", true, true),
    ];

    public sealed record Status(bool SaclPresent, string? Sacl, IReadOnlyList<AuditPolicySetting> Policy, AuditState? State)
    {
        public bool Enabled => SaclPresent && Policy.All(p => p.Success && p.Failure);
    }

    public Status GetStatus()
    {
        var sacl = host.ReadMachineKeysSacl();
        return new Status(HasAuditAce(sacl), sacl, RequiredPolicy.Select(p => host.ReadPolicy(p.Subcategory)).ToList(), ReadState());
    }

    /// <summary>Adds the audit ACE and enables the policy; records what was there before. Idempotent.</summary>
    public AuditState Enable()
    {
        var previousSacl = host.ReadMachineKeysSacl();
        var previousPolicy = RequiredPolicy.Select(p => host.ReadPolicy(p.Subcategory)).ToList();
        var state = ReadState() ?? new AuditState(DateTimeOffset.UtcNow, previousSacl, previousPolicy); // keep the first baseline
        WriteState(state);
        if (!HasAuditAce(previousSacl)) host.WriteMachineKeysSacl(AddAuditAce(previousSacl));
        foreach (var required in RequiredPolicy) host.WritePolicy(required);
        return state;
    }

    /// <summary>Puts back the SACL and policy recorded by <see cref="Enable"/>.</summary>
    public AuditState Disable()
    {
        var state = ReadState() ?? throw new InvalidOperationException(
            $"no record of 'audit enable' at {host.StatePath}: nothing to undo (the SACL and policy were left as they are)");
        host.WriteMachineKeysSacl(state.PreviousSacl);
        foreach (var previous in state.PreviousPolicy) host.WritePolicy(previous);
        File.Delete(host.StatePath);
        return state;
    }

    public static bool HasAuditAce(string? saclSddl) =>
        saclSddl is not null && SecurityDescriptorString.Parse(saclSddl).Sacl?.Any(IsOurAce) == true;

    /// <summary>The SACL with the MachineKeys audit ACE appended, keeping existing entries and flags.</summary>
    public static string AddAuditAce(string? saclSddl)
    {
        var current = saclSddl is null ? null : SecurityDescriptorString.Parse(saclSddl);
        var aces = (current?.Sacl ?? []).Where(a => !IsOurAce(a)).Append(AuditAce).ToList();
        return new SecurityDescriptorString { SaclFlags = current?.SaclFlags ?? "", Sacl = aces }.ToString();
    }

    private static bool IsOurAce(SddlAce ace) =>
        ace.IsAudit && ace.Sid == AuditAce.Sid && (ace.Rights & AuditedRights) == AuditedRights
        && ace.Flags.Contains("SA", StringComparison.Ordinal) && ace.Flags.Contains("FA", StringComparison.Ordinal);

    private AuditState? ReadState() => File.Exists(host.StatePath) ? AuditState.Parse(File.ReadAllBytes(host.StatePath)) : null;

    private void WriteState(AuditState state)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(host.StatePath)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(host.StatePath, options);
        file.Write(state.ToJson());
    }
}

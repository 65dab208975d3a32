using System.Runtime.Versioning;
using System.Security.AccessControl;
using KeyDoctor.Machine.Tools;

namespace KeyDoctor.Machine.Audit;

/// <summary>The live machine's MachineKeys SACL (needs SeSecurityPrivilege, i.e. elevation) and auditpol.</summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsAuditHost(IProcessRunner? runner = null) : IAuditHost
{
    private readonly AuditPolicyTool _auditpol = new(runner ?? SystemProcessRunner.Instance);

    private static string MachineKeysPath =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Microsoft", "Crypto", "RSA", "MachineKeys");

    public string StatePath { get; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "KeyDoctor", "audit-state.json");

    public string? ReadMachineKeysSacl()
    {
        try
        {
            var security = new DirectoryInfo(MachineKeysPath).GetAccessControl(AccessControlSections.Audit);
            var sddl = security.GetSecurityDescriptorSddlForm(AccessControlSections.Audit);
            return sddl.Contains("(", StringComparison.Ordinal) ? sddl : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PrivilegeNotHeldException or InvalidOperationException or ArgumentException)
        {
            throw AuditSentences.CannotAccessSacl("read", MachineKeysPath, ex);
        }
    }

    public void WriteMachineKeysSacl(string? saclSddl)
    {
        try
        {
            var directory = new DirectoryInfo(MachineKeysPath);
            var security = directory.GetAccessControl(AccessControlSections.Audit);
            security.SetSecurityDescriptorSddlForm(saclSddl ?? "S:", AccessControlSections.Audit);
            directory.SetAccessControl(security);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PrivilegeNotHeldException or InvalidOperationException or ArgumentException)
        {
            throw AuditSentences.CannotAccessSacl("change", MachineKeysPath, ex);
        }
    }

    public AuditPolicySetting ReadPolicy(Guid subcategory) => _auditpol.Read(subcategory);

    public void WritePolicy(AuditPolicySetting setting) => _auditpol.Write(setting);
}

/// <summary>auditpol.exe with its exact argv (platform-neutral, so tests run it through a recorded runner).</summary>
public sealed class AuditPolicyTool(IProcessRunner runner)
{
    public AuditPolicySetting Read(Guid subcategory)
    {
        // CSV: Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting
        string[] arguments = ["/get", $"/subcategory:{{{subcategory}}}", "/r"];
        var csv = ToolFailedException.RunChecked(runner, "auditpol.exe", arguments);
        var row = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                     .Skip(1).Select(line => line.Split(',')).FirstOrDefault(f => f.Length >= 5)
                  ?? throw new ToolFailedException(
                      $"'{ToolFailedException.CommandLineOf("auditpol.exe", arguments)}' printed no setting for audit subcategory {subcategory}. " +
                      "Run it by hand from an elevated prompt to see why.", ToolFailedException.CommandLineOf("auditpol.exe", arguments), csv);
        var inclusion = row[4];
        return new AuditPolicySetting(subcategory, row[2],
            inclusion.Contains("Success", StringComparison.OrdinalIgnoreCase),
            inclusion.Contains("Failure", StringComparison.OrdinalIgnoreCase));
    }

    public void Write(AuditPolicySetting setting) =>
        ToolFailedException.RunChecked(runner, "auditpol.exe", "/set", $"/subcategory:{{{setting.Subcategory}}}",
            $"/success:{(setting.Success ? "enable" : "disable")}", $"/failure:{(setting.Failure ? "enable" : "disable")}");
}

public static class AuditSentences
{
    /// <summary>The SACL of a folder could not be read or changed: which folder, what the system said, what to do.</summary>
    public static LiveMachineException CannotAccessSacl(string verb, string folder, Exception ex)
    {
        var said = ex.Message.ReplaceLineEndings(" ").Trim().TrimEnd('.');
        if (said.Length == 0) said = ex.GetType().Name;
        var advice = ex is DirectoryNotFoundException || !ex.Message.Contains(' ')
            ? "the folder is missing or cannot be opened; check that this is a Windows server with the CryptoAPI key store"
            : "reading or changing a SACL needs SeSecurityPrivilege: run keydoctor from an elevated prompt (Run as administrator)";
        return new LiveMachineException($"cannot {verb} the audit settings (SACL) of the MachineKeys folder {folder} ({ex.GetType().Name}: {said}): {advice}.", ex);
    }
}

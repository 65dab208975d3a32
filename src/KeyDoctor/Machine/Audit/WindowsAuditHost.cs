using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security.AccessControl;

namespace KeyDoctor.Machine.Audit;

/// <summary>The live machine's MachineKeys SACL (needs SeSecurityPrivilege, i.e. elevation) and auditpol.</summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsAuditHost : IAuditHost
{
    private static string MachineKeysPath =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Microsoft", "Crypto", "RSA", "MachineKeys");

    public string StatePath { get; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "KeyDoctor", "audit-state.json");

    public string? ReadMachineKeysSacl()
    {
        var security = new DirectoryInfo(MachineKeysPath).GetAccessControl(AccessControlSections.Audit);
        var sddl = security.GetSecurityDescriptorSddlForm(AccessControlSections.Audit);
        return sddl.Contains("(", StringComparison.Ordinal) ? sddl : null;
    }

    public void WriteMachineKeysSacl(string? saclSddl)
    {
        var directory = new DirectoryInfo(MachineKeysPath);
        var security = directory.GetAccessControl(AccessControlSections.Audit);
        security.SetSecurityDescriptorSddlForm(saclSddl ?? "S:", AccessControlSections.Audit);
        directory.SetAccessControl(security);
    }

    public AuditPolicySetting ReadPolicy(Guid subcategory)
    {
        // CSV: Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting
        var csv = Run("/get", $"/subcategory:{{{subcategory}}}", "/r");
        var row = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                     .Skip(1).Select(line => line.Split(',')).FirstOrDefault(f => f.Length >= 5)
                  ?? throw new InvalidOperationException($"auditpol gave no setting for {subcategory}");
        var inclusion = row[4];
        return new AuditPolicySetting(subcategory, row[2],
            inclusion.Contains("Success", StringComparison.OrdinalIgnoreCase),
            inclusion.Contains("Failure", StringComparison.OrdinalIgnoreCase));
    }

    public void WritePolicy(AuditPolicySetting setting) =>
        Run("/set", $"/subcategory:{{{setting.Subcategory}}}",
            $"/success:{(setting.Success ? "enable" : "disable")}", $"/failure:{(setting.Failure ? "enable" : "disable")}");

    private static string Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("auditpol.exe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start auditpol.exe");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"auditpol {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()} {output.Trim()}");
        return output;
    }
}

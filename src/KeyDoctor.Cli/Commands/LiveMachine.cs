using KeyDoctor.Machine;
using KeyDoctor.Machine.Collection;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// The Windows machine KeyDoctor runs on, read the way everything else is read: collected into a private bundle,
/// then opened like any other. Commands that take a source use it when none is given.
/// </summary>
public static class LiveMachine
{
    /// <summary>The given image or bundle, or (none given, on Windows, elevated) this machine.</summary>
    public static IMachineSource OpenSourceOrLive(string? path, string command, bool includeEventLogs = true)
    {
        if (path is not null) return MachineSource.Open(path);
        if (!OperatingSystem.IsWindows())
            throw new UserInputException($"'{command}' reads this machine only on Windows; here give an image folder or a bundle from 'keydoctor collect'");
        var host = new WindowsCollectionHost();
        if (!host.IsElevated)
            throw new UserInputException($"'{command}' on this machine reads MachineKeys and the registry hives: run it from an elevated prompt (Run as administrator)");
        return Collect(host, includeEventLogs);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    public static IMachineSource Collect(WindowsCollectionHost host, bool includeEventLogs)
    {
        var folder = MachineSource.CreatePrivateTempFolder();
        try
        {
            var zip = Path.Combine(folder, "live.zip");
            var steps = CollectionPlanner.Plan(new CollectionOptions { IncludeEventLogs = includeEventLogs, Users = LoadedUserProfiles.Read() });
            // Staged in this private temporary folder, never written elsewhere: no owner-only DACL of its own is needed.
            var manifest = new BundleCollector(host, KeyDoctorApp.Version).Stage(steps, zip, includeEventLogs ? "bundle" : "snapshot");
            if (BundleCollector.CoreFailures(manifest) is { Count: > 0 } failures)
                throw new UserInputException(BundleCollector.CoreFailureMessage("KeyDoctor could not read this machine's core evidence", failures));
            return MachineSource.OpenBundle(zip); // extracted into its own private folder; the zip goes now
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

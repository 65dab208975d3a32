using KeyDoctor.Machine.Tools;

namespace KeyDoctor.Machine.Collection;

/// <summary>
/// The Windows tools the live collector runs, with their exact argv: <c>reg save</c> and <c>wevtutil epl</c>.
/// Platform-neutral so the command lines and their failures are tested on any OS through a recorded runner.
/// </summary>
public sealed class WindowsTools(IProcessRunner runner)
{
    /// <summary>reg.exe save KEY FILE /y: a consistent copy of a loaded hive (needs SeBackupPrivilege, i.e. elevation).</summary>
    public void SaveRegistryHive(string key, string destinationFile) =>
        ToolFailedException.RunChecked(runner, "reg.exe", "save", key, destinationFile, "/y");

    /// <summary>wevtutil.exe epl LOG FILE [/q:filter]: the log as .evtx, optionally only events since a time.</summary>
    public void ExportEventLog(string log, string destinationFile, DateTimeOffset? since)
    {
        if (since is { } from)
            ToolFailedException.RunChecked(runner, "wevtutil.exe", "epl", log, destinationFile,
                $"/q:*[System[TimeCreated[@SystemTime>='{from.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}']]]");
        else
            ToolFailedException.RunChecked(runner, "wevtutil.exe", "epl", log, destinationFile);
    }
}

using System.Globalization;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// Turns the columns of a Procmon export row (CSV or XML: "Process Name", "PID", "Operation", …; any subset, any
/// order) into a <see cref="ProcmonEvent"/>; processes with the same identity share one <see cref="ProcmonProcess"/>.
/// </summary>
internal sealed class ProcmonExportColumns
{
    private readonly Dictionary<(uint, string, string?, string?, string?), ProcmonProcess> _processes = [];

    public ProcmonEvent ToEvent(Func<string, string?> column, long sequence, string format, long position)
    {
        var name = column("Process Name") ?? "";
        var pidText = column("PID");
        uint pid = 0;
        if (pidText is not null && !uint.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out pid))
            throw new MalformedDataException(format, position, $"row {sequence + 1}: PID '{pidText}' is not a number");
        var operation = column("Operation")
            ?? throw new MalformedDataException(format, position, $"row {sequence + 1} has no Operation");
        var image = column("Image Path");
        var commandLine = column("Command Line");
        var user = column("User");
        var key = (pid, name, image, commandLine, user);
        if (!_processes.TryGetValue(key, out var process))
        {
            process = new ProcmonProcess
            {
                Index = _processes.Count,
                ProcessId = pid,
                Name = name,
                ImagePath = image,
                CommandLine = commandLine,
                User = user,
                ParentProcessId = uint.TryParse(column("Parent PID"), NumberStyles.None, CultureInfo.InvariantCulture, out var parent) ? parent : null,
                Integrity = column("Integrity"),
                Is64Bit = column("Architecture") is { } architecture ? architecture == "64-bit" : null,
                Session = uint.TryParse(column("Session"), NumberStyles.None, CultureInfo.InvariantCulture, out var session) ? session : null,
                Company = column("Company"),
                Version = column("Version"),
                Description = column("Description"),
            };
            _processes[key] = process;
        }
        var result = column("Result") ?? "";
        return new ProcmonEvent
        {
            Sequence = sequence,
            Process = process,
            ThreadId = uint.TryParse(column("TID"), NumberStyles.None, CultureInfo.InvariantCulture, out var tid) ? tid : 0,
            Class = column("Event Class") switch
            {
                "File System" => ProcmonEventClass.FileSystem,
                "Registry" => ProcmonEventClass.Registry,
                "Process" => ProcmonEventClass.Process,
                "Network" => ProcmonEventClass.Network,
                "Profiling" => ProcmonEventClass.Profiling,
                _ => ClassOf(operation),
            },
            Operation = operation,
            Time = Time(column("Date & Time"), column("Time of Day")),
            Path = column("Path") ?? "",
            Status = ProcmonResults.Parse(result),
            Result = result,
            Detail = column("Detail") ?? "",
        };
    }

    /// <summary>An export without the Event Class column: the class from the operation's name.</summary>
    private static ProcmonEventClass ClassOf(string operation) =>
        operation.StartsWith("Reg", StringComparison.Ordinal) ? ProcmonEventClass.Registry
        : operation.StartsWith("TCP ", StringComparison.Ordinal) || operation.StartsWith("UDP ", StringComparison.Ordinal) ? ProcmonEventClass.Network
        : operation.StartsWith("Process ", StringComparison.Ordinal) || operation.StartsWith("Thread ", StringComparison.Ordinal) || operation == "Load Image" ? ProcmonEventClass.Process
        : ProcmonEventClass.FileSystem;

    /// <summary>"7/31/2020 6:55:07 AM" and "6:55:07.0236729 AM" (the capturing machine's local time, US format) to one time.</summary>
    private static DateTime? Time(string? dateAndTime, string? timeOfDay)
    {
        var inv = CultureInfo.InvariantCulture;
        DateTime? date = DateTime.TryParse(dateAndTime, inv, DateTimeStyles.None, out var d) ? d.Date : null;
        if (timeOfDay is not null && DateTime.TryParse(timeOfDay, inv, DateTimeStyles.NoCurrentDateDefault, out var t))
            return (date ?? DateTime.MinValue.Date) + t.TimeOfDay;
        return dateAndTime is not null && DateTime.TryParse(dateAndTime, inv, DateTimeStyles.None, out var whole) ? whole : null;
    }
}

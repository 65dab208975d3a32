using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Tests.Procmon;

/// <summary>Process Monitor captures of the seeds' stories, written with the test PML writer into temp files (the caller deletes them).</summary>
internal static class SeedCaptures
{
    public const string OldGuid = "5a0e9ed4-1a7d-4f43-9c7f-2c1d0b6a9e11";
    public const string NewGuid = "d2f1b7c3-8e4a-4b21-a0c9-77e5f3a1c002";
    public static readonly string IisPrefix = ContainerName.CapiPrefix("Microsoft Internet Information Server");
    public const string XpMachineKeys = @"C:\Documents and Settings\All Users\Application Data\Microsoft\Crypto\RSA\MachineKeys";
    public const string MachineKeys = @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys";

    /// <summary>Seed 002: MachineGuid changed; inetinfo reads the new GUID, does not find its container under it, creates one; the old file sits unused.</summary>
    public static string Seed002(string machineKeys = XpMachineKeys, bool touchOldFile = true)
    {
        var processes = new List<ProcmonProcess>
        {
            new() { Index = 0, ProcessId = 1234, Name = "inetinfo.exe", ImagePath = @"C:\WINDOWS\system32\inetsrv\inetinfo.exe", CommandLine = @"C:\WINDOWS\system32\inetsrv\inetinfo.exe", User = @"NT AUTHORITY\SYSTEM" },
            new() { Index = 1, ProcessId = 880, Name = "explorer.exe", User = @"WEB01\Administrator" },
        };
        var t = new DateTime(2005, 3, 1, 8, 0, 0, DateTimeKind.Utc);
        var events = new List<PmlEventToWrite>
        {
            new() { ProcessIndex = 1, Time = t, Class = ProcmonEventClass.FileSystem, Operation = 20, Path = @"C:\WINDOWS\explorer.ini", OpenResult = 1 },
            new() { ProcessIndex = 0, Time = t.AddSeconds(1), Class = ProcmonEventClass.FileSystem, Operation = 20, Path = touchOldFile ? $@"{machineKeys}\{IisPrefix}_{OldGuid}" : @"C:\WINDOWS\system32\inetsrv\MetaBase.xml", Status = 0x0, OpenResult = 1, DesiredAccess = 0x80 },
            new() { ProcessIndex = 0, Time = t.AddSeconds(2), Class = ProcmonEventClass.Registry, Operation = 0, Path = @"HKLM\SOFTWARE\Microsoft\Cryptography" },
            new() { ProcessIndex = 0, Time = t.AddSeconds(3), Class = ProcmonEventClass.Registry, Operation = 5, Path = @"HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid", StringValue = NewGuid },
            new() { ProcessIndex = 0, Time = t.AddSeconds(4), Class = ProcmonEventClass.FileSystem, Operation = 20, Path = $@"{machineKeys}\{IisPrefix}_{NewGuid}", Status = 0xC0000034, DesiredAccess = 0x120089 },
            new() { ProcessIndex = 0, Time = t.AddSeconds(5), Class = ProcmonEventClass.FileSystem, Operation = 20, Path = $@"{machineKeys}\{IisPrefix}_{NewGuid}", FileDisposition = 2, OpenResult = 2, DesiredAccess = 0x12019F },
        };
        return Write("WEB01", processes, events);
    }

    /// <summary>Writes a capture to a new temp file and returns its path.</summary>
    public static string Write(string computer, IReadOnlyList<ProcmonProcess> processes, IEnumerable<PmlEventToWrite> events)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kd-trace-{Guid.NewGuid():N}.pml");
        using var file = File.Create(path);
        PmlWriter.Write(file, computer, processes, events);
        return path;
    }
}

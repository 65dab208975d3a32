using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Diagnosis.Trace;

/// <summary>
/// What kind of program a traced process is, by its image name: the anti-virus engines and script hosts that remove
/// key files in the field, so a finding can say "anti-virus (Microsoft Defender)" rather than only "MsMpEng.exe".
/// </summary>
public static class ProcessRoles
{
    private static readonly Dictionary<string, ProcessRole> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["MsMpEng.exe"] = AntiVirus("Microsoft Defender"),
        ["MpCmdRun.exe"] = AntiVirus("Microsoft Defender"),
        ["NisSrv.exe"] = AntiVirus("Microsoft Defender"),
        ["MsSense.exe"] = AntiVirus("Microsoft Defender for Endpoint"),
        ["ccSvcHst.exe"] = AntiVirus("Symantec"),
        ["mcshield.exe"] = AntiVirus("McAfee"),
        ["mfetp.exe"] = AntiVirus("McAfee"),
        ["mfeesp.exe"] = AntiVirus("McAfee"),
        ["SavService.exe"] = AntiVirus("Sophos"),
        ["SophosFileScanner.exe"] = AntiVirus("Sophos"),
        ["ekrn.exe"] = AntiVirus("ESET"),
        ["avp.exe"] = AntiVirus("Kaspersky"),
        ["ntrtscan.exe"] = AntiVirus("Trend Micro"),
        ["TmCCSF.exe"] = AntiVirus("Trend Micro"),
        ["vsserv.exe"] = AntiVirus("Bitdefender"),
        ["CSFalconService.exe"] = AntiVirus("CrowdStrike Falcon"),
        ["SentinelAgent.exe"] = AntiVirus("SentinelOne"),
        ["RepMgr.exe"] = AntiVirus("Carbon Black"),
        ["cmd.exe"] = Script("a cmd.exe script or command"),
        ["powershell.exe"] = Script("a PowerShell script or command"),
        ["pwsh.exe"] = Script("a PowerShell script or command"),
        ["cscript.exe"] = Script("a Windows Script Host script"),
        ["wscript.exe"] = Script("a Windows Script Host script"),
        ["forfiles.exe"] = Script("a forfiles command"),
        ["robocopy.exe"] = Script("a robocopy job"),
        ["explorer.exe"] = new("a person in Explorer"),
        ["cleanmgr.exe"] = new("Disk Cleanup"),
    };

    /// <summary>The role of <paramref name="process"/>, or null for a program KeyDoctor does not know.</summary>
    public static ProcessRole? Of(ProcmonProcess process) => Known.GetValueOrDefault(process.Name);

    private static ProcessRole AntiVirus(string product) => new($"the {product} anti-virus") { IsAntiVirus = true };

    private static ProcessRole Script(string description) => new(description) { IsScript = true };
}

/// <summary>What a program is, in words that fit a sentence ("the Microsoft Defender anti-virus", "a PowerShell script or command").</summary>
public sealed record ProcessRole(string Description)
{
    public bool IsAntiVirus { get; init; }

    /// <summary>A script host or command: its command line says what it was told to do.</summary>
    public bool IsScript { get; init; }
}

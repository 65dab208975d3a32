using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Diagnosis.Trace;

/// <summary>
/// What kind of program a traced process is, by its image name: the anti-virus engines and script hosts that remove
/// key files in the field, so a finding can say "anti-virus (Microsoft Defender)" rather than only "MsMpEng.exe".
/// </summary>
public static class ProcessRoles
{
    private static readonly Dictionary<string, string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["MsMpEng.exe"] = "anti-virus (Microsoft Defender)",
        ["MpCmdRun.exe"] = "anti-virus (Microsoft Defender)",
        ["NisSrv.exe"] = "anti-virus (Microsoft Defender)",
        ["MsSense.exe"] = "anti-virus (Microsoft Defender for Endpoint)",
        ["ccSvcHst.exe"] = "anti-virus (Symantec)",
        ["mcshield.exe"] = "anti-virus (McAfee)",
        ["mfetp.exe"] = "anti-virus (McAfee)",
        ["mfeesp.exe"] = "anti-virus (McAfee)",
        ["SavService.exe"] = "anti-virus (Sophos)",
        ["SophosFileScanner.exe"] = "anti-virus (Sophos)",
        ["ekrn.exe"] = "anti-virus (ESET)",
        ["avp.exe"] = "anti-virus (Kaspersky)",
        ["ntrtscan.exe"] = "anti-virus (Trend Micro)",
        ["TmCCSF.exe"] = "anti-virus (Trend Micro)",
        ["vsserv.exe"] = "anti-virus (Bitdefender)",
        ["CSFalconService.exe"] = "anti-virus (CrowdStrike Falcon)",
        ["SentinelAgent.exe"] = "anti-virus (SentinelOne)",
        ["RepMgr.exe"] = "anti-virus (Carbon Black)",
        ["cmd.exe"] = "a script or command (cmd.exe)",
        ["powershell.exe"] = "a script or command (PowerShell)",
        ["pwsh.exe"] = "a script or command (PowerShell)",
        ["cscript.exe"] = "a script (Windows Script Host)",
        ["wscript.exe"] = "a script (Windows Script Host)",
        ["forfiles.exe"] = "a script or command (forfiles)",
        ["robocopy.exe"] = "a copy or clean-up job (robocopy)",
        ["explorer.exe"] = "a person in Explorer",
        ["cleanmgr.exe"] = "Disk Cleanup",
    };

    /// <summary>The role of <paramref name="process"/>, or null for a program KeyDoctor does not know.</summary>
    public static string? Of(ProcmonProcess process) => Known.GetValueOrDefault(process.Name);
}

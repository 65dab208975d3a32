namespace KeyDoctor.Cli;

/// <summary>The process exit codes every command keeps to, so scripts can branch on them.</summary>
public static class ExitCodes
{
    /// <summary>Healthy, or nothing found.</summary>
    public const int Healthy = 0;

    /// <summary>The command ran and found something that needs attention.</summary>
    public const int Findings = 1;

    /// <summary>Bad command line or unreadable input; a one-line reason is on stderr.</summary>
    public const int UsageOrInputError = 2;
}

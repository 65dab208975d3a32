namespace KeyDoctor.Formats.Registry;

/// <summary>FILETIME (100 ns ticks since 1601, UTC) to DateTime, without throwing on out-of-range garbage.</summary>
internal static class FileTime
{
    private const long MaxFileTime = 2650467743999999999; // DateTime.MaxValue as a FILETIME

    public static DateTime? ToDateTime(ulong fileTime) =>
        fileTime is 0 or > MaxFileTime ? null : DateTime.FromFileTimeUtc((long)fileTime);

    public static ulong FromDateTime(DateTime time) => (ulong)time.ToUniversalTime().ToFileTimeUtc();
}

using KeyDoctor.Diagnosis;

namespace KeyDoctor.Cli;

/// <summary>
/// How every command prints a <see cref="Finding"/>: one JSON shape (<see cref="Json.FindingJson"/>) and one
/// text form of its evidence, so that `scan` and `iis` findings read the same.
/// </summary>
public static class FindingOutput
{
    /// <summary>"description @ location offset 0x.. record .. = value", each part only when known.</summary>
    public static string DescribeEvidence(Evidence e) =>
        e.Description
        + (e.Location is null ? "" : $" @ {e.Location}")
        + (e.Offset is { } o ? $" offset 0x{o:X}" : "")
        + (e.RecordId is { } r ? $" record {r}" : "")
        + (e.Value is null ? "" : $" = {e.Value}");
}

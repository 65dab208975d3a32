using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Commands;

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

    /// <summary>
    /// Commands as lines a person pastes: written straight to <paramref name="writer"/>, never wrapped (whatever the
    /// console width) and with no prompt in front; a command someone must run first elsewhere gets a comment line.
    /// </summary>
    public static void WriteCommands(TextWriter writer, string indent, ShellRenderer renderer, IEnumerable<ShellCommand> commands)
    {
        foreach (var command in commands)
        {
            if (command.RunFirstAs is { } who) writer.WriteLine(indent + renderer.Comment($"First, {who}:"));
            writer.WriteLine(indent + renderer.Line(command));
        }
    }
}

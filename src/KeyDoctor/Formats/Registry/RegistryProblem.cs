namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Something in a hive or export that could not be read, reported as data so the rest can still be read.
/// <see cref="Offset"/> is a byte offset from the start of the hive file (or, for a .reg export, the line number
/// in <see cref="Line"/>); <see cref="Location"/> says which, for people.
/// </summary>
public sealed record RegistryProblem(string Location, string Reason)
{
    public long? Offset { get; init; }
    public int? Line { get; init; }

    public static RegistryProblem AtOffset(long fileOffset, string reason) =>
        new($"0x{fileOffset:X}", reason) { Offset = fileOffset };

    public static RegistryProblem AtLine(int line, string reason) => new($"line {line}", reason) { Line = line };

    public override string ToString() => $"{Location}: {Reason}";
}

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// Where one cell's data lies in the hive array. A cell starts with a signed 32-bit size that counts itself and
/// is 8-byte aligned; negative means allocated. Offsets in records are relative to the hive bins data.
/// </summary>
internal readonly record struct Cell(uint Offset, int Start, int Length, bool Allocated)
{
    /// <summary>0xFFFFFFFF is the "no cell" marker in every offset field.</summary>
    public const uint None = 0xFFFFFFFF;

    /// <summary>The smallest possible cell: the size field plus 4 bytes, rounded to 8.</summary>
    public const int MinimumSize = 8;
}

using System.Buffers.Binary;
using System.Text;

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// The 4096-byte header of a hive file (and the 512-byte copy at the start of a transaction log). Only the first
/// 512 bytes carry data; the checksum is the XOR of the 127 little-endian dwords before offset 508.
/// </summary>
public sealed record BaseBlock
{
    public const int Size = 4096;
    public const int ChecksummedSize = 508;
    internal const string Format = "regf";

    public required uint PrimarySequenceNumber { get; init; }
    public required uint SecondarySequenceNumber { get; init; }
    public required DateTime? LastWritten { get; init; }
    public required uint MajorVersion { get; init; }
    public required uint MinorVersion { get; init; }

    /// <summary>0 primary file, 1 or 2 old-format transaction log, 6 new-format (HvLE) transaction log.</summary>
    public required uint FileType { get; init; }

    public required uint FileFormat { get; init; }

    /// <summary>Offset of the root key node, relative to the start of the hive bins data (file offset - 4096).</summary>
    public required uint RootCellOffset { get; init; }

    public required uint HiveBinsDataSize { get; init; }
    public required uint ClusteringFactor { get; init; }

    /// <summary>The partial file name Windows records for debugging (UTF-16, up to 32 characters).</summary>
    public required string FileName { get; init; }

    /// <summary>Windows 10 flags at offset 144 (0x1: KTM locked the hive).</summary>
    public required uint Flags { get; init; }

    public required uint Checksum { get; init; }
    public required uint ComputedChecksum { get; init; }

    public bool IsChecksumValid => Checksum == ComputedChecksum;
    public bool SequenceNumbersMatch => PrimarySequenceNumber == SecondarySequenceNumber;

    /// <summary>Dirty, as Windows decides it: a wrong checksum or unequal sequence numbers.</summary>
    public bool IsDirty => !IsChecksumValid || !SequenceNumbersMatch;

    /// <summary>True when the signature is "regf" at the start of <paramref name="data"/>.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) => data.Length >= 4 && data[..4].SequenceEqual("regf"u8);

    /// <summary>Reads the base block at the start of <paramref name="data"/> (at least 512 bytes).</summary>
    /// <exception cref="MalformedDataException">Too short or not "regf".</exception>
    public static BaseBlock Parse(ReadOnlySpan<byte> data, long fileOffset = 0)
    {
        if (data.Length < 512)
            throw new MalformedDataException(Format, fileOffset, $"base block needs 512 bytes, the input has {data.Length}");
        if (!HasSignature(data))
            throw new MalformedDataException(Format, fileOffset, "not a registry hive: signature is not \"regf\"");
        var nameBytes = data.Slice(48, 64);
        var name = Encoding.Unicode.GetString(nameBytes);
        var nul = name.IndexOf('\0');
        if (nul >= 0) name = name[..nul];
        return new BaseBlock
        {
            PrimarySequenceNumber = U32(data, 4),
            SecondarySequenceNumber = U32(data, 8),
            LastWritten = FileTime.ToDateTime(BinaryPrimitives.ReadUInt64LittleEndian(data[12..])),
            MajorVersion = U32(data, 20),
            MinorVersion = U32(data, 24),
            FileType = U32(data, 28),
            FileFormat = U32(data, 32),
            RootCellOffset = U32(data, 36),
            HiveBinsDataSize = U32(data, 40),
            ClusteringFactor = U32(data, 44),
            FileName = name,
            Flags = U32(data, 144),
            Checksum = U32(data, 508),
            ComputedChecksum = ComputeChecksum(data),
        };
    }

    /// <summary>XOR-32 of the first 508 bytes, with Windows' two special cases (0xFFFFFFFF → 0xFFFFFFFE, 0 → 1).</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i < ChecksummedSize; i += 4) sum ^= BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
        return sum switch { 0xFFFFFFFF => 0xFFFFFFFE, 0 => 1, _ => sum };
    }

    private static uint U32(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
}

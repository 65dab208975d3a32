using System.Buffers.Binary;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Formats.KeyFiles;

/// <summary>The fields of one key slot, for <see cref="CapiKeyFileWriter"/>.</summary>
public sealed record CapiKeyPairContent(CapiRsaPublicKey PublicKey, DpapiBlob PrivateKey, DpapiBlob? ExportFlag);

/// <summary>The fields of a CryptoAPI key file, for <see cref="CapiKeyFileWriter"/>.</summary>
public sealed record CapiKeyFileContent(string ContainerName)
{
    public uint Version { get; init; } = CapiKeyFileHeader.ExpectedVersion;
    public uint Reserved { get; init; }

    /// <summary>The stored name bytes (ANSI, NUL included); by default the ANSI encoding of the name plus a NUL.</summary>
    public ReadOnlyMemory<byte>? NameBytes { get; init; }

    /// <summary>The 20-byte "hash" field; rsaenh leaves it zero.</summary>
    public ReadOnlyMemory<byte> Hash { get; init; } = new byte[20];

    public CapiKeyPairContent? Signature { get; init; }
    public CapiKeyPairContent? Exchange { get; init; }
}

/// <summary>
/// Writes a CryptoAPI key container file from its fields, in rsaenh's layout. Used by tests (derived files)
/// and by repair (rebuilding a file under the right name). Given the fields of a real file it reproduces that
/// file byte for byte.
/// </summary>
public static class CapiKeyFileWriter
{
    public static byte[] Write(CapiKeyFileContent content)
    {
        var name = content.NameBytes?.ToArray() ?? EncodeName(content.ContainerName);
        byte[] Bytes(Func<CapiKeyPairContent, byte[]?> select, CapiKeyPairContent? pair) =>
            pair is null ? [] : select(pair) ?? [];
        var sections = new[]
        {
            name,
            content.Hash.ToArray(),
            Bytes(p => p.PublicKey.ToArray(), content.Signature),
            Bytes(p => p.PrivateKey.ToArray(), content.Signature),
            Bytes(p => p.ExportFlag?.ToArray(), content.Signature),
            Bytes(p => p.PublicKey.ToArray(), content.Exchange),
            Bytes(p => p.PrivateKey.ToArray(), content.Exchange),
            Bytes(p => p.ExportFlag?.ToArray(), content.Exchange),
        };
        var output = new byte[CapiKeyFileHeader.Length + sections.Sum(s => s.Length)];
        void U32(int offset, int value) => BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(offset), (uint)value);
        U32(0, (int)content.Version);
        U32(4, (int)content.Reserved);
        U32(8, sections[0].Length);
        U32(12, sections[2].Length);
        U32(16, sections[3].Length);
        U32(20, sections[5].Length);
        U32(24, sections[6].Length);
        U32(28, sections[1].Length);
        U32(32, sections[4].Length);
        U32(36, sections[7].Length);
        var position = CapiKeyFileHeader.Length;
        foreach (var section in sections)
        {
            section.CopyTo(output, position);
            position += section.Length;
        }
        return output;
    }

    /// <summary>The container name as rsaenh stores it: ANSI bytes and a terminating NUL.</summary>
    public static byte[] EncodeName(string containerName)
    {
        var bytes = new byte[ContainerName.AnsiEncoding.GetByteCount(containerName) + 1];
        ContainerName.AnsiEncoding.GetBytes(containerName, bytes);
        return bytes;
    }
}

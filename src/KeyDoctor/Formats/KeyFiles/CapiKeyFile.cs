using System.Buffers.Binary;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Formats.KeyFiles;

/// <summary>
/// The 40-byte header of a CryptoAPI (rsaenh) key container file. The lengths are in this order; the sections
/// that follow are in a different one (see <see cref="CapiKeyFile"/>).
/// </summary>
public sealed record CapiKeyFileHeader(
    uint Version,
    uint Reserved,
    uint NameLength,
    uint SignaturePublicKeyLength,
    uint SignaturePrivateKeyLength,
    uint ExchangePublicKeyLength,
    uint ExchangePrivateKeyLength,
    uint HashLength,
    uint SignatureExportFlagLength,
    uint ExchangeExportFlagLength)
{
    public const int Length = 40;
    public const uint ExpectedVersion = 2;

    /// <summary>No real section comes near this; anything larger means the bytes are not a header.</summary>
    public const uint MaxSectionLength = ReaderLimits.KeyFileMaxSectionBytes;

    /// <summary>Container names are short; a longer one means the bytes are not a header.</summary>
    public const uint MaxNameLength = ReaderLimits.CapiKeyFileMaxNameBytes;

    /// <summary>Header plus every section, as the header declares it.</summary>
    public long DeclaredFileLength => Length + (long)NameLength + HashLength + SignaturePublicKeyLength
                                      + SignaturePrivateKeyLength + SignatureExportFlagLength + ExchangePublicKeyLength
                                      + ExchangePrivateKeyLength + ExchangeExportFlagLength;

    public static CapiKeyFileHeader Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < Length)
            throw new MalformedDataException(CapiKeyFile.FormatName, data.Length,
                $"needs a {Length}-byte header but the input has {data.Length} bytes");
        static uint U(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(d[offset..]);
        return new CapiKeyFileHeader(U(data, 0), U(data, 4), U(data, 8), U(data, 12), U(data, 16), U(data, 20),
            U(data, 24), U(data, 28), U(data, 32), U(data, 36));
    }

    /// <summary>Why these header values cannot belong to a key file, or null when they can.</summary>
    public string? Implausibility()
    {
        if (Version != ExpectedVersion) return $"version {Version} at 0x0, expected {ExpectedVersion}";
        if (NameLength is 0 or > MaxNameLength) return $"name length {NameLength} at 0x8 is not plausible";
        (uint Value, int Offset, string Name)[] lengths =
        [
            (SignaturePublicKeyLength, 12, "signature public key"), (SignaturePrivateKeyLength, 16, "signature private key"),
            (ExchangePublicKeyLength, 20, "exchange public key"), (ExchangePrivateKeyLength, 24, "exchange private key"),
            (HashLength, 28, "hash"), (SignatureExportFlagLength, 32, "signature export flag"),
            (ExchangeExportFlagLength, 36, "exchange export flag"),
        ];
        foreach (var (value, offset, name) in lengths)
            if (value > MaxSectionLength) return $"{name} length {value} at 0x{offset:X} is not plausible";
        if (SignaturePublicKeyLength + SignaturePrivateKeyLength + ExchangePublicKeyLength + ExchangePrivateKeyLength == 0)
            return "no key section: every public and private key length is 0";
        return null;
    }
}

/// <summary>
/// A CryptoAPI key container file (RSA\MachineKeys, RSA\&lt;SID&gt;) parsed without decrypting: the container
/// name, both key slots with their clear-text RSA public keys, and the DPAPI blobs of the private keys and export
/// flags parsed to their headers. Structural problems (header, truncation) throw
/// <see cref="MalformedDataException"/>; a section whose content does not parse is kept in <see cref="Errors"/>
/// so the rest of the file is still reported.
/// </summary>
/// <remarks>
/// After the header: name (ANSI, NUL included), hash, then signature public key, signature private key blob,
/// signature export-flag blob, exchange public key, exchange private key blob, exchange export-flag blob.
/// </remarks>
public sealed record CapiKeyFile
{
    public const string FormatName = "CAPI key file";

    public required CapiKeyFileHeader Header { get; init; }

    /// <summary>The container name stored in the file (original case), up to its first NUL.</summary>
    public required string Name { get; init; }

    /// <summary>The name field exactly as stored (ANSI, NUL included).</summary>
    public required ReadOnlyMemory<byte> NameBytes { get; init; }

    /// <summary>The "hash" field (20 zero bytes in every known file).</summary>
    public required ReadOnlyMemory<byte> Hash { get; init; }

    public CapiKeyPair? Signature { get; init; }
    public CapiKeyPair? Exchange { get; init; }

    /// <summary>Bytes after the last declared section (0 for a well-formed file).</summary>
    public int TrailingLength { get; init; }

    /// <summary>Sections that are present but did not parse.</summary>
    public IReadOnlyList<KeyFilePartError> Errors { get; init; } = [];

    public IEnumerable<CapiKeyPair> KeyPairs => new[] { Exchange, Signature }.OfType<CapiKeyPair>();

    /// <summary>The file prefix the stored name hashes to.</summary>
    public UInt128 NameDigest
    {
        get
        {
            var nul = NameBytes.Span.IndexOf((byte)0);
            return ContainerName.CapiDigest(nul >= 0 ? NameBytes.Span[..nul] : NameBytes.Span);
        }
    }

    public static CapiKeyFile Parse(ReadOnlyMemory<byte> data)
    {
        var header = CapiKeyFileHeader.Read(data.Span);
        if (header.Implausibility() is { } why) throw new MalformedDataException(FormatName, 0, why);
        if (header.DeclaredFileLength > data.Length)
            throw new MalformedDataException(FormatName, data.Length,
                $"truncated: the header declares {header.DeclaredFileLength} bytes, the input has {data.Length}");

        var errors = new List<KeyFilePartError>();
        long position = CapiKeyFileHeader.Length;
        KeyFileSection Next(KeyFilePart part, KeySpec? spec, uint length)
        {
            var section = new KeyFileSection(part, spec, position, (int)length);
            position += length;
            return section;
        }
        ReadOnlyMemory<byte> Bytes(KeyFileSection s) => data.Slice((int)s.Offset, s.Length);

        var nameSection = Next(KeyFilePart.Name, null, header.NameLength);
        var nameBytes = Bytes(nameSection);
        var nul = nameBytes.Span.IndexOf((byte)0);
        var name = ContainerName.AnsiEncoding.GetString(nul >= 0 ? nameBytes.Span[..nul] : nameBytes.Span);
        if (nul != nameBytes.Length - 1)
            errors.Add(new KeyFilePartError(nameSection, nameSection.Offset + Math.Max(nul, 0),
                nul < 0 ? "the name has no terminating NUL" : $"the name ends at byte {nul} of {nameBytes.Length}"));
        var hash = Bytes(Next(KeyFilePart.Hash, null, header.HashLength));

        CapiKeyPair? ReadPair(KeySpec spec, uint publicLength, uint privateLength, uint exportLength)
        {
            var pub = Next(KeyFilePart.PublicKey, spec, publicLength);
            var priv = Next(KeyFilePart.PrivateKeyBlob, spec, privateLength);
            var export = Next(KeyFilePart.ExportFlagBlob, spec, exportLength);
            if (publicLength == 0 && privateLength == 0 && exportLength == 0) return null;
            return new CapiKeyPair(spec, pub, priv, export,
                Try(pub, errors, () => CapiRsaPublicKey.Parse(Bytes(pub), pub.Offset)),
                Try(priv, errors, () => DpapiBlob.Parse(Bytes(priv), priv.Offset)),
                Try(export, errors, () => DpapiBlob.Parse(Bytes(export), export.Offset)));
        }

        var signature = ReadPair(KeySpec.Signature, header.SignaturePublicKeyLength, header.SignaturePrivateKeyLength,
            header.SignatureExportFlagLength);
        var exchange = ReadPair(KeySpec.KeyExchange, header.ExchangePublicKeyLength, header.ExchangePrivateKeyLength,
            header.ExchangeExportFlagLength);
        return new CapiKeyFile
        {
            Header = header,
            Name = name,
            NameBytes = nameBytes,
            Hash = hash,
            Signature = signature,
            Exchange = exchange,
            TrailingLength = (int)(data.Length - position),
            Errors = errors,
        };
    }

    /// <summary>The writable fields of this file, when every section parsed (null otherwise).</summary>
    public CapiKeyFileContent? ToContent()
    {
        if (Errors.Count > 0) return null;
        CapiKeyPairContent? Pair(CapiKeyPair? pair) =>
            pair is { PublicKey: { } pub, PrivateKey: { } priv } ? new CapiKeyPairContent(pub, priv, pair.ExportFlag) : null;
        if ((Signature is not null && Pair(Signature) is null) || (Exchange is not null && Pair(Exchange) is null)) return null;
        return new CapiKeyFileContent(Name)
        {
            Version = Header.Version,
            Reserved = Header.Reserved,
            NameBytes = NameBytes,
            Hash = Hash,
            Signature = Pair(Signature),
            Exchange = Pair(Exchange),
        };
    }

    private static T? Try<T>(KeyFileSection section, List<KeyFilePartError> errors, Func<T> parse) where T : class
    {
        if (section.Length == 0) return null;
        try
        {
            return parse();
        }
        catch (MalformedDataException ex)
        {
            errors.Add(new KeyFilePartError(section, ex.Offset, ex.Reason));
            return null;
        }
    }
}

/// <summary>One key slot of a CryptoAPI container: where each section is, and what parsed.</summary>
public sealed record CapiKeyPair(
    KeySpec Spec,
    KeyFileSection PublicKeySection,
    KeyFileSection PrivateKeySection,
    KeyFileSection ExportFlagSection,
    CapiRsaPublicKey? PublicKey,
    DpapiBlob? PrivateKey,
    DpapiBlob? ExportFlag);

namespace KeyDoctor.Formats.KeyFiles;

/// <summary>CryptoAPI key specs: which slot of a container holds a key pair.</summary>
public enum KeySpec
{
    /// <summary>AT_KEYEXCHANGE (1): the slot Schannel needs for a CAPI server key.</summary>
    KeyExchange = 1,

    /// <summary>AT_SIGNATURE (2).</summary>
    Signature = 2,
}

/// <summary>The parts of a key file, for sections and errors.</summary>
public enum KeyFilePart
{
    Header,
    Name,
    Hash,
    PublicKey,
    PrivateKeyBlob,
    ExportFlagBlob,
    PublicProperties,
    PrivatePropertiesBlob,
}

/// <summary>Where one part of a key file lies: absolute offset and length in bytes.</summary>
public sealed record KeyFileSection(KeyFilePart Part, KeySpec? Spec, long Offset, int Length)
{
    public long End => Offset + Length;
}

/// <summary>A part that is present but could not be parsed: reported as data, the rest of the file still reads.</summary>
public sealed record KeyFilePartError(KeyFileSection Section, long Offset, string Reason)
{
    public override string ToString() =>
        $"{Section.Part}{(Section.Spec is { } s ? $" ({s})" : "")} at 0x{Section.Offset:X} ({Section.Length} bytes): {Reason} (at 0x{Offset:X})";
}

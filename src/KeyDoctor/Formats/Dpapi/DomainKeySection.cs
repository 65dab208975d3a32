using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Formats.Dpapi;

/// <summary>
/// The last section of a domain user's master-key file (DOMAINKEY): version, secret length, access-check length,
/// the GUID of the domain backup key, the RSA-encrypted secret, then the encrypted access check. Parsed only:
/// <c>KeyDoctor.Crypto.Dpapi.DomainKeyDecryptor</c> opens it with the domain backup key.
/// </summary>
/// <remarks>Sources: mimikatz KULL_M_DPAPI_DOMAIN_* structures and impacket DomainKey, checked on the Nemesis master keys.</remarks>
public sealed record DomainKeySection
{
    public const string FormatName = "DPAPI domain key";
    private const int HeaderLength = 28;

    public uint Version { get; init; }

    /// <summary>GUID of the domain backup key the secret is encrypted to.</summary>
    public Guid BackupKeyGuid { get; init; }

    public ReadOnlyMemory<byte> Secret { get; init; }
    public ReadOnlyMemory<byte> AccessCheck { get; init; }

    /// <summary>Parses a section that fills <paramref name="data"/> exactly; offsets in errors are <paramref name="baseOffset"/>-based.</summary>
    public static DomainKeySection Parse(ReadOnlyMemory<byte> data, long baseOffset = 0)
    {
        var reader = new SpanReader(data.Span, FormatName, baseOffset);
        var version = reader.ReadUInt32();
        var secretLength = reader.ReadUInt32();
        var accessCheckLength = reader.ReadUInt32();
        var guid = reader.ReadGuid();
        if (secretLength == 0 || secretLength > (uint)reader.Remaining)
            throw new MalformedDataException(FormatName, baseOffset + 4, $"secret length {secretLength} does not fit the {reader.Remaining} bytes after the header");
        if (accessCheckLength != (uint)(reader.Remaining - (int)secretLength))
            throw new MalformedDataException(FormatName, baseOffset + 8,
                $"access-check length {accessCheckLength} does not match the {reader.Remaining - (int)secretLength} bytes after the secret");
        return new DomainKeySection
        {
            Version = version,
            BackupKeyGuid = guid,
            Secret = data.Slice(HeaderLength, (int)secretLength),
            AccessCheck = data.Slice(HeaderLength + (int)secretLength),
        };
    }
}

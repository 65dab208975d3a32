using System.Buffers.Binary;

namespace KeyDoctor.Formats.Iis;

/// <summary>
/// A value of a native RSA protected-configuration provider (research notes §3.4, Microsoft's own sample output in
/// iis-docs "Using Encryption to Protect Passwords"): <c>cbSimpleBlob(4) SIMPLEBLOB[cbSimpleBlob] cipherText</c>, where
/// the SIMPLEBLOB wraps a per-value CALG_3DES key with the container's AT_KEYEXCHANGE key and the cipher text is
/// CBC with a zero IV over the same framing as the AES provider.
/// </summary>
public sealed record RsaProviderValue(CapiSimpleBlob Header, ReadOnlyMemory<byte> SimpleBlob, ReadOnlyMemory<byte> CipherText)
{
    public const string Format = "RSA provider value";

    /// <summary>Parses a decoded payload; anything else throws <see cref="MalformedDataException"/> with the offset.</summary>
    public static RsaProviderValue Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4) throw new MalformedDataException(Format, 0, $"{payload.Length} bytes, shorter than the 4-byte SIMPLEBLOB length");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (length < CapiSimpleBlob.HeaderLength + 1 || length > (uint)payload.Length - 4)
            throw new MalformedDataException(Format, 0, $"SIMPLEBLOB length {length} does not fit the {payload.Length - 4} bytes that follow");
        var simple = payload.Slice(4, (int)length);
        var header = CapiSimpleBlob.Parse(simple, Format, 4);
        var cipherText = payload[(4 + (int)length)..];
        if (cipherText.IsEmpty) throw new MalformedDataException(Format, 4 + length, "no cipher text after the SIMPLEBLOB");
        return new RsaProviderValue(header, simple.ToArray(), cipherText.ToArray());
    }

    /// <summary>The payload around a SIMPLEBLOB and cipher text that are already made.</summary>
    public static byte[] Build(ReadOnlySpan<byte> simpleBlob, ReadOnlySpan<byte> cipherText)
    {
        var result = new byte[4 + simpleBlob.Length + cipherText.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)simpleBlob.Length);
        simpleBlob.CopyTo(result.AsSpan(4));
        cipherText.CopyTo(result.AsSpan(4 + simpleBlob.Length));
        return result;
    }
}

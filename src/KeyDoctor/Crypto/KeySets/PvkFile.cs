using System.Buffers.Binary;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Crypto.KeySets;

/// <summary>
/// The PVK private key file (pvk2pfx, makecert): a 24-byte header (magic 0xB0B5F11E, reserved, key number,
/// encrypted flag, salt length, key length), the salt, then a PRIVATEKEYBLOB. KeyDoctor writes and reads the
/// unencrypted form only; a password-protected PVK is reported as such, not guessed at.
/// </summary>
public static class PvkFile
{
    public const string FormatName = "PVK";
    public const uint Magic = 0xB0B5F11E;
    private const int HeaderLength = 24;

    public static byte[] Write(KeySetEntry key)
    {
        var blob = CapiPrivateKeyBlob.Write(key.Parameters, key.KeyNumber);
        var file = new byte[HeaderLength + blob.Length];
        var span = file.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)key.KeyNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)blob.Length);
        blob.CopyTo(span[HeaderLength..]);
        return file;
    }

    public static KeySetEntry Read(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, FormatName);
        if (reader.ReadUInt32() != Magic) throw new MalformedDataException(FormatName, 0, "magic is not 0xB0B5F11E");
        reader.ReadUInt32();
        var keyType = reader.ReadUInt32();
        if (reader.ReadUInt32() != 0)
            throw new MalformedDataException(FormatName, 12, "the PVK is password-protected; export it again without a password");
        var saltLength = reader.ReadUInt32();
        var keyLength = reader.ReadUInt32();
        if (saltLength > (uint)reader.Remaining) throw new MalformedDataException(FormatName, 16, $"salt length {saltLength} runs past the end");
        reader.Skip((int)saltLength);
        if (keyLength != (uint)reader.Remaining)
            throw new MalformedDataException(FormatName, 20, $"key length {keyLength} does not match the {reader.Remaining} bytes that follow");
        var entry = CapiPrivateKeyBlob.Read(reader.ReadBytes((int)keyLength), HeaderLength + saltLength);
        if (keyType is not (1 or 2))
            throw new MalformedDataException(FormatName, 8, $"key type {keyType} is neither AT_KEYEXCHANGE (1) nor AT_SIGNATURE (2)");
        return entry with { KeyNumber = (CapiKeyNumber)keyType };
    }
}

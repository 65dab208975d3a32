namespace KeyDoctor.Formats.Iis;

/// <summary>
/// An IIS 7+ encrypted attribute value, <c>[enc:PROVIDER:BASE64:enc]</c>. Only the provider name and the ciphertext
/// are kept; nothing here decrypts. <c>[enc:AesProvider::enc]</c> (empty payload) is the schema's "encrypt this
/// attribute with this provider" default and holds no secret.
/// </summary>
public sealed record EncryptedConfigValue(string Provider, ReadOnlyMemory<byte> Ciphertext)
{
    private const string Prefix = "[enc:";
    private const string Suffix = ":enc]";

    public int CiphertextLength => Ciphertext.Length;
    public bool IsEmpty => Ciphertext.IsEmpty;

    /// <summary>True when <paramref name="value"/> has the encrypted-value shape, well-formed or not.</summary>
    public static bool LooksEncrypted(string value) =>
        value.StartsWith(Prefix, StringComparison.Ordinal) && value.EndsWith(Suffix, StringComparison.Ordinal)
        && value.Length >= Prefix.Length + Suffix.Length;

    /// <summary>
    /// Parses an encrypted value. Returns null with <paramref name="problem"/> set when the value has the
    /// <c>[enc:…:enc]</c> shape but a missing provider name or a payload that is not base64.
    /// </summary>
    public static EncryptedConfigValue? TryParse(string value, out string? problem)
    {
        problem = null;
        if (!LooksEncrypted(value))
        {
            problem = "not an [enc:PROVIDER:BASE64:enc] value";
            return null;
        }
        var inner = value.AsSpan(Prefix.Length, value.Length - Prefix.Length - Suffix.Length);
        var colon = inner.IndexOf(':');
        if (colon <= 0)
        {
            problem = "no provider name before the payload";
            return null;
        }
        var provider = inner[..colon].ToString();
        var payload = inner[(colon + 1)..];
        var buffer = new byte[payload.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64Chars(payload, buffer, out var written))
        {
            problem = $"payload for provider '{provider}' is not valid base64 ({payload.Length} characters)";
            return null;
        }
        return new EncryptedConfigValue(provider, buffer.AsMemory(0, written));
    }
}

using System.Globalization;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Formats.Lsa;

/// <summary>
/// The 16-byte boot key (SYSKEY) of a SYSTEM hive: the class names of Control\Lsa\{JD,Skew1,GBG,Data}, each eight hex
/// digits, concatenated, hex-decoded and permuted. It opens the LSA key in the SECURITY hive.
/// </summary>
public static class BootKey
{
    public const string FormatName = "boot key";
    public const int Length = 16;

    // The scrambling order Windows applies to the class-name bytes (same table in every NT6+ release).
    private static readonly int[] Permutation = [8, 5, 4, 2, 11, 9, 13, 3, 0, 6, 1, 12, 14, 10, 15, 7];

    /// <summary>Reads the class names from the SYSTEM hive's current control set.</summary>
    public static byte[] FromSystemHive(IRegistryHive system)
    {
        var registry = new WindowsRegistry(null, system);
        if (registry.LsaClassNames is not { } names)
            throw new MalformedDataException(FormatName, 0, @"SYSTEM hive has no <current control set>\Control\Lsa key");
        return FromClassNames(names);
    }

    public static byte[] FromClassNames(LsaClassNames names)
    {
        var scrambled = new byte[Length];
        var parts = new[] { ("JD", names.JD), ("Skew1", names.Skew1), ("GBG", names.GBG), ("Data", names.Data) };
        for (var i = 0; i < parts.Length; i++)
        {
            var (key, className) = parts[i];
            if (className is null)
                throw new MalformedDataException(FormatName, 0, $@"Control\Lsa\{key} is missing or has no class name");
            if (className.Length != 8 || !uint.TryParse(className, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
                throw new MalformedDataException(FormatName, 0, $@"class name of Control\Lsa\{key} is not eight hex digits ({className.Length} characters)");
            Convert.FromHexString(className).CopyTo(scrambled, i * 4);
        }
        var bootKey = new byte[Length];
        for (var i = 0; i < Length; i++) bootKey[i] = scrambled[Permutation[i]];
        return bootKey;
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace KeyDoctor.Formats.Procmon;

/// <summary>How Procmon words access masks, create options, attributes and share modes in its Detail column.</summary>
internal static class PmlAccessMasks
{
    private static readonly (uint Mask, string Name)[] Common =
    [
        (0x10000, "Delete"), (0x20000, "Read Control"), (0x40000, "Write DAC"), (0x80000, "Write Owner"),
        (0x100000, "Synchronize"), (0x1000000, "Access System Security"), (0x2000000, "Maximum Allowed"),
    ];

    private static readonly (uint Mask, string Name)[] Registry =
    [
        (0xF003F, "All Access"), (0x2001F, "Read/Write"), (0x20019, "Read"), (0x20006, "Write"), (0x1, "Query Value"),
        (0x2, "Set Value"), (0x4, "Create Sub Key"), (0x8, "Enumerate Sub Keys"), (0x10, "Notify"), (0x20, "Create Link"),
        (0x300, "WOW64_Res"), (0x200, "WOW64_32Key"), (0x100, "WOW64_64Key"), .. Common,
    ];

    private static readonly (uint Mask, string Name)[] File =
    [
        (0x1F01FF, "All Access"), (0x1201BF, "Generic Read/Write/Execute"), (0x12019F, "Generic Read/Write"),
        (0x1200A9, "Generic Read/Execute"), (0x1201B6, "Generic Write/Execute"), (0x120089, "Generic Read"),
        (0x120116, "Generic Write"), (0x1200A0, "Generic Execute"), (0x1, "Read Data/List Directory"),
        (0x2, "Write Data/Add File"), (0x4, "Append Data/Add Subdirectory/Create Pipe Instance"), (0x8, "Read EA"),
        (0x10, "Write EA"), (0x20, "Execute/Traverse"), (0x40, "Delete Child"), (0x80, "Read Attributes"),
        (0x100, "Write Attributes"), .. Common,
    ];

    private static readonly (uint Mask, string Name)[] CreateOptions =
    [
        (0x1, "Directory"), (0x2, "Write Through"), (0x4, "Sequential Access"), (0x8, "No Buffering"),
        (0x10, "Synchronous IO Alert"), (0x20, "Synchronous IO Non-Alert"), (0x40, "Non-Directory File"),
        (0x80, "Create Tree Connection"), (0x100, "Complete If Oplocked"), (0x200, "No EA Knowledge"),
        (0x400, "Open for Recovery"), (0x800, "Random Access"), (0x1000, "Delete On Close"), (0x2000, "Open By ID"),
        (0x4000, "Open For Backup"), (0x8000, "No Compression"), (0x100000, "Reserve OpFilter"),
        (0x200000, "Open Reparse Point"), (0x400000, "Open No Recall"), (0x800000, "Open For Free Space Query"),
        (0x10000, "Open Requiring Oplock"), (0x20000, "Disallow Exclusive"),
    ];

    private static readonly (uint Mask, string Name)[] Attributes =
    [
        (0x1, "R"), (0x2, "H"), (0x4, "S"), (0x10, "D"), (0x20, "A"), (0x40, "D"), (0x80, "N"), (0x100, "T"), (0x200, "SF"),
        (0x400, "RP"), (0x800, "C"), (0x1000, "O"), (0x2000, "NCI"), (0x4000, "E"), (0x10000, "V"),
    ];

    private static readonly (uint Mask, string Name)[] ShareModes = [(0x1, "Read"), (0x2, "Write"), (0x4, "Delete")];

    // A capture repeats a few masks millions of times: each text is built once.
    private static readonly ConcurrentDictionary<(int Table, uint Mask), string> Texts = new();

    public static string RegistryAccess(uint mask) => Texts.GetOrAdd((0, mask), key => Access(key.Mask, [0x20019, 0x20006, 0x20019, 0xF003F], Registry));

    public static string FileAccess(uint mask) => Texts.GetOrAdd((1, mask), key => Access(key.Mask, [0x120089, 0x120116, 0x1200A0, 0x1F01FF], File));

    public static string Options(uint mask) => Texts.GetOrAdd((2, mask), key => Join(key.Mask, CreateOptions, ", "));

    public static string FileAttributes(uint mask) => mask == 0 ? "n/a" : Texts.GetOrAdd((3, mask), key => Join(key.Mask, Attributes, ""));

    public static string ShareMode(uint mask) => mask == 0 ? "None" : Texts.GetOrAdd((4, mask), key => Join(key.Mask, ShareModes, ", "));

    /// <summary>Generic rights are mapped first (MapGenericMask), then named from the widest combination down.</summary>
    private static string Access(uint mask, uint[] generic, (uint Mask, string Name)[] names)
    {
        if ((mask & 0x80000000) != 0) mask |= generic[0];
        if ((mask & 0x40000000) != 0) mask |= generic[1];
        if ((mask & 0x20000000) != 0) mask |= generic[2];
        if ((mask & 0x10000000) != 0) mask |= generic[3];
        var text = Join(mask, names, ", ");
        return text.Length == 0 ? "None 0x" + mask.ToString("x", CultureInfo.InvariantCulture) : text;
    }

    private static string Join(uint mask, (uint Mask, string Name)[] names, string separator)
    {
        var text = new StringBuilder();
        foreach (var (bits, name) in names)
        {
            if ((mask & bits) != bits) continue;
            if (text.Length > 0) text.Append(separator);
            text.Append(name);
            mask &= ~bits;
        }
        return text.ToString();
    }
}

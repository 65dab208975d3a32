using System.Globalization;
using System.Text;

namespace KeyDoctor.Formats.Security;

/// <summary>One access control entry of an SDDL string, with rights and SID resolved to numbers.</summary>
public sealed record SddlAce(string Type, string Flags, uint Rights, string ObjectGuid, string InheritObjectGuid, string Sid)
{
    public bool IsAllow => Type == "A";
    public bool IsDeny => Type == "D";
    public bool IsAudit => Type == "AU";
    public bool Inherited => Flags.Contains("ID", StringComparison.Ordinal);

    /// <summary>The ACE written back in canonical SDDL (hex rights, SID aliases where Windows uses them).</summary>
    public override string ToString() =>
        $"({Type};{Flags};0x{Rights:x};{ObjectGuid};{InheritObjectGuid};{SecurityDescriptorString.AliasOf(Sid)})";

    /// <summary>A readable form for reports: "allow Everyone 0x12019f (this folder only)".</summary>
    public string Describe() =>
        $"{(IsAllow ? "allow" : IsDeny ? "deny" : IsAudit ? "audit" : Type)} {SecurityDescriptorString.NameOf(Sid)} 0x{Rights:x}" +
        (Flags.Length == 0 ? "" : $" [{Flags}]");
}

/// <summary>
/// A security descriptor in SDDL, parsed without Windows (the BCL's parser calls into advapi32), so ACLs collected
/// from a server can be checked on any OS. Supports owner, group, DACL and SACL with their flags, ACE types,
/// flags, rights as hex or as the documented letter codes, and SIDs as strings or two-letter aliases.
/// </summary>
public sealed record SecurityDescriptorString
{
    public const string FormatName = "SDDL";

    public string? Owner { get; init; }
    public string? Group { get; init; }
    public string? DaclFlags { get; init; }
    public IReadOnlyList<SddlAce>? Dacl { get; init; }
    public string? SaclFlags { get; init; }
    public IReadOnlyList<SddlAce>? Sacl { get; init; }

    public bool DaclProtected => DaclFlags?.Contains('P') == true;

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["WD"] = "S-1-1-0", ["CO"] = "S-1-3-0", ["CG"] = "S-1-3-1", ["OW"] = "S-1-3-4", ["NU"] = "S-1-5-2",
        ["IU"] = "S-1-5-4", ["SU"] = "S-1-5-6", ["AN"] = "S-1-5-7", ["ED"] = "S-1-5-9", ["PS"] = "S-1-5-10",
        ["AU"] = "S-1-5-11", ["RC"] = "S-1-5-12", ["SY"] = "S-1-5-18", ["LS"] = "S-1-5-19", ["NS"] = "S-1-5-20",
        ["BA"] = "S-1-5-32-544", ["BU"] = "S-1-5-32-545", ["BG"] = "S-1-5-32-546", ["PU"] = "S-1-5-32-547",
        ["AO"] = "S-1-5-32-548", ["SO"] = "S-1-5-32-549", ["PO"] = "S-1-5-32-550", ["BO"] = "S-1-5-32-551",
        ["RE"] = "S-1-5-32-552", ["RU"] = "S-1-5-32-554", ["RD"] = "S-1-5-32-555", ["NO"] = "S-1-5-32-556",
        ["IS"] = "S-1-5-32-568", ["AC"] = "S-1-15-2-1", ["LW"] = "S-1-16-4096", ["ME"] = "S-1-16-8192",
        ["HI"] = "S-1-16-12288", ["SI"] = "S-1-16-16384",
    };

    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["S-1-1-0"] = "Everyone", ["S-1-3-0"] = "CREATOR OWNER", ["S-1-5-18"] = "SYSTEM", ["S-1-5-19"] = "LOCAL SERVICE",
        ["S-1-5-20"] = "NETWORK SERVICE", ["S-1-5-32-544"] = "Administrators", ["S-1-5-32-545"] = "Users",
        ["S-1-5-11"] = "Authenticated Users", ["S-1-5-4"] = "INTERACTIVE", ["S-1-5-32-568"] = "IIS_IUSRS",
    };

    private static readonly Dictionary<string, uint> RightCodes = new(StringComparer.Ordinal)
    {
        ["GA"] = 0x10000000, ["GX"] = 0x20000000, ["GW"] = 0x40000000, ["GR"] = 0x80000000,
        ["FA"] = 0x1F01FF, ["FR"] = 0x120089, ["FW"] = 0x120116, ["FX"] = 0x1200A0,
        ["KA"] = 0xF003F, ["KR"] = 0x20019, ["KW"] = 0x20006, ["KX"] = 0x20019,
        ["SD"] = 0x10000, ["RC"] = 0x20000, ["WD"] = 0x40000, ["WO"] = 0x80000,
        ["CC"] = 0x1, ["DC"] = 0x2, ["LC"] = 0x4, ["SW"] = 0x8, ["RP"] = 0x10, ["WP"] = 0x20,
        ["DT"] = 0x40, ["LO"] = 0x80, ["CR"] = 0x100,
    };

    /// <summary>The numeric SID behind an alias ("SY" → "S-1-5-18"); other strings unchanged.</summary>
    public static string ResolveSid(string sid) => Aliases.TryGetValue(sid, out var full) ? full : sid.ToUpperInvariant();

    public static string AliasOf(string sid)
    {
        foreach (var (alias, full) in Aliases)
            if (full == sid) return alias;
        return sid;
    }

    public static string NameOf(string sid) => Names.TryGetValue(sid, out var name) ? name : sid;

    public static SecurityDescriptorString Parse(string sddl)
    {
        ArgumentNullException.ThrowIfNull(sddl);
        if (sddl.Length > ReaderLimits.SddlMaxChars)
            throw new MalformedDataException(FormatName, 0, $"{sddl.Length} characters, over the limit of {ReaderLimits.SddlMaxChars} (ReaderLimits.SddlMaxChars)");
        string? owner = null, group = null, daclFlags = null, saclFlags = null;
        List<SddlAce>? dacl = null, sacl = null;
        var position = 0;
        while (position < sddl.Length)
        {
            if (char.IsWhiteSpace(sddl[position])) { position++; continue; }
            if (position + 1 >= sddl.Length || sddl[position + 1] != ':')
                throw new MalformedDataException(FormatName, position, $"expected O:, G:, D: or S: at '{Excerpt(sddl, position)}'");
            var part = sddl[position];
            position += 2;
            switch (part)
            {
                case 'O': owner = ResolveSid(ReadUntilPart(sddl, ref position)); break;
                case 'G': group = ResolveSid(ReadUntilPart(sddl, ref position)); break;
                case 'D': (daclFlags, dacl) = ReadAcl(sddl, ref position); break;
                case 'S': (saclFlags, sacl) = ReadAcl(sddl, ref position); break;
                default: throw new MalformedDataException(FormatName, position - 2, $"unknown part '{part}:'");
            }
        }
        return new SecurityDescriptorString
        {
            Owner = owner, Group = group, DaclFlags = daclFlags, Dacl = dacl, SaclFlags = saclFlags, Sacl = sacl,
        };
    }

    /// <summary>Canonical SDDL: numeric rights, aliases, parts in O G D S order; equal ACLs give equal strings.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (Owner is not null) text.Append("O:").Append(AliasOf(Owner));
        if (Group is not null) text.Append("G:").Append(AliasOf(Group));
        if (Dacl is not null) text.Append("D:").Append(DaclFlags).AppendJoin("", Dacl);
        if (Sacl is not null) text.Append("S:").Append(SaclFlags).AppendJoin("", Sacl);
        return text.ToString();
    }

    private static string ReadUntilPart(string sddl, ref int position)
    {
        var start = position;
        while (position < sddl.Length && !(position + 1 < sddl.Length && sddl[position + 1] == ':' && "OGDS".Contains(sddl[position])))
            position++;
        return sddl[start..position].Trim();
    }

    private static (string Flags, List<SddlAce> Aces) ReadAcl(string sddl, ref int position)
    {
        var flagsStart = position;
        while (position < sddl.Length && sddl[position] != '(' &&
               !(position + 1 < sddl.Length && sddl[position + 1] == ':' && "OGDS".Contains(sddl[position])))
            position++;
        var flags = sddl[flagsStart..position];
        var aces = new List<SddlAce>();
        while (position < sddl.Length && sddl[position] == '(')
        {
            var close = sddl.IndexOf(')', position);
            if (close < 0) throw new MalformedDataException(FormatName, position, "ACE without ')'");
            aces.Add(ParseAce(sddl[(position + 1)..close], position));
            position = close + 1;
        }
        return (flags, aces);
    }

    private static SddlAce ParseAce(string ace, int offset)
    {
        var fields = ace.Split(';');
        if (fields.Length < 6)
            throw new MalformedDataException(FormatName, offset, $"ACE '({ace})' has {fields.Length} fields, expected 6");
        return new SddlAce(fields[0], fields[1], ParseRights(fields[2], offset), fields[3], fields[4], ResolveSid(fields[5]));
    }

    private static uint ParseRights(string rights, int offset)
    {
        if (rights.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return uint.TryParse(rights.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex)
                ? hex : throw new MalformedDataException(FormatName, offset, $"bad rights '{rights}'");
        if (rights.Length > 0 && char.IsAsciiDigit(rights[0]))
            return uint.TryParse(rights, NumberStyles.None, CultureInfo.InvariantCulture, out var dec)
                ? dec : throw new MalformedDataException(FormatName, offset, $"bad rights '{rights}'");
        if (rights.Length % 2 != 0) throw new MalformedDataException(FormatName, offset, $"bad rights '{rights}'");
        uint mask = 0;
        for (var i = 0; i < rights.Length; i += 2)
            mask |= RightCodes.TryGetValue(rights.Substring(i, 2), out var bits)
                ? bits : throw new MalformedDataException(FormatName, offset, $"unknown right '{rights.Substring(i, 2)}'");
        return mask;
    }

    private static string Excerpt(string text, int position) => text[position..Math.Min(text.Length, position + 12)];
}

namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>
/// A Windows error code in one of its three numbering systems, with its bit fields decoded.
/// <list type="bullet">
/// <item>HRESULT (MS-ERREF 2.1): S (bit 31, error), R (30), C (29, customer), N (28, an NTSTATUS inside:
/// HRESULT_FROM_NT), X (27), facility, code (low 16 bits).</item>
/// <item>NTSTATUS (MS-ERREF 2.3): severity (bits 31-30: success, informational, warning, error), C (29), N (28,
/// reserved), facility, code.</item>
/// <item>Win32 error numbers 0..0xFFFF, carried as HRESULT_FROM_WIN32: 0x8007xxxx (0 stays 0).</item>
/// </list>
/// The facility is read as bits 16-27, as the headers' own facilities need (FACILITY_AUDCLNT is 0x889);
/// the X bit is also reported on its own.
/// </summary>
public readonly record struct ErrorCode
{
    private const uint SeverityBit = 0x8000_0000;
    private const uint ReservedBit = 0x4000_0000;
    private const uint CustomerBit = 0x2000_0000;
    private const uint NtBit = 0x1000_0000;
    private const uint XBit = 0x0800_0000;
    private const uint FacilityWin32 = 7;

    private ErrorCode(ErrorCodeKind kind, uint value)
    {
        Kind = kind;
        Value = value;
    }

    /// <summary>The numbering system this code is read in.</summary>
    public ErrorCodeKind Kind { get; }

    /// <summary>The number as given in its own system: the HRESULT, the Win32 error number, or the NTSTATUS.</summary>
    public uint Value { get; }

    public static ErrorCode FromHresult(uint hresult) => new(ErrorCodeKind.Hresult, hresult);

    public static ErrorCode FromNtStatus(uint status) => new(ErrorCodeKind.NtStatus, status);

    /// <summary>A Win32 error number; only 0..0xFFFF exist (HRESULT_FROM_WIN32 keeps 16 bits).</summary>
    public static ErrorCode FromWin32(uint error) => error <= 0xFFFF
        ? new(ErrorCodeKind.Win32, error)
        : throw new ArgumentOutOfRangeException(nameof(error), error, "Win32 error numbers are 0..65535");

    /// <summary>
    /// Reads a bare 32-bit number the way Windows tools print it: 0..0xFFFF is a Win32 error number; a value
    /// the headers name as an HRESULT is one; then a value they name as an NTSTATUS; an HRESULT with the N bit is
    /// HRESULT_FROM_NT; and otherwise bit 30 (never set in a valid HRESULT without N) means NTSTATUS.
    /// </summary>
    public static ErrorCode Interpret(uint value, ErrorNameTable names)
    {
        if (value <= 0xFFFF) return FromWin32(value);
        if (names.Lookup(ErrorCodeKind.Hresult, value).Count > 0) return FromHresult(value);
        if (names.Lookup(ErrorCodeKind.NtStatus, value).Count > 0) return FromNtStatus(value);
        if ((value & (SeverityBit | NtBit)) == (SeverityBit | NtBit)) return FromHresult(value);
        return (value & ReservedBit) != 0 ? FromNtStatus(value) : FromHresult(value);
    }

    /// <summary>The 32 bits shown as "the code": the HRESULT (a Win32 number in its HRESULT form) or the NTSTATUS.</summary>
    public uint Bits => Kind switch
    {
        ErrorCodeKind.Win32 => Value == 0 ? 0 : 0x8000_0000 | (FacilityWin32 << 16) | Value,
        _ => Value,
    };

    public int SignedBits => unchecked((int)Bits);

    /// <summary>"success", "informational", "warning" (NTSTATUS only) or "error".</summary>
    public string Severity => Kind == ErrorCodeKind.NtStatus
        ? (Bits >> 30) switch { 0 => "success", 1 => "informational", 2 => "warning", _ => "error" }
        : (Bits & SeverityBit) != 0 ? "error" : "success";

    /// <summary>The C bit: set by third parties for their own codes, never by Microsoft.</summary>
    public bool IsCustomer => (Bits & CustomerBit) != 0;

    /// <summary>HRESULT R bit (bit 30), which must be clear unless N is set.</summary>
    public bool ReservedBitSet => Kind != ErrorCodeKind.NtStatus && (Bits & ReservedBit) != 0;

    /// <summary>HRESULT N bit: the HRESULT carries an NTSTATUS (HRESULT_FROM_NT). For an NTSTATUS, a reserved bit.</summary>
    public bool NtBitSet => (Bits & NtBit) != 0;

    /// <summary>HRESULT X bit (bit 27); Microsoft's newer facilities above 0x7FF use it.</summary>
    public bool XBitSet => Kind != ErrorCodeKind.NtStatus && (Bits & XBit) != 0;

    /// <summary>Facility number, bits 16-27.</summary>
    public uint Facility => (Bits >> 16) & 0xFFF;

    /// <summary>The code within the facility, the low 16 bits.</summary>
    public uint CodeInFacility => Bits & 0xFFFF;

    /// <summary>The Win32 error number this code carries: itself, or the low word of a 0x8007xxxx HRESULT.</summary>
    public uint? Win32Error => Kind switch
    {
        ErrorCodeKind.Win32 => Value,
        ErrorCodeKind.Hresult when Value == 0 => 0,
        ErrorCodeKind.Hresult when (Value & 0xFFFF_0000) == 0x8007_0000 => Value & 0xFFFF,
        _ => null,
    };

    /// <summary>The NTSTATUS this code carries: itself, or the status inside an HRESULT_FROM_NT (N bit set).</summary>
    public uint? NtStatus => Kind switch
    {
        ErrorCodeKind.NtStatus => Value,
        ErrorCodeKind.Hresult when (Value & NtBit) != 0 => Value & ~NtBit,
        _ => null,
    };

    /// <summary>The HRESULT_FROM_NT form of an NTSTATUS (how COM and .NET report it), else null.</summary>
    public uint? HresultFromNt => Kind == ErrorCodeKind.NtStatus ? Value | NtBit : null;

    /// <summary>
    /// Two codes with the same identity are the same failure written differently (1312 and 0x80070520;
    /// 0xC000006D and 0xD000006D): report them once.
    /// </summary>
    public (bool IsNt, uint Value) Identity => NtStatus is { } status ? (true, status) : (false, Bits);

    public override string ToString() => Kind == ErrorCodeKind.Win32 ? $"{Value}" : $"0x{Bits:X8}";
}

namespace KeyDoctor.Formats.Registry;

/// <summary>
/// The registry value types (winnt.h REG_*). Hives may carry any 32-bit number here (device properties use
/// 0xFFFF00xx), so the enum is a view over the raw number: undefined numbers are kept, not rejected.
/// </summary>
public enum RegistryValueType : uint
{
    None = 0,
    String = 1,
    ExpandString = 2,
    Binary = 3,
    DWordLittleEndian = 4,
    DWordBigEndian = 5,
    Link = 6,
    MultiString = 7,
    ResourceList = 8,
    FullResourceDescriptor = 9,
    ResourceRequirementsList = 10,
    QWordLittleEndian = 11,
}

public static class RegistryValueTypeNames
{
    /// <summary>The winnt.h name ("REG_SZ", ...), or "0x%08X" for a number with no name.</summary>
    public static string ToRegName(this RegistryValueType type) => type switch
    {
        RegistryValueType.None => "REG_NONE",
        RegistryValueType.String => "REG_SZ",
        RegistryValueType.ExpandString => "REG_EXPAND_SZ",
        RegistryValueType.Binary => "REG_BINARY",
        RegistryValueType.DWordLittleEndian => "REG_DWORD",
        RegistryValueType.DWordBigEndian => "REG_DWORD_BIG_ENDIAN",
        RegistryValueType.Link => "REG_LINK",
        RegistryValueType.MultiString => "REG_MULTI_SZ",
        RegistryValueType.ResourceList => "REG_RESOURCE_LIST",
        RegistryValueType.FullResourceDescriptor => "REG_FULL_RESOURCE_DESCRIPTOR",
        RegistryValueType.ResourceRequirementsList => "REG_RESOURCE_REQUIREMENTS_LIST",
        RegistryValueType.QWordLittleEndian => "REG_QWORD",
        _ => $"0x{(uint)type:X8}",
    };
}

using System.Globalization;

namespace KeyDoctor.Formats.Procmon;

/// <summary>
/// Operation names as Procmon shows them, by event class and the PML operation number; file-system operations
/// with a sub-operation byte (QueryInformationFile, SetInformationFile, DirectoryControl, …) show the
/// sub-operation's name instead.
/// </summary>
internal static class PmlOperations
{
    private static readonly string[] Process =
    [
        "Process Defined", "Process Create", "Process Exit", "Thread Create", "Thread Exit", "Load Image", "Thread Profile",
        "Process Start", "Process Statistics", "System Statistics",
    ];

    private static readonly string[] Registry =
    [
        "RegOpenKey", "RegCreateKey", "RegCloseKey", "RegQueryKey", "RegSetValue", "RegQueryValue", "RegEnumValue", "RegEnumKey",
        "RegSetInfoKey", "RegDeleteKey", "RegDeleteValue", "RegFlushKey", "RegLoadKey", "RegUnloadKey", "RegRenameKey",
        "RegQueryMultipleValueKey", "RegSetKeySecurity", "RegQueryKeySecurity",
    ];

    private static readonly string[] Network =
        ["Unknown", "Other", "Send", "Receive", "Accept", "Connect", "Disconnect", "Reconnect", "Retransmit", "TCPCopy"];

    private static readonly string[] Profiling = ["Thread Profiling", "Process Profiling", "Debug Output Profiling"];

    internal const int CreateFile = 20, ReadFile = 23, WriteFile = 24, QueryInformationFile = 25, SetInformationFile = 26,
        QueryVolumeInformation = 30, SetVolumeInformation = 31, DirectoryControl = 32, FileSystemControl = 33, DeviceIoControl = 34,
        LockUnlockFile = 37, PlugAndPlay = 47, CreateFileMapping = 19;

    private static readonly string[] FileSystem =
    [
        "VolumeDismount", "VolumeMount", "FASTIO_MDL_WRITE_COMPLETE", "WriteFile2", "FASTIO_MDL_READ_COMPLETE", "ReadFile2",
        "QueryOpen", "FASTIO_CHECK_IF_POSSIBLE", "IRP_MJ_12", "IRP_MJ_11", "IRP_MJ_10", "IRP_MJ_9", "IRP_MJ_8",
        "FASTIO_NOTIFY_STREAM_FO_CREATION", "FASTIO_RELEASE_FOR_CC_FLUSH", "FASTIO_ACQUIRE_FOR_CC_FLUSH",
        "FASTIO_RELEASE_FOR_MOD_WRITE", "FASTIO_ACQUIRE_FOR_MOD_WRITE", "FASTIO_RELEASE_FOR_SECTION_SYNCHRONIZATION",
        "CreateFileMapping", "CreateFile", "CreatePipe", "IRP_MJ_CLOSE", "ReadFile", "WriteFile", "QueryInformationFile",
        "SetInformationFile", "QueryEAFile", "SetEAFile", "FlushBuffersFile", "QueryVolumeInformation", "SetVolumeInformation",
        "DirectoryControl", "FileSystemControl", "DeviceIoControl", "InternalDeviceIoControl", "Shutdown", "LockUnlockFile",
        "CloseFile", "CreateMailSlot", "QuerySecurityFile", "SetSecurityFile", "Power", "SystemControl", "DeviceChange",
        "QueryFileQuota", "SetFileQuota", "PlugAndPlay",
    ];

    private static readonly Dictionary<int, string> QueryVolume = new()
    {
        [1] = "QueryInformationVolume", [2] = "QueryLabelInformationVolume", [3] = "QuerySizeInformationVolume",
        [4] = "QueryDeviceInformationVolume", [5] = "QueryAttributeInformationVolume", [6] = "QueryControlInformationVolume",
        [7] = "QueryFullSizeInformationVolume", [8] = "QueryObjectIdInformationVolume",
    };

    private static readonly Dictionary<int, string> SetVolume = new()
    {
        [1] = "SetControlInformationVolume", [2] = "SetLabelInformationVolume", [8] = "SetObjectIdInformationVolume",
    };

    private static readonly Dictionary<int, string> QueryInformation = new()
    {
        [0x4] = "QueryBasicInformationFile", [0x5] = "QueryStandardInformationFile", [0x6] = "QueryFileInternalInformationFile",
        [0x7] = "QueryEaInformationFile", [0x9] = "QueryNameInformationFile", [0xE] = "QueryPositionInformationFile",
        [0x12] = "QueryAllInformationFile", [0x14] = "QueryEndOfFile", [0x16] = "QueryStreamInformationFile",
        [0x1C] = "QueryCompressionInformationFile", [0x1D] = "QueryId", [0x1F] = "QueryMoveClusterInformationFile",
        [0x22] = "QueryNetworkOpenInformationFile", [0x23] = "QueryAttributeTagFile", [0x25] = "QueryIdBothDirectory",
        [0x27] = "QueryValidDataLength", [0x28] = "QueryShortNameInformationFile", [0x2B] = "QueryIoPiorityHint",
        [0x2E] = "QueryLinks", [0x30] = "QueryNormalizedNameInformationFile", [0x31] = "QueryNetworkPhysicalNameInformationFile",
        [0x32] = "QueryIdGlobalTxDirectoryInformation", [0x33] = "QueryIsRemoteDeviceInformation",
        [0x34] = "QueryAttributeCacheInformation", [0x35] = "QueryNumaNodeInformation", [0x36] = "QueryStandardLinkInformation",
        [0x37] = "QueryRemoteProtocolInformation", [0x38] = "QueryRenameInformationBypassAccessCheck",
        [0x39] = "QueryLinkInformationBypassAccessCheck", [0x3A] = "QueryVolumeNameInformation", [0x3B] = "QueryIdInformation",
        [0x3C] = "QueryIdExtdDirectoryInformation", [0x3E] = "QueryHardLinkFullIdInformation",
        [0x3F] = "QueryIdExtdBothDirectoryInformation", [0x43] = "QueryDesiredStorageClassInformation",
        [0x44] = "QueryStatInformation", [0x45] = "QueryMemoryPartitionInformation", [0x46] = "QuerySatLxInformation",
        [0x47] = "QueryCaseSensitiveInformation", [0x48] = "QueryLinkInformationEx",
        [0x49] = "QueryLinkInfomraitonBypassAccessCheck", [0x4A] = "QueryStorageReservedIdInformation",
        [0x4B] = "QueryCaseSensitiveInformationForceAccessCheck",
    };

    private static readonly Dictionary<int, string> SetInformation = new()
    {
        [0x4] = "SetBasicInformationFile", [0xA] = "SetRenameInformationFile", [0xB] = "SetLinkInformationFile",
        [0xD] = "SetDispositionInformationFile", [0xE] = "SetPositionInformationFile", [0x13] = "SetAllocationInformationFile",
        [0x14] = "SetEndOfFileInformationFile", [0x16] = "SetFileStreamInformation", [0x17] = "SetPipeInformation",
        [0x27] = "SetValidDataLengthInformationFile", [0x28] = "SetShortNameInformation",
        [0x3D] = "SetReplaceCompletionInformation", [0x40] = "SetDispositionInformationEx", [0x41] = "SetRenameInformationEx",
        [0x42] = "SetRenameInformationExBypassAccessCheck", [0x4A] = "SetStorageReservedIdInformation",
    };

    private static readonly Dictionary<int, string> Directory = new() { [1] = "QueryDirectory", [2] = "NotifyChangeDirectory" };

    private static readonly Dictionary<int, string> Lock = new()
    {
        [1] = "LockFile", [2] = "UnlockFileSingle", [3] = "UnlockFileAll", [4] = "UnlockFileByKey",
    };

    private static readonly Dictionary<int, string> Pnp = new()
    {
        [0x0] = "StartDevice", [0x1] = "QueryRemoveDevice", [0x2] = "RemoveDevice", [0x3] = "CancelRemoveDevice",
        [0x4] = "StopDevice", [0x5] = "QueryStopDevice", [0x6] = "CancelStopDevice", [0x7] = "QueryDeviceRelations",
        [0x8] = "QueryInterface", [0x9] = "QueryCapabilities", [0xA] = "QueryResources", [0xB] = "QueryResourceRequirements",
        [0xC] = "QueryDeviceText", [0xD] = "FilterResourceRequirements", [0xF] = "ReadConfig", [0x10] = "WriteConfig",
        [0x11] = "Eject", [0x12] = "SetLock", [0x13] = "QueryId2", [0x14] = "QueryPnpDeviceState", [0x15] = "QueryBusInformation",
        [0x16] = "DeviceUsageNotification", [0x17] = "SurpriseRemoval", [0x18] = "QueryLegacyBusInformation",
    };

    /// <summary>The operation's name; null when the class or number is unknown (a corrupt event).</summary>
    public static string? Name(ProcmonEventClass eventClass, int operation) => eventClass switch
    {
        ProcmonEventClass.Process => At(Process, operation),
        ProcmonEventClass.Registry => At(Registry, operation),
        ProcmonEventClass.FileSystem => At(FileSystem, operation),
        ProcmonEventClass.Profiling => At(Profiling, operation),
        ProcmonEventClass.Network => At(Network, operation),
        _ => null,
    };

    /// <summary>The name of a file-system sub-operation, or the operation's own name with " &lt;Unknown&gt;" when it has no such sub-operation.</summary>
    public static string FileSystemName(int operation, int subOperation, string name)
    {
        var table = operation switch
        {
            QueryVolumeInformation => QueryVolume,
            SetVolumeInformation => SetVolume,
            QueryInformationFile => QueryInformation,
            SetInformationFile => SetInformation,
            DirectoryControl => Directory,
            PlugAndPlay => Pnp,
            LockUnlockFile => Lock,
            _ => null,
        };
        if (table is null || subOperation == 0) return name;
        return table.TryGetValue(subOperation, out var sub) ? sub : name + " <Unknown>";
    }

    private static string? At(string[] names, int index) => (uint)index < (uint)names.Length ? names[index] : null;

    internal static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}

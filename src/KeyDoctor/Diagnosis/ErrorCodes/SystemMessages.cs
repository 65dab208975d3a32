using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>Where the operating system's own text for a code comes from (FormatMessage on Windows).</summary>
public interface ISystemMessageSource
{
    /// <summary>The system's message for <paramref name="code"/>, or null when it has none.</summary>
    string? Describe(ErrorCode code);
}

/// <summary>Picks the message source for the machine KeyDoctor runs on.</summary>
public static class SystemMessages
{
    /// <summary>FormatMessage on Windows; elsewhere no system text (KeyDoctor's own notes are used instead).</summary>
    public static ISystemMessageSource ForCurrentOs() =>
        OperatingSystem.IsWindows() ? new WindowsSystemMessages() : NoSystemMessages.Instance;
}

/// <summary>No system message text: offline analysis on Linux or macOS.</summary>
public sealed class NoSystemMessages : ISystemMessageSource
{
    public static readonly NoSystemMessages Instance = new();

    private NoSystemMessages() { }

    public string? Describe(ErrorCode code) => null;
}

/// <summary>
/// The Windows message tables through FormatMessage: the system table for HRESULTs and Win32 numbers, ntdll's
/// for NTSTATUS values. Text is in the machine's UI language and flattened to one line.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed partial class WindowsSystemMessages : ISystemMessageSource
{
    private const int FormatMessageIgnoreInserts = 0x0200;
    private const int FormatMessageFromHModule = 0x0800;
    private const int FormatMessageFromSystem = 0x1000;

    public string? Describe(ErrorCode code)
    {
        if (code.NtStatus is { } status)
        {
            var ntdll = GetModuleHandleW("ntdll.dll");
            return ntdll == IntPtr.Zero ? null : Format(FormatMessageFromHModule | FormatMessageIgnoreInserts, ntdll, status);
        }
        // Win32 numbers are looked up as themselves: the system table holds them below 0x10000.
        var id = code.Win32Error ?? code.Bits;
        return Format(FormatMessageFromSystem | FormatMessageIgnoreInserts, IntPtr.Zero, id);
    }

    private static string? Format(int flags, IntPtr module, uint id)
    {
        var buffer = new char[2048];
        var length = FormatMessageW(flags, module, id, 0, buffer, buffer.Length, IntPtr.Zero);
        if (length <= 0) return null;
        var text = new string(buffer, 0, Math.Min(length, buffer.Length)).ReplaceLineEndings(" ").Trim();
        // ntdll texts often start with a "{Title}" line; keep it, it reads fine inline.
        return text.Length == 0 ? null : text;
    }

    [DllImport("kernel32.dll", CharSet = CharSet.Unicode, ExactSpelling = true, SetLastError = true)]
    private static extern int FormatMessageW(int flags, IntPtr source, uint messageId, int languageId,
        [Out] char[] buffer, int size, IntPtr arguments);

    [DllImport("kernel32.dll", CharSet = CharSet.Unicode, ExactSpelling = true)]
    private static extern IntPtr GetModuleHandleW(string moduleName);
}

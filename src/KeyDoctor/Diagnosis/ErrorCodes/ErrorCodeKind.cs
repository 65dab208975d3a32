namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>The three numbering systems Windows reports failures in.</summary>
public enum ErrorCodeKind
{
    /// <summary>A COM/Win32 HRESULT (winerror.h), e.g. 0x80090016.</summary>
    Hresult,

    /// <summary>A Win32 error number (GetLastError, winerror.h ERROR_*), e.g. 1312.</summary>
    Win32,

    /// <summary>A kernel NTSTATUS (ntstatus.h), e.g. 0xC000006D.</summary>
    NtStatus,
}

using KeyDoctor.Diagnosis.ErrorCodes;

namespace KeyDoctor.Tests.ErrorCodes;

/// <summary>Bit fields per MS-ERREF 2.1 (HRESULT) and 2.3 (NTSTATUS), and the choice of numbering system.</summary>
public class ErrorCodeTests
{
    private static readonly ErrorNameTable Names = ErrorNameTable.Embedded;

    [Fact]
    public void HresultFieldsOfNteBadKeyset()
    {
        var code = ErrorCode.Interpret(0x80090016, Names);
        Assert.Equal(ErrorCodeKind.Hresult, code.Kind);
        Assert.Equal(0x80090016u, code.Bits);
        Assert.Equal(-2146893802, code.SignedBits);
        Assert.Equal("error", code.Severity);
        Assert.False(code.IsCustomer);
        Assert.False(code.NtBitSet);
        Assert.False(code.XBitSet);
        Assert.Equal(9u, code.Facility);
        Assert.Equal(0x16u, code.CodeInFacility);
        Assert.Null(code.Win32Error);
        Assert.Null(code.NtStatus);
    }

    [Fact]
    public void Win32NumbersAreCarriedAsHresultFromWin32()
    {
        var code = ErrorCode.Interpret(1312, Names);
        Assert.Equal(ErrorCodeKind.Win32, code.Kind);
        Assert.Equal(0x80070520u, code.Bits);
        Assert.Equal(7u, code.Facility);
        Assert.Equal(1312u, code.Win32Error);
        Assert.Equal(0u, ErrorCode.FromWin32(0).Bits); // HRESULT_FROM_WIN32(ERROR_SUCCESS) is S_OK
        Assert.Equal(1312u, ErrorCode.FromHresult(0x80070520).Win32Error);
        Assert.Equal(ErrorCode.FromWin32(1312).Identity, ErrorCode.FromHresult(0x80070520).Identity);
        Assert.Throws<ArgumentOutOfRangeException>(() => ErrorCode.FromWin32(0x10000));
    }

    [Fact]
    public void NtStatusFieldsAndHresultFromNt()
    {
        var status = ErrorCode.Interpret(0xC000006D, Names);
        Assert.Equal(ErrorCodeKind.NtStatus, status.Kind);
        Assert.Equal("error", status.Severity);
        Assert.Equal(0u, status.Facility);
        Assert.Equal(0x6Du, status.CodeInFacility);
        Assert.Equal(0xD000006Du, status.HresultFromNt);

        var wrapped = ErrorCode.Interpret(0xD000006D, Names);
        Assert.Equal(ErrorCodeKind.Hresult, wrapped.Kind);
        Assert.True(wrapped.NtBitSet);
        Assert.Equal(0xC000006Du, wrapped.NtStatus);
        Assert.Equal(status.Identity, wrapped.Identity);
    }

    [Theory]
    [InlineData(0x00000103u, ErrorCodeKind.Win32, "error")]           // small: a Win32 number (ERROR_NO_MORE_ITEMS), S set once wrapped
    [InlineData(0x40000003u, ErrorCodeKind.NtStatus, "informational")] // STATUS_IMAGE_NOT_AT_BASE
    [InlineData(0x80000005u, ErrorCodeKind.NtStatus, "warning")]       // STATUS_BUFFER_OVERFLOW, named only in ntstatus.h
    [InlineData(0x8004D000u, ErrorCodeKind.Hresult, "error")]          // XACT_E_ALREADYOTHERSINGLEPHASE
    [InlineData(0xC0DE0001u, ErrorCodeKind.NtStatus, "error")]         // unnamed, bit 30 set: NTSTATUS by structure
    [InlineData(0x8123ABCDu, ErrorCodeKind.Hresult, "error")]          // unnamed, bit 30 clear: HRESULT by structure
    [InlineData(0x087A0001u, ErrorCodeKind.Hresult, "success")]        // DXGI_STATUS_OCCLUDED, X bit facility 0x87A
    public void InterpretChoosesTheNumberingSystem(uint value, ErrorCodeKind kind, string severity)
    {
        var code = ErrorCode.Interpret(value, Names);
        Assert.Equal(kind, code.Kind);
        Assert.Equal(severity, code.Severity);
    }

    [Fact]
    public void CustomerAndXBits()
    {
        var custom = ErrorCode.Interpret(0xA0040001, Names);
        Assert.True(custom.IsCustomer);
        Assert.Equal(4u, custom.Facility);
        var dxgi = ErrorCode.FromHresult(0x887A0001);
        Assert.True(dxgi.XBitSet);
        Assert.Equal(0x87Au, dxgi.Facility);
    }
}

using KeyDoctor.Diagnosis.ErrorCodes;

namespace KeyDoctor.Tests.ErrorCodes;

public class ErrorExplainerTests
{
    private sealed class FakeSystemMessages(Dictionary<uint, string> texts) : ISystemMessageSource
    {
        public List<ErrorCode> Asked { get; } = [];

        public string? Describe(ErrorCode code)
        {
            Asked.Add(code);
            return texts.GetValueOrDefault(code.Bits);
        }
    }

    [Fact]
    public void SystemTextWinsOverOurWordsAndAdviceStays()
    {
        var system = new FakeSystemMessages(new() { [0x80090016] = "text from the system table" });
        var explained = new ErrorExplainer(ErrorNameTable.Embedded, system).Explain(ErrorCode.FromHresult(0x80090016));
        Assert.Equal("text from the system table", explained.Message);
        Assert.Equal(MessageSource.System, explained.MessageSource);
        Assert.NotNull(explained.Note);
    }

    [Fact]
    public void WithoutSystemTextOurWordsOrAPlainStatement()
    {
        var windowsWithoutText = new FakeSystemMessages([]);
        var known = new ErrorExplainer(ErrorNameTable.Embedded, windowsWithoutText).Explain(ErrorCode.FromHresult(0x8009030D));
        Assert.Equal(MessageSource.KeyDoctor, known.MessageSource);
        var unknown = new ErrorExplainer(ErrorNameTable.Embedded, windowsWithoutText).Explain(ErrorCode.FromHresult(0x8009FFFF));
        Assert.Equal((ErrorExplanation.NoMessageOnWindows, MessageSource.None), (unknown.Message, unknown.MessageSource));
        var offline = new ErrorExplainer(ErrorNameTable.Embedded, NoSystemMessages.Instance).Explain(ErrorCode.FromHresult(0x8009FFFF));
        Assert.Equal(ErrorExplanation.NoMessageOffline, offline.Message);
    }

    [Fact]
    public void OfflineOnLinuxThereIsNoSystemSource()
    {
        if (OperatingSystem.IsWindows()) Assert.IsType<WindowsSystemMessages>(SystemMessages.ForCurrentOs());
        else Assert.Same(NoSystemMessages.Instance, SystemMessages.ForCurrentOs());
    }

    [Fact]
    public void NamesOfEveryFormCanonicalFirst()
    {
        var explainer = new ErrorExplainer(ErrorNameTable.Embedded, NoSystemMessages.Instance);
        Assert.Equal(["ERROR_ACCESS_DENIED", "E_ACCESSDENIED"], explainer.Explain(ErrorCode.FromWin32(5)).Names.Select(n => n.Name));
        // Header order, aliases after real definitions (SEC_E_OK comes before S_OK in winerror.h).
        Assert.Equal(["SEC_E_OK", "S_OK", "ERROR_SUCCESS", "NO_ERROR", "NOERROR", "NTE_OP_OK", "TBS_SUCCESS", "DS_S_SUCCESS", "DNS_ERROR_RCODE_NO_ERROR", "SCARD_S_SUCCESS"],
            explainer.Explain(ErrorCode.FromHresult(0)).Names.Select(n => n.Name));
        Assert.Equal(["STATUS_LOGON_FAILURE"], explainer.Explain(ErrorCode.FromHresult(0xD000006D)).Names.Select(n => n.Name));
    }
}

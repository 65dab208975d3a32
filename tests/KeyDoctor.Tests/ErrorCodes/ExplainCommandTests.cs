using System.Text.Json;

namespace KeyDoctor.Tests.ErrorCodes;

/// <summary>`keydoctor explain` end to end: every example of the issue, in text and JSON, with exact values.</summary>
public class ExplainCommandTests
{
    private static JsonElement[] JsonCodes(params string[] args)
    {
        var result = Cli.Run(["explain", .. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("", result.Stderr);
        using var document = JsonDocument.Parse(result.Stdout); // one document, nothing else on stdout
        return document.RootElement.GetProperty("codes").EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private static string Text(params string[] args)
    {
        var result = Cli.Run(["explain", .. args]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout;
    }

    private static void AssertNteBadKeyset(JsonElement code, string input)
    {
        Assert.Equal(input, code.GetProperty("input").GetString());
        Assert.Equal("hresult", code.GetProperty("kind").GetString());
        Assert.Equal("0x80090016", code.GetProperty("code").GetString());
        Assert.Equal(2148073494u, code.GetProperty("unsigned").GetUInt32());
        Assert.Equal(-2146893802, code.GetProperty("signed").GetInt32());
        Assert.Equal("error", code.GetProperty("severity").GetString());
        Assert.False(code.GetProperty("customer").GetBoolean());
        Assert.Equal(9, code.GetProperty("facility").GetProperty("number").GetInt32());
        Assert.Equal("FACILITY_SSPI", code.GetProperty("facility").GetProperty("name").GetString());
        Assert.Equal(22, code.GetProperty("codeInFacility").GetInt32());
        Assert.Equal("NTE_BAD_KEYSET", code.GetProperty("name").GetString());
        Assert.True(code.GetProperty("nameKnown").GetBoolean());
        Assert.Equal("The key container does not exist or cannot be opened.", code.GetProperty("message").GetString());
        Assert.Equal("keydoctor", code.GetProperty("messageSource").GetString());
        Assert.StartsWith("Key container missing or unreadable", code.GetProperty("advice").GetString());
        Assert.Equal(["keydoctor scan", "keydoctor keys list", "keydoctor certs show"],
            code.GetProperty("run").EnumerateArray().Select(r => r.GetString()));
        Assert.False(code.TryGetProperty("win32", out _));
    }

    [Theory]
    [InlineData("0x80090016")]
    [InlineData("80090016")]
    [InlineData("-2146893802")] // a leading '-' without "--": System.CommandLine must take it as the argument
    [InlineData("2148073494")]
    [InlineData("NTE_BAD_KEYSET")]
    public void NteBadKeysetInEveryNotation(string input)
    {
        AssertNteBadKeyset(Assert.Single(JsonCodes(input)), input);

        var text = Text(input);
        Assert.Contains("0x80090016 NTE_BAD_KEYSET", text);
        Assert.Contains("0x80090016 = 2148073494 = -2146893802", text);
        Assert.Contains("severity error, customer 0, N 0, facility 9 FACILITY_SSPI = FACILITY_SECURITY, code 0x0016 (22)", text);
        Assert.Contains("Key container missing or unreadable", text);
        Assert.Contains("keydoctor scan; keydoctor keys list; keydoctor certs show", text);
    }

    [Fact]
    public void Win32Number1312ShowsBothForms()
    {
        var code = Assert.Single(JsonCodes("1312"));
        Assert.Equal("win32", code.GetProperty("kind").GetString());
        Assert.Equal("0x80070520", code.GetProperty("code").GetString());
        Assert.Equal(2147943712u, code.GetProperty("unsigned").GetUInt32());
        Assert.Equal(-2147023584, code.GetProperty("signed").GetInt32());
        Assert.Equal(7, code.GetProperty("facility").GetProperty("number").GetInt32());
        Assert.Equal("FACILITY_WIN32", code.GetProperty("facility").GetProperty("name").GetString());
        Assert.Equal(1312, code.GetProperty("codeInFacility").GetInt32());
        Assert.Equal("ERROR_NO_SUCH_LOGON_SESSION", code.GetProperty("name").GetString());
        Assert.Equal(1312, code.GetProperty("win32").GetProperty("code").GetInt32());
        Assert.Equal("ERROR_NO_SUCH_LOGON_SESSION", code.GetProperty("win32").GetProperty("name").GetString());
        Assert.Contains("HTTP.sys", code.GetProperty("advice").GetString());

        var text = Text("1312");
        Assert.Contains("0x80070520 ERROR_NO_SUCH_LOGON_SESSION", text);
        Assert.Contains("1312 ERROR_NO_SUCH_LOGON_SESSION, as HRESULT 0x80070520", text);
    }

    [Fact]
    public void WrappedWin32Hresult0x80070520()
    {
        var code = Assert.Single(JsonCodes("0x80070520"));
        Assert.Equal("hresult", code.GetProperty("kind").GetString());
        Assert.Equal("ERROR_NO_SUCH_LOGON_SESSION", code.GetProperty("name").GetString());
        Assert.Equal(1312, code.GetProperty("win32").GetProperty("code").GetInt32());
        Assert.Contains("1312 ERROR_NO_SUCH_LOGON_SESSION, wrapped as HRESULT_FROM_WIN32", Text("0x80070520"));
    }

    [Fact]
    public void AccessDeniedHasTheHresultAndWin32Names()
    {
        var code = Assert.Single(JsonCodes("0x80070005"));
        Assert.Equal("E_ACCESSDENIED", code.GetProperty("name").GetString());
        Assert.Equal(["E_ACCESSDENIED", "ERROR_ACCESS_DENIED"], code.GetProperty("names").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal("ERROR_ACCESS_DENIED", code.GetProperty("win32").GetProperty("name").GetString());
    }

    [Fact]
    public void NtStatusLogonFailure()
    {
        var code = Assert.Single(JsonCodes("0xC000006D"));
        Assert.Equal("ntstatus", code.GetProperty("kind").GetString());
        Assert.Equal("0xC000006D", code.GetProperty("code").GetString());
        Assert.Equal(3221225581u, code.GetProperty("unsigned").GetUInt32());
        Assert.Equal(-1073741715, code.GetProperty("signed").GetInt32());
        Assert.Equal("error", code.GetProperty("severity").GetString());
        Assert.Equal(0, code.GetProperty("facility").GetProperty("number").GetInt32());
        Assert.Equal(109, code.GetProperty("codeInFacility").GetInt32());
        Assert.Equal("STATUS_LOGON_FAILURE", code.GetProperty("name").GetString());
        Assert.Equal("0xD000006D", code.GetProperty("hresultFromNt").GetString());

        var text = Text("0xC000006D");
        Assert.Contains("NTSTATUS", text);
        Assert.Contains("0xC000006D = 3221225581 = -1073741715", text);
        Assert.Contains("0xD000006D (HRESULT_FROM_NT)", text);
    }

    [Fact]
    public void HresultFromNtShowsTheStatusInside()
    {
        var code = Assert.Single(JsonCodes("0xD000006D"));
        Assert.Equal("hresult", code.GetProperty("kind").GetString());
        Assert.True(code.GetProperty("ntBit").GetBoolean());
        Assert.Equal("STATUS_LOGON_FAILURE", code.GetProperty("name").GetString());
        Assert.Equal("0xC000006D", code.GetProperty("ntStatus").GetProperty("code").GetString());
    }

    [Fact]
    public void ServiceControlManager7024Message()
    {
        const string message = "The IIS Admin Service service terminated with service-specific error 2148073478 (0x80090006).";
        var code = Assert.Single(JsonCodes(message));
        Assert.Equal("2148073478", code.GetProperty("input").GetString());
        Assert.Equal(["2148073478", "0x80090006"], code.GetProperty("seenAs").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("0x80090006", code.GetProperty("code").GetString());
        Assert.Equal(-2146893818, code.GetProperty("signed").GetInt32());
        Assert.Equal("NTE_BAD_SIGNATURE", code.GetProperty("name").GetString());
        Assert.Contains("7024", code.GetProperty("advice").GetString());

        var text = Text(message);
        Assert.Contains("2148073478 = 0x80090006", text);
        Assert.Contains("0x80090006 NTE_BAD_SIGNATURE", text);
    }

    [Fact]
    public void UnquotedMessageReadsLikeAQuotedOne()
    {
        var codes = JsonCodes("terminated", "with", "service-specific", "error", "2148073478", "(0x80090006)");
        Assert.Equal("0x80090006", Assert.Single(codes).GetProperty("code").GetString());
    }

    [Fact]
    public void Schannel36870Message()
    {
        var code = Assert.Single(JsonCodes(
            "The error code returned from the cryptographic module is 0x8009030D. The internal error state is 10001."));
        Assert.Equal("SEC_E_UNKNOWN_CREDENTIALS", code.GetProperty("name").GetString());
        Assert.Equal(-2146893043, code.GetProperty("signed").GetInt32());
        Assert.Contains("36870", code.GetProperty("advice").GetString());
    }

    [Fact]
    public void SeveralCodesAtOnceInOrderEachOnce()
    {
        var codes = JsonCodes("0x80090016", "1312", "0xC000006D", "terminated with service-specific error 2148073478 (0x80090006)",
            "0x80070520", "-2146893802");
        Assert.Equal(["0x80090016", "0x80070520", "0xC000006D", "0x80090006"], codes.Select(c => c.GetProperty("code").GetString()));
        Assert.Equal(["1312", "0x80070520"], codes[1].GetProperty("seenAs").EnumerateArray().Select(s => s.GetString()));

        var text = Text("0x80090016", "1312");
        Assert.Equal(2, text.Split("╭").Length - 1); // one panel per code
    }

    public static TheoryData<string, string> Seeds => new()
    {
        { "0x80090016", "NTE_BAD_KEYSET" }, { "0x8009000B", "NTE_BAD_KEY_STATE" }, { "0x80090006", "NTE_BAD_SIGNATURE" },
        { "0x80070520", "ERROR_NO_SUCH_LOGON_SESSION" }, { "0x8009030D", "SEC_E_UNKNOWN_CREDENTIALS" },
        { "0x80092004", "CRYPT_E_NOT_FOUND" }, { "0x80090005", "NTE_BAD_DATA" }, { "0x8009000D", "NTE_NO_KEY" },
        { "0x80090010", "NTE_PERM" }, { "0x8009001A", "NTE_KEYSET_ENTRY_BAD" }, { "0x8009030E", "SEC_E_NO_CREDENTIALS" },
        { "0x800B0109", "CERT_E_UNTRUSTEDROOT" }, { "0x800B0110", "CERT_E_WRONG_USAGE" }, { "0x80070005", "E_ACCESSDENIED" },
        { "0x80090020", "NTE_FAIL" },
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void EverySeedCodeHasNameMessageAndAdvice(string input, string name)
    {
        var code = Assert.Single(JsonCodes(input));
        Assert.Equal(input, code.GetProperty("code").GetString());
        Assert.Equal(name, code.GetProperty("name").GetString());
        Assert.Equal("keydoctor", code.GetProperty("messageSource").GetString());
        Assert.False(string.IsNullOrWhiteSpace(code.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(code.GetProperty("advice").GetString()));
        Assert.NotEmpty(code.GetProperty("run").EnumerateArray());
    }

    [Fact]
    public void UnknownCodeDecodesStructurallyAndSaysTheNameIsUnknown()
    {
        var code = Assert.Single(JsonCodes("0x8009FFFF"));
        Assert.Equal("0x8009FFFF", code.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, code.GetProperty("name").ValueKind);
        Assert.False(code.GetProperty("nameKnown").GetBoolean());
        Assert.Empty(code.GetProperty("names").EnumerateArray());
        Assert.Equal(9, code.GetProperty("facility").GetProperty("number").GetInt32());
        Assert.Equal(0xFFFF, code.GetProperty("codeInFacility").GetInt32());
        Assert.Equal("no message text available offline", code.GetProperty("message").GetString());
        Assert.Equal("none", code.GetProperty("messageSource").GetString());
        Assert.Equal(JsonValueKind.Null, code.GetProperty("advice").ValueKind);

        var text = Text("0x8009FFFF");
        Assert.Contains("0x8009FFFF unknown name", text);
        Assert.Contains("unknown (not in winerror.h or ntstatus.h)", text);
    }

    [Theory]
    [InlineData("hello", "no error code found in 'hello'")]
    [InlineData("Event ID 7024 at 12:34:56", "no error code found")]
    [InlineData("0x123456789", "more than 32 bits")]
    [InlineData("99999999999", "outside the 32-bit range")]
    public void GarbageIsExitTwoWithOneLine(string input, string reason)
    {
        foreach (var args in new[] { new[] { "explain", input }, new[] { "explain", input, "--json" } })
        {
            var result = Cli.Run(args);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal("", result.Stdout);
            var line = Assert.Single(result.Stderr.Trim().Split('\n'));
            Assert.StartsWith("keydoctor: ", line);
            Assert.Contains(reason, line);
        }
    }

    [Fact]
    public void NoArgumentIsAUsageError()
    {
        var result = Cli.Run("explain");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
    }
}

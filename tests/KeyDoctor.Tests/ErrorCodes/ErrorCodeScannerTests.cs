using KeyDoctor.Diagnosis.ErrorCodes;

namespace KeyDoctor.Tests.ErrorCodes;

public class ErrorCodeScannerTests
{
    private static readonly ErrorNameTable Names = ErrorNameTable.Embedded;

    private static string[] Codes(string text) => ErrorCodeScanner.Scan(text, Names).Select(f => f.Code.ToString()).ToArray();

    [Fact]
    public void ServiceControlManager7024FindsTheCodeOnce()
    {
        var found = ErrorCodeScanner.Scan(
            "The IIS Admin Service service terminated with service-specific error 2148073478 (0x80090006).", Names);
        var only = Assert.Single(found);
        Assert.Equal(0x80090006u, only.Code.Bits);
        Assert.Equal(["2148073478", "0x80090006"], only.Forms);
    }

    [Theory]
    [InlineData("The IIS Admin Service service terminated with the following error: Key not valid for use in specified state.", "0x8009000B")]
    [InlineData("The World Wide Web Publishing Service service terminated with the following error:\r\nKeyset does not exist", "0x80090016")]
    [InlineData("SSL Certificate add failed, Error: A specified logon session does not exist. It may already have been terminated.", "0x80070520")]
    [InlineData("Der Vorgang ist fehlgeschlagen: 0x80090016. Keyset does not exist", "0x80090016")]
    public void SystemMessageTextsCountAsTheirCode(string text, string expected)
    {
        var found = Assert.Single(ErrorCodeScanner.Scan(text, Names));
        Assert.Equal(expected, $"0x{found.Code.Bits:X8}");
    }

    [Theory]
    [InlineData("The key was bad. Key not valid")] // a fragment of a message is not the message
    [InlineData("Bad key handling in the script")] // short messages count only as written, with their period
    public void OrdinaryWordsAreNotMessageTexts(string text) => Assert.Empty(ErrorCodeScanner.Scan(text, Names));

    [Fact]
    public void ExplainFindsTheCodeFromPastedEventViewerText()
    {
        var result = Cli.Run("explain", "The IIS Admin Service service terminated with the following error: Key not valid for use in specified state.", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var code = Assert.Single(json.RootElement.GetProperty("codes").EnumerateArray());
        Assert.Equal("0x8009000B", code.GetProperty("code").GetString());
    }

    [Fact]
    public void Schannel36870IgnoresTheInternalErrorState()
    {
        Assert.Equal(["0x8009030D"], Codes(
            "A fatal error occurred when attempting to access the TLS server credential private key. " +
            "The error code returned from the cryptographic module is 0x8009030D. The internal error state is 10001."));
    }

    [Theory]
    [InlineData("SSL Certificate add failed, Error: 1312 A specified logon session does not exist.", "1312")]
    [InlineData("netsh failed with error code 0x520", "1312")]
    [InlineData("param2: %%1312", "1312")]
    [InlineData("System.Security.Cryptography.CryptographicException, HResult=-2146893802", "0x80090016")]
    [InlineData("CryptAcquireContext failed with error 80090016", "0x80090016")]
    [InlineData("Status: 0xC000006D Sub Status: 0xC0000064", "0xC000006D,0xC0000064")]
    [InlineData("HRESULT_FROM_NT: 0xD000006D and the status 0xC000006D", "0xD000006D")]
    [InlineData("hr = C000006D.", "0xC000006D")]
    [InlineData("Error 5 and error 5 again, also 0x80070005", "5")]
    public void FindsCodesInContext(string text, string expected)
    {
        Assert.Equal(expected.Split(','), Codes(text));
    }

    [Theory]
    [InlineData("Event ID 7024, Record Number 48213, Task Category None")]
    [InlineData("Logged: 2024-05-01 12:34:56, Process ID: 0x3E7, PID 4")]
    [InlineData("Key file 7a436fe806e483969f48a894af2fe9a1_3e1bd5a9-1eb1-4c35-9c2a-1a1e2b1b9b4f")]
    [InlineData("GUID {80090016-0000-4c35-9c2a-1a1e2b1b9b4f} version 10.0.17763.1 host 192.168.1.20:443")]
    [InlineData("The internal error state is 10001. The TLS protocol defined fatal alert code is 40.")]
    [InlineData("Size 83886080 bytes, 2 files")]
    [InlineData("Sub Status: 0x0, exit 0")]
    [InlineData("C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\80090016")]
    public void IgnoresNumbersThatAreNotCodes(string text)
    {
        Assert.Empty(Codes(text));
    }

    [Theory]
    [InlineData("0x80090016", ErrorCodeKind.Hresult, 0x80090016u)]
    [InlineData("80090016", ErrorCodeKind.Hresult, 0x80090016u)]
    [InlineData("2148073478", ErrorCodeKind.Hresult, 0x80090006u)]
    [InlineData("-2146893802", ErrorCodeKind.Hresult, 0x80090016u)]
    [InlineData("1312", ErrorCodeKind.Win32, 1312u)]
    [InlineData("0x520", ErrorCodeKind.Win32, 1312u)]
    [InlineData("%%1312", ErrorCodeKind.Win32, 1312u)]
    [InlineData("0xC000006D", ErrorCodeKind.NtStatus, 0xC000006Du)]
    [InlineData("c000006d", ErrorCodeKind.NtStatus, 0xC000006Du)]
    [InlineData("0x8009030DL", ErrorCodeKind.Hresult, 0x8009030Du)]
    [InlineData("(0x80090006)", ErrorCodeKind.Hresult, 0x80090006u)]
    [InlineData("NTE_BAD_KEYSET", ErrorCodeKind.Hresult, 0x80090016u)]
    [InlineData("error_no_such_logon_session", ErrorCodeKind.Win32, 1312u)]
    [InlineData("0", ErrorCodeKind.Win32, 0u)]
    [InlineData("4294967295", ErrorCodeKind.Hresult, 0xFFFFFFFFu)]
    [InlineData("-2147483648", ErrorCodeKind.Hresult, 0x80000000u)]
    public void StandaloneNotations(string argument, ErrorCodeKind kind, uint value)
    {
        Assert.True(ErrorCodeScanner.TryParseStandalone(argument, Names, out var code, out var problem), problem);
        Assert.Equal(kind, code.Kind);
        Assert.Equal(value, code.Value);
    }

    [Theory]
    [InlineData("0x123456789", "more than 32 bits")]
    [InlineData("4294967296", "outside the 32-bit range")]
    [InlineData("-2147483649", "outside the 32-bit range")]
    [InlineData("0xZZ", "not a hex number")]
    [InlineData("12ab", "not an error code")]
    public void StandaloneNumbersThatAreNotCodesAreProblems(string argument, string reason)
    {
        Assert.False(ErrorCodeScanner.TryParseStandalone(argument, Names, out _, out var problem));
        Assert.Contains(reason, problem);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("terminated")]
    [InlineData("add")]
    public void WordsAreTextNotProblems(string argument)
    {
        Assert.False(ErrorCodeScanner.TryParseStandalone(argument, Names, out _, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void RandomTextNeverThrowsOrHangs()
    {
        var random = new Random(20240501);
        const string alphabet = "0123456789abcdefxX-%: .,()=ErorStatus\n\\/_";
        for (var i = 0; i < 3000; i++)
        {
            var chars = new char[random.Next(0, 200)];
            for (var j = 0; j < chars.Length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            var text = new string(chars);
            foreach (var found in ErrorCodeScanner.Scan(text, Names))
                Assert.Equal(found.Text, text.Substring(found.Index, found.Text.Length));
            ErrorCodeScanner.TryParseStandalone(text, Names, out _, out _);
        }
        Assert.Throws<ArgumentException>(() => ErrorCodeScanner.Scan(new string('1', ErrorCodeScanner.MaxTextLength + 1), Names));
    }
}

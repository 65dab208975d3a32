using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

/// <summary>Published Marvin32 test vectors (the .NET runtime's MarvinTests, MIT): seed, input, 64-bit result.</summary>
public class Marvin32Tests
{
    [Theory]
    [InlineData(0x004FB61A001BDBCCUL, "", 0x30ED35C100CD3C7DUL)]
    [InlineData(0x004FB61A001BDBCCUL, "af", 0x48E73FC77D75DDC1UL)]
    [InlineData(0x004FB61A001BDBCCUL, "e70f", 0xB5F6E1FC485DBFF8UL)]
    [InlineData(0x004FB61A001BDBCCUL, "37f495", 0xF0B07C789B8CF7E8UL)]
    [InlineData(0x004FB61A001BDBCCUL, "8642dc59", 0x7008F2E87E9CF556UL)]
    [InlineData(0x004FB61A001BDBCCUL, "153fb79826", 0xE6C08C6DA2AFA997UL)]
    [InlineData(0x004FB61A001BDBCCUL, "0932e6246c47", 0x6F04BF1A5EA24060UL)]
    [InlineData(0x004FB61A001BDBCCUL, "ab427ea8d10fc7", 0xE11847E4F0678C41UL)]
    [InlineData(0x804FB61A001BDBCCUL, "", 0x10A9D5D3996FD65DUL)]
    [InlineData(0x804FB61A001BDBCCUL, "8642dc59", 0x36289D9654FB49F6UL)]
    [InlineData(0x804FB61A801BDBCCUL, "FF00FF00FF00FF", 0xFDFD187B1D3CE784UL)]
    [InlineData(0x804FB61A801BDBCCUL, "00FF00FF00FF00", 0x71876F2EFB1B0EE8UL)]
    public void MatchesPublishedVectors(ulong seed, string hex, ulong expected) =>
        Assert.Equal(expected, Marvin32.Compute(Convert.FromHexString(hex), seed));
}

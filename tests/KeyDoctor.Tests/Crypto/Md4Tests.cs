using System.Text;
using KeyDoctor.Crypto;

namespace KeyDoctor.Tests.Crypto;

/// <summary>MD4 against the RFC 1320 test suite (appendix A.5) and the padding boundaries.</summary>
public class Md4Tests
{
    [Theory]
    [InlineData("", "31d6cfe0d16ae931b73c59d7e0c089c0")]
    [InlineData("a", "bde52cb31de33e46245e05fbdbd6fb24")]
    [InlineData("abc", "a448017aaf21d8525fc10ae87aa6729d")]
    [InlineData("message digest", "d9130a8164549fe818874806e1c7014b")]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "e33b4ddc9c38f2199c3e7b164fcc0536")]
    public void Rfc1320TestSuite(string input, string expected) =>
        Assert.Equal(expected, Convert.ToHexStringLower(Md4.HashData(Encoding.ASCII.GetBytes(input))));

    // Lengths around the 56-byte padding boundary and several blocks (values from PyCryptodome's MD4).
    [Theory]
    [InlineData(55, "cc8a7f2bd608e3eeecb7f121d13bea55")]
    [InlineData(56, "b8e94b6408bbfa6ec9805bf21bc05cbd")]
    [InlineData(63, "54ba4472fcd03e99cf28f90eed9f2ae0")]
    [InlineData(64, "2de6578f0e7898fa17acd84b79685d3a")]
    [InlineData(119, "9c1067170940ce8f8e4745d362675fab")]
    [InlineData(120, "c5bb35660e3d0a286a96ea3aa4922b3c")]
    [InlineData(1000, "9146d274cb46d791aefb861959aa5e98")]
    public void PaddingBoundaries(int length, string expected)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)(i % 251)).ToArray();
        Assert.Equal(expected, Convert.ToHexStringLower(Md4.HashData(data)));
    }
}

using System.Text;
using KeyDoctor.Formats.Primitives;

namespace KeyDoctor.Tests.Evtx;

public class Crc32Tests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("123456789", 0xCBF43926u)] // the published check value of CRC-32/ISO-HDLC
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void MatchesPublishedValues(string text, uint expected) =>
        Assert.Equal(expected, Crc32.Compute(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void AppendingInPiecesEqualsOneCall()
    {
        var data = new byte[1000];
        new Random(7).NextBytes(data);
        var whole = Crc32.Compute(data);
        for (var split = 0; split <= data.Length; split += 37)
            Assert.Equal(whole, Crc32.Append(Crc32.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
    }

    [Fact]
    public void FoldedPathAgreesWithTheTableAtEveryLength()
    {
        // The carry-less-multiplication path handles 64+ bytes; the table handles the rest and short inputs.
        var data = new byte[4096 + 77];
        new Random(3).NextBytes(data);
        for (var length = 0; length <= data.Length; length += length < 300 ? 1 : 61)
            Assert.Equal(~Crc32.Slice8(~0u, data.AsSpan(0, length)), Crc32.Compute(data.AsSpan(0, length)));
    }

    [Fact]
    public void ChecksRealChunkHeaders()
    {
        // security.evtx chunk 0 stores header CRC 978805790 and data CRC 4252479141 (values from the file).
        var file = Fixtures.Bytes("evtx/security.evtx");
        var chunk = file.AsSpan(4096, 65536);
        Assert.Equal(978_805_790u, Crc32.Append(Crc32.Compute(chunk[..120]), chunk[128..512]));
        Assert.Equal(4_252_479_141u, Crc32.Compute(chunk[512..65376]));
    }
}

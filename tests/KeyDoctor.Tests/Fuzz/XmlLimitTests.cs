using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Tests.Fuzz;

/// <summary>
/// Issue 26 item 4 and issue 21: IIS XML nested tens of thousands of levels deep took seconds to minutes to load.
/// The depth and attribute limits hold while reading, so such a file is refused at the limit with the limit named.
/// </summary>
public class XmlLimitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-xml-limits-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static byte[] Nested(string open, string close, int levels, string inner = "") =>
        Encoding.UTF8.GetBytes(open + string.Concat(Enumerable.Repeat("<a>", levels)) + inner + string.Concat(Enumerable.Repeat("</a>", levels)) + close);

    private static byte[] Config(int levels, string inner = "") => Nested("<configuration>", "</configuration>", levels, inner);

    private static byte[] Metabase(int levels) =>
        Nested("<?xml version=\"1.0\"?>\n<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\"><MBProperty>", "</MBProperty></configuration>", levels);

    [Fact]
    public void ApplicationHostNested32000LevelsIsRefusedAtTheDepthLimit()
    {
        var ex = Assert.Throws<MalformedDataException>(() => ApplicationHostConfig.Parse(Config(32_000)));
        Assert.Contains($"elements nest deeper than {ReaderLimits.XmlMaxDepth} levels (ReaderLimits.XmlMaxDepth)", ex.Reason);
        // Refused where the limit was crossed: 15 bytes of <configuration>, then 255 levels of <a>.
        Assert.InRange(ex.Offset, 15 + (255 * 3), 15 + (257 * 3));
    }

    [Fact]
    public void MetabaseNested200000LevelsIsRefusedAtTheDepthLimit()
    {
        var ex = Assert.Throws<MalformedDataException>(() => MetabaseXml.Parse(Metabase(200_000)));
        Assert.Contains("ReaderLimits.XmlMaxDepth", ex.Reason);
    }

    [Fact]
    public void DepthUpToTheLimitIsRead()
    {
        // <configuration> is level 1: 255 more levels make exactly the limit.
        ApplicationHostConfig.Parse(Config(ReaderLimits.XmlMaxDepth - 1));
        Assert.Throws<MalformedDataException>(() => ApplicationHostConfig.Parse(Config(ReaderLimits.XmlMaxDepth)));
    }

    [Fact]
    public void AttributeOverTheLimitIsRefused()
    {
        var value = new string('A', ReaderLimits.XmlMaxAttributeChars + 1);
        var ex = Assert.Throws<MalformedDataException>(() => ApplicationHostConfig.Parse(Config(1, $"<b x=\"{value}\"/>")));
        Assert.Contains("attribute 'x' holds 1048577 characters, over the limit of 1048576 (ReaderLimits.XmlMaxAttributeChars)", ex.Reason);
        ApplicationHostConfig.Parse(Config(1, $"<b x=\"{value[1..]}\"/>"));
    }

    [Fact]
    public void IisCommandRejects100000LevelsWithTheLimitNamed()
    {
        var path = Path.Combine(_root, "applicationHost.config");
        File.WriteAllBytes(path, Config(100_000));
        var result = Cli.Run("iis", path);
        Assert.DoesNotContain("internal error", result.Stderr);
        Assert.Contains("elements nest deeper than 256 levels (ReaderLimits.XmlMaxDepth)", result.Stdout);
        Assert.Contains("KD0001", result.Stdout);
    }
}

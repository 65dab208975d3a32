using System.Text;
using KeyDoctor.Repair;

namespace KeyDoctor.Tests.Repair;

public sealed class CustomMetadataEditorTests
{
    private const string Config =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration>\n  <system.applicationHost>\n    <customMetadata>\n" +
        "      <key path=\"LM/W3SVC/1\">\n        <property id=\"5506\" dataType=\"Binary\" value=\"AAE=\" />\n" +
        "        <property id=\"1002\" dataType=\"String\" value=\"a &gt; b\"></property>\n      </key>\n" +
        "      <key path=\"LM/W3SVC/2\"><property id=\"5506\" dataType=\"Binary\" value=\"AAI=\" /></key>\n" +
        "    </customMetadata>\n  </system.applicationHost>\n</configuration>\n";

    [Fact]
    public void RemovesOnlyTheNamedPropertiesOfTheNamedKey()
    {
        var edited = CustomMetadataEditor.RemoveProperties(Encoding.UTF8.GetBytes(Config), "LM/W3SVC/1", [5506u, 5511u]);
        Assert.Equal(Config.Replace("        <property id=\"5506\" dataType=\"Binary\" value=\"AAE=\" />\n", ""), Encoding.UTF8.GetString(edited!));
    }

    [Fact]
    public void AKeyLeftEmptyGoesWhole()
    {
        var edited = CustomMetadataEditor.RemoveProperties(Encoding.UTF8.GetBytes(Config), "LM/W3SVC/2", [5506u]);
        Assert.Equal(Config.Replace("      <key path=\"LM/W3SVC/2\"><property id=\"5506\" dataType=\"Binary\" value=\"AAI=\" /></key>\n", ""), Encoding.UTF8.GetString(edited!));
    }

    [Fact]
    public void ByteOrderMarkAndUtf16AreKept()
    {
        byte[] utf8 = [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(Config)];
        var edited = CustomMetadataEditor.RemoveProperties(utf8, "LM/W3SVC/2", [5506u])!;
        Assert.Equal(Encoding.UTF8.GetPreamble(), edited[..3]);
        var utf16Text = Config.Replace("UTF-8", "UTF-16");
        byte[] utf16 = [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(utf16Text)];
        var edited16 = CustomMetadataEditor.RemoveProperties(utf16, "LM/W3SVC/2", [5506u])!;
        Assert.Equal(Encoding.Unicode.GetPreamble(), edited16[..2]);
        Assert.DoesNotContain("AAI=", Encoding.Unicode.GetString(edited16));
    }

    [Fact]
    public void NothingToRemoveIsNullAndBrokenXmlIsATypedError()
    {
        Assert.Null(CustomMetadataEditor.RemoveProperties(Encoding.UTF8.GetBytes(Config), "LM/W3SVC/9", [5506u]));
        Assert.Null(CustomMetadataEditor.RemoveProperties(Encoding.UTF8.GetBytes(Config), "LM/W3SVC/1", [4242u]));
        Assert.Throws<Formats.MalformedDataException>(() =>
            CustomMetadataEditor.RemoveProperties(Encoding.UTF8.GetBytes(Config[..200]), "LM/W3SVC/1", [5506u]));
        Assert.Throws<Formats.MalformedDataException>(() =>
            CustomMetadataEditor.RemoveProperties(Encoding.UTF8.GetBytes("<!DOCTYPE x [<!ENTITY a \"b\">]><configuration/>"), "LM/W3SVC/1", [5506u]));
        Assert.Throws<Formats.MalformedDataException>(() =>
            CustomMetadataEditor.RemoveProperties([0x3C, 0xFF, 0xFE, 0x3E], "LM/W3SVC/1", [5506u]));
    }
}

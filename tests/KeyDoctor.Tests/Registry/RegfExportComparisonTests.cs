using System.Text;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Tests.Registry;

/// <summary>
/// Every key and value of real hives, compared with what libregf's regfexport prints for the same file: key paths
/// in the same order, class names, value names, types, sizes and data (text for strings and numbers, bytes for the
/// rest). Running the tool in the test (rather than storing its output) keeps the reference independent and lets
/// the comparison cover the whole 11 MB SYSTEM hive without committing a 22 MB expectation file.
/// </summary>
public class RegfExportComparisonTests
{
    [Theory]
    // The last two numbers count libregf's known differences; an independent cell census (every allocated vk
    // cell: inline data of 1-3 non-zero bytes; REG_SZ/EXPAND_SZ with an odd size or no NUL) gives the same counts.
    [InlineData("hives/regipy/SYSTEM", 30756, 73456, 42, 15)]
    [InlineData("hives/regipy/SAM", -1, -1, 1, 0)]
    [InlineData("hives/regipy/NTUSER.DAT", -1, -1, 36, 0)]
    [InlineData("hives/regipy/ntuser_software_partial", -1, -1, 0, 7)]
    [InlineData("hives/ez/NTUSER1.DAT", -1, -1, 0, 0)]
    [InlineData("hives/ez/SECURITYNoRoot", -1, -1, 0, 0)]
    public void EveryKeyAndValueEqualsRegfexport(string fixture, int expectedKeys, int expectedValues, int smallInline, int unterminated) =>
        AssertMatchesRegfexport(Fixtures.Path(fixture), expectedKeys, expectedValues, smallInline, unterminated);

    /// <summary>Compares the whole hive at <paramref name="path"/> with regfexport's listing of it.</summary>
    internal static void AssertMatchesRegfexport(string path, int expectedKeys = -1, int expectedValues = -1, int smallInline = 0, int unterminated = 0)
    {
        var reference = RegfExportOutput.Parse(RegfExportOutput.Run(path));
        var hive = RegistryHive.Open(path, replayLogs: false);
        var ours = hive.Root.DescendantsAndSelf().ToList();

        if (expectedKeys >= 0)
        {
            Assert.Equal(expectedKeys, reference.Count);
            Assert.Equal(expectedValues, reference.Sum(k => k.Values.Count));
        }
        Assert.True(reference.Count > 0);
        Assert.Equal(reference.Count, ours.Count);
        var rootName = hive.Root.Name;
        var mismatches = new List<string>();
        var known = new KnownDifferences();
        for (var i = 0; i < reference.Count && mismatches.Count < 20; i++)
        {
            var expected = reference[i];
            var key = ours[i];
            var ourPath = key.Path.Length == 0 ? rootName : rootName + "\\" + key.Path;
            if (expected.Path != ourPath) { mismatches.Add($"key {i}: path {ourPath} != {expected.Path}"); continue; }
            if (expected.ClassName != key.ClassName) mismatches.Add($"{ourPath}: class {key.ClassName} != {expected.ClassName}");
            var values = key.Values;
            if (values.Count != expected.Values.Count) { mismatches.Add($"{ourPath}: {values.Count} values != {expected.Values.Count}"); continue; }
            for (var v = 0; v < values.Count; v++)
            {
                var problem = Compare(values[v], expected.Values[v], known);
                if (problem is not null) mismatches.Add($"{ourPath} [{values[v].Name}]: {problem}");
            }
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.Equal((smallInline, unterminated), (known.SmallInlineData, known.UnterminatedStrings));
    }

    /// <summary>Differences that are libregf 20201007's, each counted so a new kind of difference still fails.</summary>
    private sealed class KnownDifferences
    {
        /// <summary>1-3 byte data stored inline in the value record: libregf prints zeros instead of the bytes.</summary>
        public int SmallInlineData;

        /// <summary>Strings with no NUL terminator or an odd size: libregf decodes the half character and sizes differ.</summary>
        public int UnterminatedStrings;
    }

    private static string? Compare(RegistryValue value, RegfExportOutput.Value expected, KnownDifferences known)
    {
        if (value.Name != expected.Name) return $"name {value.Name} != {expected.Name}";
        if (RegfExportOutput.TypeText((uint)value.Type) != expected.TypeText) return $"type {value.Type} != {expected.TypeText}";
        var data = value.Data.Span;
        if (value.Type is RegistryValueType.String or RegistryValueType.ExpandString)
        {
            var text = value.AsString()!;
            if (data.Length == 0) return expected.DataSize == 0 ? null : $"empty string but regfexport size {expected.DataSize}";
            var terminated = data.Length % 2 == 0 && (text.Length + 1) * 2 <= data.Length;
            if (!terminated)
            {
                // libregf appends what it made of the trailing bytes; what we read must still be its prefix.
                if (expected.Text is null || !expected.Text.StartsWith(text, StringComparison.Ordinal)) return $"unterminated text \"{text}\" is not a prefix of \"{expected.Text}\"";
                known.UnterminatedStrings++;
                return null;
            }
            // libregf reports a string's size up to its first NUL; the bytes after it are ours to keep.
            if (expected.DataSize != (text.Length + 1) * 2) return $"string size {(text.Length + 1) * 2} != {expected.DataSize}";
            var expectedText = expected.Text ?? (expected.Hex is null ? "" : null);
            if (expectedText is null)
            {
                if (!data[..expected.DataSize].SequenceEqual(expected.Hex)) return "string bytes differ";
            }
            else if (text != expectedText) return $"text \"{text}\" != \"{expectedText}\"";
            return null;
        }
        if (value.Data.Length != expected.DataSize) return $"size {value.Data.Length} != {expected.DataSize}";
        if (expected.Hex is not null && !data.SequenceEqual(expected.Hex))
        {
            if (data.Length is > 0 and < 4 && expected.Hex.All(b => b == 0)) { known.SmallInlineData++; return null; }
            return "bytes differ";
        }
        if (expected.Text is not null)
        {
            var number = value.AsNumber()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(wrong size)";
            if (number != expected.Text) return $"number {number} != {expected.Text}";
        }
        else if (expected.Hex is null && data.Length != 0) return "regfexport printed no data";
        return null;
    }
}

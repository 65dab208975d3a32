using System.Text.RegularExpressions;
using KeyDoctor.Diagnosis;

namespace KeyDoctor.Tests.Diagnosis;

public class FindingCatalogTests
{
    [Fact]
    public void IdsAreUniqueAndWellFormed()
    {
        var ids = FindingCatalog.All.Select(d => d.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches(new Regex("^KD[0-6][0-9]{3}$"), id));
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public void EveryFindingHasADocumentationPageWithFixCommands()
    {
        foreach (var descriptor in FindingCatalog.All)
        {
            var page = Path.Combine(Fixtures.RepoRoot, descriptor.HelpLink);
            Assert.True(File.Exists(page), $"{descriptor.Id} has no page at {descriptor.HelpLink}");
            var text = File.ReadAllText(page);
            Assert.StartsWith($"# {descriptor.Id}: ", text);
            Assert.Contains("```powershell", text);
            Assert.Contains("```bat", text);
        }
    }

    [Fact]
    public void EveryDocumentedFindingIsInTheCatalogue()
    {
        var pages = Directory.GetFiles(Path.Combine(Fixtures.RepoRoot, "docs", "findings"), "KD*.md")
            .Select(p => Path.GetFileNameWithoutExtension(p)!);
        Assert.All(pages, id => Assert.NotNull(FindingCatalog.Find(id)));
    }

    [Fact]
    public void MessageFormatsFillWithInvariantCulture()
    {
        var message = FindingCatalog.MachineGuidChanged.FormatMessage(41, 42, "old", "new");
        Assert.Equal("41 of 42 machine key files end in _old, but the registry's MachineGuid is new", message);
    }
}

using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace KeyDoctor.Tests.Reports;

/// <summary>The demo's HTML report, rendered by a real browser (Debian's chromium, headless; tools/test.sh installs it).</summary>
public sealed partial class HtmlReportTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kd-html-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ChromiumRendersEveryFindingOfTheDemo()
    {
        var report = Path.Combine(_folder, "report.html");
        var scan = Cli.Run("scan", Path.Combine(Fixtures.RepoRoot, "demo", "web01"), "--json", "--html", report);
        Assert.Equal(1, scan.ExitCode);
        using var json = JsonDocument.Parse(scan.Stdout);
        var expected = json.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()!).ToList();

        var html = File.ReadAllText(report);
        Assert.DoesNotMatch(ExternalReference(), html); // self-contained: no external scripts, styles, fonts or requests

        var dom = Chromium(report, "--dump-dom");
        var rendered = FindingId().Matches(dom).Select(m => m.Groups[1].Value).ToList();
        // Every finding is there; the two Schannel events that differ only in time are one article with both records.
        Assert.Equal(expected.Count - 1, rendered.Count);
        Assert.Equal(expected.Distinct().Order(StringComparer.Ordinal), rendered.Distinct().Order(StringComparer.Ordinal));
        Assert.Contains("Schannel event 36870 2 times between 2026-11-20 06:15:00Z and 2026-11-20 06:21:00Z", dom);
        Assert.Contains("record <code>102</code>", dom);
        Assert.Contains("record <code>103</code>", dom);
        Assert.Equal("KD1001", rendered[0]); // the root cause that explains the most comes first, its consequences nested under it
        Assert.Matches("<div class=\"consequences\">\\s*<article[^>]*data-finding-id=\"KD1002\"", dom);
        Assert.Contains("Because of <a href=", dom);
        Assert.Contains("Copy</button>", dom);
        var link = Regex.Match(dom, "href=\"#(key-[^\"]+)\"");
        Assert.True(link.Success, "evidence links to the key-store table");
        Assert.Contains($"id=\"{link.Groups[1].Value}\"", dom);
        Chromium(report, $"--screenshot={Path.Combine(_folder, "report.png")}", "--window-size=1200,2000");
        Assert.True(new FileInfo(Path.Combine(_folder, "report.png")).Length > 10_000);
    }

    [Fact]
    public void ChromiumRendersTheFarmViewWithItsDifferencesMarked()
    {
        using var kit = new Farm.FarmKit(Path.Combine(_folder, "farm"));
        var (web01, web02, web03, web04) = kit.BrokenFarm();
        var report = Path.Combine(_folder, "farm.html");
        var farm = Cli.Run("farm", web01, web02, web03, web04, "--json", "--html", report);
        Assert.Equal(1, farm.ExitCode);
        using var json = JsonDocument.Parse(farm.Stdout);
        var expected = json.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()!).ToList();
        Assert.DoesNotMatch(ExternalReference(), File.ReadAllText(report));

        var dom = Chromium(report, "--dump-dom");
        Assert.Equal(expected, FindingId().Matches(dom).Select(m => m.Groups[1].Value).ToList());
        // Nodes as columns, in the farm's order.
        Assert.Equal([web01, web02, web03, web04], Regex.Matches(dom, "<th class=\"node\" data-source=\"([^\"]+)\"").Select(m => m.Groups[1].Value));
        // The rows that differ are marked, and the odd cells in them: the clones' shared GUID, web03's iisWasKey, web04's certificate.
        var wasKey = "key:" + Formats.KeyFiles.ContainerName.CapiPrefix("iisWasKey");
        var configurationKey = "key:" + Formats.KeyFiles.ContainerName.CapiPrefix("iisConfigurationKey");
        var binding = "binding:ipPort:" + Farm.FarmKit.Endpoint;
        Assert.Equal([true, false, true, true], new[] { wasKey, configurationKey, "machine-guid", binding }.Select(row => Differs(dom, row)));
        Assert.Equal([false, false, true, false], OddCells(dom, wasKey));
        Assert.Equal([true, true, false, false], OddCells(dom, "machine-guid"));
        Assert.Equal([false, false, false, true], OddCells(dom, binding));
        Assert.Equal([false, false, false, false], OddCells(dom, configurationKey));
        Assert.Contains("data-node-finding-id=\"KD2004\"", dom);
        Chromium(report, $"--screenshot={Path.Combine(_folder, "farm.png")}", "--window-size=1400,2400");
        Assert.True(new FileInfo(Path.Combine(_folder, "farm.png")).Length > 10_000);
    }

    /// <summary>Whether a grid row is marked as differing between nodes.</summary>
    private static bool Differs(string dom, string rowId)
    {
        var row = Regex.Match(dom, $"<tr data-row=\"{Regex.Escape(rowId)}\" data-differs=\"(true|false)\"");
        Assert.True(row.Success, $"no grid row {rowId}");
        return row.Groups[1].Value == "true";
    }

    /// <summary>Which cells of a grid row are marked as differing from the farm.</summary>
    private static List<bool> OddCells(string dom, string rowId)
    {
        var row = Regex.Match(dom, $"<tr data-row=\"{Regex.Escape(rowId)}\"[^>]*>(.*?)</tr>");
        Assert.True(row.Success, $"no grid row {rowId}");
        return Regex.Matches(row.Groups[1].Value, "<td( class=\"odd\")?>").Select(m => m.Groups[1].Success).ToList();
    }

    private string Chromium(string file, params string[] arguments)
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), "chromium is not installed; tools/test.sh installs Debian's chromium package");
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _folder };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(_folder, "profile")}" })
            start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.ArgumentList.Add(new Uri(file).AbsoluteUri);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "chromium did not finish");
        _ = stderr.Result;
        return output;
    }

    [GeneratedRegex("data-finding-id=\"(KD[0-9]{4})\"")]
    private static partial Regex FindingId();

    [GeneratedRegex("(src|href)=\"(https?:)?//|@import|url\\(", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}

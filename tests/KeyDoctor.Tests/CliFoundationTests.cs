namespace KeyDoctor.Tests;

public class CliFoundationTests
{
    [Fact]
    public void UnknownCommandIsAUsageErrorWithOneLine()
    {
        var result = Cli.Run("no-such-command");
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void HelpListsCommandsAndExitsZero()
    {
        var result = Cli.Run("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("explain", result.Stdout);
    }

    [Fact]
    public void FixturesAreFoundBesideTheRepository()
    {
        Assert.True(File.Exists(Fixtures.Path("SOURCES.md")));
        Assert.Throws<FileNotFoundException>(() => Fixtures.Path("no/such/fixture"));
    }
}

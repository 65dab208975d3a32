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

    [Theory]
    [InlineData("keydoctor: 'scna' is not a command of 'keydoctor'; did you mean 'scan'? (see 'keydoctor --help')", "scna")]
    [InlineData("keydoctor: 'lst' is not a command of 'keydoctor keys'; did you mean 'list'? (see 'keydoctor keys --help')", "keys", "lst")]
    [InlineData("keydoctor: 'frobnicate' is not a command of 'keydoctor keys'. (see 'keydoctor keys --help')", "keys", "frobnicate")]
    [InlineData("keydoctor: 'keydoctor certs' needs one of its commands: list, show. (see 'keydoctor certs --help')", "certs")]
    [InlineData("keydoctor: Unrecognized command or argument 'b'. (see 'keydoctor scan --help')", "scan", "a", "b")]
    public void AUsageErrorPointsToTheHelpOfTheCommandItIsIn(string stderr, params string[] args)
    {
        var result = Cli.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(stderr, result.Stderr.Trim());
    }

    [Fact]
    public void AFileToWriteInAFolderThatDoesNotExistIsRefusedBeforeAnyWork()
    {
        var demo = Path.Combine(Fixtures.RepoRoot, "demo", "web01");
        var missing = Path.Combine(Path.GetTempPath(), "kd-no-such-folder-" + Guid.NewGuid().ToString("N"));
        foreach (var (args, option) in new (string[], string)[]
                 {
                     (["scan", demo, "--html", Path.Combine(missing, "r.html")], "--html"),
                     (["repair", "plan", demo, "-o", Path.Combine(missing, "plan.json")], "--output"),
                     (["keys", "clean", demo, "-o", Path.Combine(missing, "clean.json")], "--output"),
                     (["keys", "convert", Path.Combine(demo, "no-such-key.xml"), "-o", Path.Combine(missing, "key.pem")], "--output"),
                 })
        {
            var result = Cli.Run(args);
            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith($"keydoctor: {option} {args[^1]}: the folder {missing} does not exist; create it or choose another place (see 'keydoctor ", result.Stderr);
            Assert.Equal("", result.Stdout);
        }
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

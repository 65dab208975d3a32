using System.Text.Json;

namespace KeyDoctor.Tests.KeyFiles;

public class KeysCommandTests
{
    private static readonly string RealGuid = "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";

    [Fact]
    public void NamePrintsThePrefixOrTheFileName()
    {
        var capi = Cli.Run("keys", "name", "Microsoft Internet Information Server");
        Assert.Equal(0, capi.ExitCode);
        Assert.Equal("c2319c42033a5ca7f44e731bfd3fa2b5", capi.Stdout.Trim());

        var cng = Cli.Run("keys", "name", "Google Chromekey1", "--cng", "--guid", "f26c165b-53c8-414e-8abb-ec5f0f52df22");
        Assert.Equal(KeyFixtures.ChromeCngName, cng.Stdout.Trim());

        var json = JsonDocument.Parse(Cli.Run("keys", "name", "iisWasKey", "--json").Stdout).RootElement;
        Assert.Equal("76944fb33636aeddb9590521c2e8815a", json.GetProperty("prefix").GetString());
        Assert.Equal("CAPI", json.GetProperty("kind").GetString());
        Assert.Contains("application-pool", json.GetProperty("wellKnown").GetString());

        var bad = Cli.Run("keys", "name", "x", "--guid", "not-a-guid");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--guid", bad.Stderr);
    }

    [Fact]
    public void ListJsonHasOneObjectPerFileWithTheRequiredFields()
    {
        using var folder = new KeyFixtures.TempFolder();
        folder.Write(KeyFixtures.MimikatzCapiName, KeyFixtures.Bytes(KeyFixtures.MimikatzCapi));
        folder.Write(KeyFixtures.ChromeCngName, KeyFixtures.Bytes(KeyFixtures.ChromeCng));
        folder.Write(KeyFixtures.EcdsaCngName, KeyFixtures.Bytes(KeyFixtures.EcdsaCng));

        var result = Cli.Run("keys", "list", folder.Path, "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Stderr);
        var rows = JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray()
            .ToDictionary(r => r.GetProperty("file").GetString()!);
        Assert.Equal(3, rows.Count);

        var capi = rows[KeyFixtures.MimikatzCapiName];
        Assert.Equal("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", capi.GetProperty("container").GetString());
        Assert.Equal("CAPI", capi.GetProperty("kind").GetString());
        Assert.Equal(["AT_KEYEXCHANGE"], capi.GetProperty("keySpecs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2048, capi.GetProperty("keyBits").GetInt32());
        Assert.Equal(65537, capi.GetProperty("exponent").GetInt32());
        Assert.Equal(KeyFixtures.MimikatzSpkiSha256, capi.GetProperty("publicKeySha256").GetString());
        Assert.Equal("1eccdbd2-4771-4360-8b19-9d6060a061dc", capi.GetProperty("masterKeyGuids")[0].GetString());
        Assert.Equal(2247, capi.GetProperty("size").GetInt32());
        Assert.Equal("ok", capi.GetProperty("status").GetString());
        Assert.True(capi.TryGetProperty("modified", out _));

        var chrome = rows[KeyFixtures.ChromeCngName];
        Assert.Equal("CNG", chrome.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, chrome.GetProperty("keyBits").ValueKind);
        Assert.Equal(0, chrome.GetProperty("keySpecs").GetArrayLength());
        Assert.Equal("Google Chromekey1", chrome.GetProperty("wellKnown").GetString());
        Assert.Equal(256, rows[KeyFixtures.EcdsaCngName].GetProperty("keyBits").GetInt32());
    }

    [Fact]
    public void ListReportsFindingsWithExitCodeOne()
    {
        using var folder = new KeyFixtures.TempFolder();
        folder.Write(KeyFixtures.MimikatzCapiName, KeyFixtures.Bytes(KeyFixtures.MimikatzCapi));
        folder.Write($"c2319c42033a5ca7f44e731bfd3fa2b5_{RealGuid}", []);

        var text = Cli.Run("keys", "list", folder.Path, "--machine-guid", "{" + RealGuid + "}");
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("zero-length", text.Stdout);
        Assert.Contains("(Microsoft Internet Information", text.Stdout); // the well-known name of an empty file
        Assert.Contains("ffb75517-bc6c-4a40-8f8b-e2c555e30e34", text.Stdout);

        var json = JsonDocument.Parse(Cli.Run("keys", "list", folder.Path, "--json", "--machine-guid", Guid.Empty.ToString()).Stdout)
            .RootElement.EnumerateArray().ToList();
        Assert.All(json, row => Assert.Contains(row.GetProperty("problems").EnumerateArray(),
            p => p.GetProperty("status").GetString() == "guid-mismatch"));
        var empty = Assert.Single(json, r => r.GetProperty("size").GetInt32() == 0);
        Assert.Equal("zero-length", empty.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("container").ValueKind);
        Assert.Equal("Microsoft Internet Information Server", empty.GetProperty("wellKnown").GetString());
    }

    [Fact]
    public void ListFindsTheKeyFoldersOfAnImageRoot()
    {
        using var folder = new KeyFixtures.TempFolder();
        // An image copied to a case-sensitive file system keeps whatever case the copy tool gave each folder.
        folder.Write(Path.Combine("PROGRAMDATA", "microsoft", "Crypto", "rsa", "machinekeys", KeyFixtures.MimikatzCapiName),
            KeyFixtures.Bytes(KeyFixtures.MimikatzCapi));
        folder.Write(Path.Combine("PROGRAMDATA", "microsoft", "Crypto", "keys", KeyFixtures.EcdsaCngName),
            KeyFixtures.Bytes(KeyFixtures.EcdsaCng));
        var rows = JsonDocument.Parse(Cli.Run("keys", "list", folder.Path, "--json").Stdout).RootElement;
        Assert.Contains(rows.EnumerateArray(), r => r.GetProperty("kind").GetString() == "CAPI");
        Assert.Contains(rows.EnumerateArray(), r => r.GetProperty("kind").GetString() == "CNG");
    }

    [Fact]
    public void ListStreamsPlainLinesBeyondTheTableLimit()
    {
        using var folder = new KeyFixtures.TempFolder();
        var bytes = KeyFixtures.Bytes(KeyFixtures.MimikatzCapi);
        for (var i = 0; i < 501; i++) folder.Write($"79e1ac78150e8bea8ad238e14d63145b_{new Guid(i, 0, 0, new byte[8])}", bytes);
        var result = Cli.Run("keys", "list", folder.Path);
        Assert.Equal(1, result.ExitCode); // 501 GUIDs for one container: duplicate-container
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("file ", lines[0]);
        Assert.DoesNotContain("│", result.Stdout);
        Assert.Equal(501, lines.Count(l => l.StartsWith("79e1ac78", StringComparison.Ordinal)));
        Assert.Equal(501, lines.Count(l => l.StartsWith("  duplicate-container: prefix 79e1ac78150e8bea8ad238e14d63145b exists under 501 GUIDs", StringComparison.Ordinal)));
    }

    [Fact]
    public void ShowPrintsEveryFieldButNoProtectedBytes()
    {
        var path = Fixtures.Path(KeyFixtures.MimikatzCapi);
        var text = Cli.Run("keys", "show", path);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("Clé privée CryptoAPI", text.Stdout);
        Assert.Contains("1eccdbd2-4771-4360-8b19-9d6060a061dc", text.Stdout);
        Assert.Contains(KeyFixtures.MimikatzSpkiSha256, text.Stdout);
        Assert.Contains("cipher text 1360 bytes at 0x0237", text.Stdout);
        // The first bytes of the private-key cipher text must not be printed.
        Assert.DoesNotContain("1bfa381970e93ec34b", text.Stdout.Replace("\n", ""));

        var json = JsonDocument.Parse(Cli.Run("keys", "show", path, "--json").Stdout).RootElement;
        Assert.Equal("ok", json.GetProperty("status").GetString());
        var pair = json.GetProperty("capi").GetProperty("keyPairs")[0];
        Assert.Equal("AT_KEYEXCHANGE", pair.GetProperty("keySpec").GetString());
        Assert.Equal(2048, pair.GetProperty("publicKey").GetProperty("bitLength").GetInt32());
        var blob = pair.GetProperty("privateKey");
        Assert.Equal(0x17D, blob.GetProperty("offset").GetInt32());
        Assert.Equal("AES-256", blob.GetProperty("cryptAlgorithm").GetString());
        Assert.Equal(1360, blob.GetProperty("cipherTextLength").GetInt32());
        Assert.Equal(0x191, blob.GetProperty("signedOffset").GetInt32());
        Assert.False(blob.TryGetProperty("cipherText", out _));

        var cng = JsonDocument.Parse(Cli.Run("keys", "show", Fixtures.Path(KeyFixtures.ChromeCng), "--json").Stdout).RootElement;
        Assert.Equal("Google Chromekey1", cng.GetProperty("cng").GetProperty("name").GetString());
        Assert.Equal("Private Key", cng.GetProperty("cng").GetProperty("privateKey").GetProperty("description").GetString());
    }

    [Fact]
    public void ShowGivesTheSameBytesWhenItsOwnReadMovesTheAccessTime()
    {
        using var folder = new KeyFixtures.TempFolder();
        var path = folder.Write(KeyFixtures.MimikatzCapiName, KeyFixtures.Bytes(KeyFixtures.MimikatzCapi));
        File.SetLastAccessTimeUtc(path, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc)); // older than the write: relatime moves it
        var first = Cli.Run("keys", "show", path, "--json");
        Assert.Equal(first.Stdout, Cli.Run("keys", "show", path, "--json").Stdout);
        var text = Cli.Run("keys", "show", path);
        Assert.Equal(text.Stdout, Cli.Run("keys", "show", path).Stdout);
    }

    [Fact]
    public void ShowOfABrokenFileIsAFindingAndAMissingFileAnInputError()
    {
        using var folder = new KeyFixtures.TempFolder();
        var truncated = folder.Write(KeyFixtures.MimikatzCapiName, KeyFixtures.Bytes(KeyFixtures.MimikatzCapi)[..1000]);
        var result = Cli.Run("keys", "show", truncated);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("truncated: header declares 2247 bytes, the file has 1000", result.Stdout);

        var missing = Cli.Run("keys", "show", Path.Combine(folder.Path, "nope"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Single(missing.Stderr.Trim().Split('\n'));
        Assert.Equal(2, Cli.Run("keys", "list", Path.Combine(folder.Path, "nope")).ExitCode);
    }
}

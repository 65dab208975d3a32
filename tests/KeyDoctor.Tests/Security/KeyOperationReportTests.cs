using System.Text.Json;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;
using KeyDoctor.Machine.Audit;
using KeyDoctor.Tests.Scan;

namespace KeyDoctor.Tests.Security;

/// <summary>Security 5058 (key file operation) and 5061 (cryptographic operation) in `audit report` and `scan`.</summary>
public sealed class KeyOperationReportTests
{
    [Fact]
    public void TheRealSecurityLogsKeyOperationsAreReportedByKeyAndProcess()
    {
        var log = Fixtures.Path("evtx/security.evtx");
        var operations = KeyOperationReport.Read([log]);
        Assert.Equal(102, operations.Count(o => o.EventId == 5058));
        Assert.Equal(102, operations.Count(o => o.EventId == 5061));
        Assert.All(operations, o => Assert.Equal("IIS Express Development Certificate Container", o.KeyName));
        Assert.Contains(operations, o => o is { EventId: 5058, Operation: "Read persisted key from file", KeyType: "Machine key" }
                                         && o.KeyFile!.EndsWith(@"MachineKeys\fad662b360941f26a1193357aab3c12d_a7b657c1-9d7a-4b7a-bf03-92c147b0e417", StringComparison.Ordinal));
        Assert.Contains(operations, o => o is { EventId: 5061, Operation: "Open key", Algorithm: "RSA", Provider: "Microsoft Software Key Storage Provider" });
        Assert.All(operations, o => Assert.False(o.Failed));

        // This Windows names no client process: the events are the key isolation service's, in lsass (PID 548 wrote them).
        var group = Assert.Single(KeyOperationReport.Group(operations, sourceKeyFiles: null));
        Assert.Equal(("IIS Express Development Certificate Container", "lsass.exe", 204, 0), (group.Key, group.Process, group.Events, group.Failures));
        Assert.Equal([548L], group.ProcessIds);
        Assert.Equal("event-writer", group.ProcessSource);
        Assert.True(group.ExpectedProcess);
        Assert.Equal([5058, 5061], group.EventIds);
        Assert.Equal(@"WORKGROUP\WIN-03DLIIOFRRA$", Assert.Single(group.Accounts));
        Assert.Null(group.SourceKeyFiles);

        var text = Cli.Run("audit", "report", log);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("204 ok  key IIS Express Development Certificate Container", text.Stdout);
        Assert.Contains("by lsass.exe PID 548", text.Stdout);
        using var json = JsonDocument.Parse(Cli.Run("audit", "report", log, "--json").Stdout);
        Assert.Equal(204, json.RootElement.GetProperty("keyOperationEvents").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("keyOperationFailures").GetInt32());
        Assert.Equal("lsass.exe", json.RootElement.GetProperty("keyOperations")[0].GetProperty("process").GetString());
    }

    private static EventToWrite Security(int id, ulong record, DateTime time, params EventDataValue[] data) => new()
    {
        Provider = "Microsoft-Windows-Security-Auditing", ProviderGuid = new Guid("54849625-5478-4994-a5ba-3e3b0328c30d"),
        EventId = id, TimeCreated = time, RecordId = record, Computer = "WEB01", Channel = "Security", Level = 0, ProcessId = 640,
        Data = data,
    };

    private static EventDataValue[] Subject(string user) =>
        [EventDataValue.Sid("SubjectUserSid", "S-1-5-18"), EventDataValue.String("SubjectUserName", user), EventDataValue.String("SubjectDomainName", "CONTOSO")];

    private static EventToWrite ProcessCreated(ulong record, DateTime time, uint pid, string image) =>
        Security(4688, record, time, [.. Subject("WEB01$"), EventDataValue.HexInt64("NewProcessId", pid), EventDataValue.String("NewProcessName", image)]);

    private static EventToWrite KeyOperation(int id, ulong record, DateTime time, uint clientPid, string key, string? file, string operation, uint returnCode) =>
        Security(id, record, time,
        [
            .. Subject("WEB01$"), EventDataValue.String("ProviderName", "Microsoft Software Key Storage Provider"),
            EventDataValue.String("AlgorithmName", "RSA"), EventDataValue.String("KeyName", key), EventDataValue.String("KeyType", "%%2499"),
            .. file is null ? Array.Empty<EventDataValue>() : [EventDataValue.String("KeyFilePath", file)],
            EventDataValue.String("Operation", operation), EventDataValue.HexInt32("ReturnCode", returnCode),
            EventDataValue.HexInt64("ClientProcessId", clientPid),
        ]);

    /// <summary>
    /// A shop server whose certificate's key file is gone: a backup tool failed to read it (5058, NTE_BAD_KEYSET) and w3wp
    /// opened another key. The failure comes first, the backup tool is flagged, the events name the source's key files,
    /// and scan ties the failed 5058 to KD2008 about the same key file.
    /// </summary>
    [Fact]
    public void GeneratedFailuresComeFirstUnexpectedProcessesAreFlaggedAndKeysAreLinkedToTheSourcesFiles()
    {
        using var image = new ScanImage();
        var (certificate, _) = image.Certificate("CN=shop.example.com", "shop-key", keyFile: false);
        image.HttpSysBinding("0.0.0.0:443", certificate.Thumbprint);
        image.Site("Shop", 1, "*:443:");
        var (_, otherKey) = image.Certificate("CN=api.example.com", "api-key");
        var shopFile = $"{ContainerName.CapiPrefix("shop-key")}_{image.MachineGuid}";
        var apiFile = $"{ContainerName.CapiPrefix("api-key")}_{image.MachineGuid}";
        var t = new DateTime(2026, 11, 20, 3, 0, 0, DateTimeKind.Utc);
        using (var output = new MemoryStream())
        {
            EvtxWriter.Write(output,
            [
                ProcessCreated(1, t, 0x1a2c, @"C:\Tools\backup.exe"),
                ProcessCreated(2, t, 0x0b10, @"C:\Windows\System32\inetsrv\w3wp.exe"),
                KeyOperation(5058, 3, t.AddMinutes(1), 0x1a2c, "shop-key", $@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\{shopFile}", "%%2458", 0x80090016),
                KeyOperation(5061, 4, t.AddMinutes(2), 0x0b10, "api-key", null, "%%2480", 0),
                KeyOperation(5058, 5, t.AddMinutes(2), 0x0b10, "api-key", $@"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\{apiFile}", "%%2458", 0),
            ]);
            image.Put(@"Windows\System32\winevt\Logs\Security.evtx", output.ToArray());
        }
        image.Build();

        var log = Path.Combine(image.Root, "Windows", "System32", "winevt", "Logs", "Security.evtx");
        var groups = KeyOperationReport.Group(KeyOperationReport.Read([log]),
            [$@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{apiFile}"]);
        Assert.Equal(2, groups.Count);
        var failed = groups[0];
        Assert.Equal(("shop-key", "backup.exe", 1, false, "client"), (failed.Key, failed.Process, failed.Failures, failed.ExpectedProcess, failed.ProcessSource));
        Assert.Equal(["0x80090016"], failed.FailureCodes);
        Assert.Empty(failed.SourceKeyFiles!); // the shop key's file is not on the machine
        var worker = groups[1];
        Assert.Equal(("api-key", "w3wp.exe", 2, 0, true), (worker.Key, worker.Process, worker.Events, worker.Failures, worker.ExpectedProcess));
        Assert.Equal(["Open key", "Read persisted key from file"], worker.Operations);
        Assert.Equal([$@"ProgramData\Microsoft\Crypto\RSA\MachineKeys\{apiFile}"], worker.SourceKeyFiles); // 5061 names no file; 5058 does

        var text = Cli.Run("audit", "report", image.Root);
        Assert.Equal(0, text.ExitCode);
        var lines = text.Stdout.ReplaceLineEndings("\n");
        Assert.Contains("1 FAILED (0x80090016) of 1  key shop-key by backup.exe (not a process expected to use keys) PID 6700", lines);
        Assert.Contains("no key file of this key in the source", lines);
        Assert.Contains($@"key file in the source: ProgramData\Microsoft\Crypto\RSA\MachineKeys\{apiFile}", lines);
        Assert.True(lines.IndexOf("key shop-key", StringComparison.Ordinal) < lines.IndexOf("key api-key", StringComparison.Ordinal), "failures first");

        using var source = MachineSource.Open(image.Root);
        var findings = Scanner.Scan(source).Findings;
        var missing = Assert.Single(findings, f => f.Id == "KD2008");
        var failure = Assert.Single(findings, f => f.Id == "KD4001" && f.Properties["eventId"] == "5058");
        Assert.True(failure.Message.Contains($@"Read persisted key from file on key shop-key (file C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\{shopFile}) by CONTOSO\WEB01$ (process 0x1a2c) failed: 0x80090016 NTE_BAD_KEYSET", StringComparison.Ordinal), failure.Message);
        Assert.Equal([KeyDoctor.Diagnosis.FindingRef.Of(missing)], failure.CausedBy);
        GC.KeepAlive(otherKey);
    }
}

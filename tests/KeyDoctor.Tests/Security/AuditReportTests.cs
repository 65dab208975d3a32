using System.Text.Json;
using KeyDoctor.Formats.Evtx;
using KeyDoctor.Machine.Audit;

namespace KeyDoctor.Tests.Security;

public sealed class AuditReportTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-audit-report-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void RealObjectAccessEventsNameProcessAccountAndAccess()
    {
        var accesses = KeyAccessReport.Read([Fixtures.Path("evtx/cc0-4656-4663-4658-object-access.evtx")], keyStoresOnly: false);
        var open = Assert.Single(accesses, a => a.EventId == 4656);
        Assert.Equal(@"OFFSEC\admmig", open.Account);
        Assert.EndsWith(@"\mimikatz.exe", open.ProcessName);
        Assert.Equal(@"\Device\HarddiskVolume4\Windows\System32\lsass.exe", open.ObjectName);
        Assert.Contains("VM_READ", open.Access);
        Assert.False(open.InKeyStore);
        Assert.Empty(KeyAccessReport.Read([Fixtures.Path("evtx/cc0-4656-4663-4658-object-access.evtx")], keyStoresOnly: true));

        var single = KeyAccessReport.Read([Fixtures.Path("evtx/cc0-4663-object-access.evtx")], keyStoresOnly: false);
        Assert.Equal(2, single.Count);
        Assert.All(single, a => Assert.Equal(@"C:\Windows\System32\Taskmgr.exe", a.ProcessName));
    }

    [Fact]
    public void KeyFileAccessIsJoinedToItsContainerAndHandleCloseAndDeleteToTheirObject()
    {
        const string file = @"C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\c2319c42033a5ca7f44e731bfd3fa2b5_4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b";
        var log = Path.Combine(_root, "Security.evtx");
        var time = new DateTime(2026, 11, 20, 3, 14, 0, DateTimeKind.Utc);
        EventToWrite Event(int id, ulong record, params EventDataValue[] extra) => new()
        {
            Provider = "Microsoft-Windows-Security-Auditing", ProviderGuid = new Guid("54849625-5478-4994-a5ba-3e3b0328c30d"),
            EventId = id, TimeCreated = time.AddSeconds(record), RecordId = record, Computer = "WEB01", Channel = "Security",
            Level = 0, Task = 12800,
            Data =
            [
                EventDataValue.Sid("SubjectUserSid", "S-1-5-18"), EventDataValue.String("SubjectUserName", "WEB01$"),
                EventDataValue.String("SubjectDomainName", "CONTOSO"), EventDataValue.HexInt64("HandleId", 0x1a4),
                EventDataValue.HexInt64("ProcessId", 0x9c8), EventDataValue.String("ProcessName", @"C:\Program Files\AV\scan.exe"),
                .. extra,
            ],
        };
        using (var output = File.Create(log))
            EvtxWriter.Write(output,
            [
                Event(4663, 1, EventDataValue.String("ObjectType", "File"), EventDataValue.String("ObjectName", file),
                    EventDataValue.HexInt32("AccessMask", 0x10000)),
                Event(4660, 2),
                Event(4658, 3),
            ]);

        var accesses = KeyAccessReport.Read([log], keyStoresOnly: true);
        Assert.Equal(3, accesses.Count);
        Assert.All(accesses, a => Assert.Equal(file, a.ObjectName));
        Assert.All(accesses, a => Assert.Equal("Microsoft Internet Information Server", a.Container));
        Assert.Equal(["access", "deleted", "handle closed"], accesses.Select(a => a.Action));
        Assert.Equal(["DELETE"], accesses[0].Access);
        Assert.Equal(@"CONTOSO\WEB01$", accesses[0].Account);

        var cli = Cli.Run("audit", "report", log, "--json");
        Assert.Equal(0, cli.ExitCode);
        using var json = JsonDocument.Parse(cli.Stdout);
        Assert.Equal(3, json.RootElement.GetProperty("accesses").GetArrayLength());
        Assert.Equal(@"C:\Program Files\AV\scan.exe", json.RootElement.GetProperty("accesses")[1].GetProperty("processName").GetString());
    }

    [Fact]
    public void ImageWithoutASecurityLogIsAnInputError()
    {
        Directory.CreateDirectory(Path.Combine(_root, "img"));
        Assert.Equal(2, Cli.Run("audit", "report", Path.Combine(_root, "img")).ExitCode);
    }
}

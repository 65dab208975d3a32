using KeyDoctor.Formats;
using KeyDoctor.Formats.Security;
using KeyDoctor.Machine.Audit;

namespace KeyDoctor.Tests.Security;

public sealed class SddlAndAuditTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kd-audit-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ParsesTheDefaultMachineKeysAclInEitherNotation()
    {
        var letters = SecurityDescriptorString.Parse("O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;FA;;;BA)");
        var numbers = SecurityDescriptorString.Parse("O:S-1-5-18G:S-1-5-18D:PAI(A;;1180063;;;S-1-1-0)(A;;0x1f01ff;;;S-1-5-32-544)");
        Assert.Equal("S-1-5-18", letters.Owner);
        Assert.True(letters.DaclProtected);
        Assert.Equal(2, letters.Dacl!.Count);
        Assert.Equal(0x12019Fu, letters.Dacl[0].Rights);
        Assert.Equal("S-1-1-0", letters.Dacl[0].Sid);
        Assert.Equal(0x1F01FFu, letters.Dacl[1].Rights);
        Assert.Equal(letters.ToString(), numbers.ToString());
        Assert.Equal("O:SYG:SYD:PAI(A;;0x12019f;;;WD)(A;;0x1f01ff;;;BA)", letters.ToString());
        Assert.Equal("allow Everyone 0x12019f", letters.Dacl[0].Describe());
    }

    [Theory]
    [InlineData("D:(A;;FA;;;BA")]
    [InlineData("D:(A;;FA;;BA)")]
    [InlineData("D:(A;;ZZ;;;BA)")]
    [InlineData("X:BA")]
    [InlineData("D:(A;;0xZZ;;;BA)")]
    public void MalformedSddlIsATypedError(string sddl) =>
        Assert.Equal("SDDL", Assert.Throws<MalformedDataException>(() => SecurityDescriptorString.Parse(sddl)).Format);

    [Fact]
    public void EnableAddsTheAceKeepsOthersAndDisablePutsBackExactly()
    {
        var host = new FakeAuditHost(Path.Combine(_root, "state.json")) { Sacl = "S:AI(AU;OICISA;FA;;;BA)" };
        var audit = new MachineKeysAudit(host);
        Assert.False(audit.GetStatus().Enabled);

        audit.Enable();
        var status = audit.GetStatus();
        Assert.True(status.Enabled);
        Assert.Equal("S:AI(AU;OICISA;0x1f01ff;;;BA)(AU;OISAFA;0xd0176;;;WD)", host.Sacl);
        Assert.All(host.Policy.Values, p => Assert.True(p.Success && p.Failure));

        audit.Enable(); // idempotent: no second ACE, the first baseline is kept
        Assert.Equal("S:AI(AU;OICISA;0x1f01ff;;;BA)(AU;OISAFA;0xd0176;;;WD)", host.Sacl);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(host.StatePath));

        audit.Disable();
        Assert.Equal("S:AI(AU;OICISA;FA;;;BA)", host.Sacl);
        Assert.All(host.Policy.Values, p => Assert.False(p.Success || p.Failure));
        Assert.False(File.Exists(host.StatePath));
        Assert.Throws<InvalidOperationException>(audit.Disable);
    }

    [Fact]
    public void AuditRightsAreTheOnesTheSeedsList() =>
        Assert.Equal(0xD0176u, MachineKeysAudit.AuditedRights);

    private sealed class FakeAuditHost(string statePath) : IAuditHost
    {
        public string? Sacl { get; set; }
        public Dictionary<Guid, AuditPolicySetting> Policy { get; } = MachineKeysAudit.RequiredPolicy
            .ToDictionary(p => p.Subcategory, p => p with { Success = false, Failure = false });
        public string StatePath { get; } = statePath;
        public string? ReadMachineKeysSacl() => Sacl;
        public void WriteMachineKeysSacl(string? saclSddl) => Sacl = saclSddl;
        public AuditPolicySetting ReadPolicy(Guid subcategory) => Policy[subcategory];
        public void WritePolicy(AuditPolicySetting setting) => Policy[setting.Subcategory] = setting;
    }
}

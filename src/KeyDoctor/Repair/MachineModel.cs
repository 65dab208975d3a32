using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.Scan;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Machine;

namespace KeyDoctor.Repair;

/// <summary>A key file as the planner knows it: intact or damaged, its public key, and who put it there.</summary>
internal sealed record ModelKeyFile(string Path, bool Damaged, string? PublicKeySha256, bool HasSignatureKey, int? WrittenByStep)
{
    public string Origin => WrittenByStep is { } step ? $"written by step {step}" : "on the machine";

    public static ModelKeyFile Of(ScannedKeyFile file) =>
        new(file.WindowsPath, MachineState.IsDamaged(file.Report.Status), file.Report.PublicKeySha256, file.Report.KeySpecs.Contains(KeySpec.Signature), null);
}

/// <summary>
/// The machine as the plan will leave it, step by step: the MachineGuid and the key files (by path) the checks care
/// about. The planner applies each step's effect here, so a later finding an earlier step fixed is dropped, and a
/// step that would write over a key file another step (or the machine) holds is refused unless that file is proven bad.
/// </summary>
internal sealed class MachineModel
{
    private readonly Dictionary<string, ModelKeyFile> _files = new(StringComparer.OrdinalIgnoreCase);

    private MachineModel(string? guid, WindowsLayout layout)
    {
        Guid = guid;
        Layout = layout;
    }

    public string? Guid { get; private set; }

    /// <summary>The machine's Windows layout: where its MachineKeys and CNG key folders are (Server 2003 keeps them elsewhere).</summary>
    public WindowsLayout Layout { get; }

    /// <summary>The CryptoAPI MachineKeys folder of this machine's layout.</summary>
    public string MachineKeys => Layout.MachineKeys;

    /// <summary>The CNG machine key folder of this machine's layout.</summary>
    public string CngMachineKeys => Layout.CngMachineKeys;

    /// <summary>The step that set <see cref="Guid"/>, when one did.</summary>
    public int? GuidSetByStep { get; private set; }

    public static MachineModel Of(MachineState state)
    {
        var model = new MachineModel(state.MachineGuid?.ToLowerInvariant(), state.Layout);
        foreach (var file in state.KeyFiles) model._files[file.WindowsPath] = ModelKeyFile.Of(file);
        return model;
    }

    public MachineModel Copy()
    {
        var copy = new MachineModel(Guid, Layout) { GuidSetByStep = GuidSetByStep };
        foreach (var (path, file) in _files) copy._files[path] = file;
        return copy;
    }

    public ModelKeyFile? File(string path) => _files.GetValueOrDefault(WindowsPaths.Normalize(path));

    public void Put(ModelKeyFile file) => _files[WindowsPaths.Normalize(file.Path)] = file;

    public void SetGuid(string guid, int step)
    {
        Guid = guid.ToLowerInvariant();
        GuidSetByStep = step;
    }

    /// <summary>The file of container prefix <paramref name="prefix"/> under the model's MachineGuid, in <paramref name="folder"/>.</summary>
    public string KeyFilePath(string folder, string prefix) => WindowsPaths.Combine(folder, $"{prefix}_{Guid}");

    /// <summary>
    /// Whether the condition <paramref name="finding"/> reports still holds in this model. Only findings whose
    /// condition the model follows (the GUID and key files) can stop holding; the rest always hold.
    /// </summary>
    public bool Holds(Finding finding)
    {
        switch (finding.Id)
        {
            case "KD1001":
                return string.Equals(Guid, finding.Subject, StringComparison.OrdinalIgnoreCase);
            case "KD1002":
                return File(KeyFilePath(MachineKeys, KeyStoreChecks.Iis6Prefix)) is not { Damaged: false, HasSignatureKey: true };
            case "KD1003":
                return File(finding.Subject) is not { Damaged: false };
            case "KD3001" or "KD2008" or "KD2009" when ExpectedFile(finding) is { } path:
                var file = File(path);
                if (file is null || file.Damaged) return true;
                if (finding.Id == "KD3001") return false;
                return finding.Properties.TryGetValue("publicKeySha256", out var expected)
                       && !string.Equals(expected, file.PublicKeySha256, StringComparison.OrdinalIgnoreCase);
            default:
                return true;
        }
    }

    /// <summary>Where the finding's key file belongs under the model's MachineGuid (from its keyFile property's prefix).</summary>
    public string? ExpectedFile(Finding finding)
    {
        if (!finding.Properties.TryGetValue("keyFile", out var keyFile)) return null;
        var name = WindowsPaths.FileName(keyFile);
        if (name.Length < 32) return null;
        var folder = WindowsPaths.Normalize(keyFile)[..^(name.Length + 1)];
        return KeyFilePath(folder, name[..32]);
    }
}

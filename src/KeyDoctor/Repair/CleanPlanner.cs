namespace KeyDoctor.Repair;

/// <summary>The orphans of one key folder that a clean-up plan moves.</summary>
public sealed record OrphanFolder(string Folder, IReadOnlyList<string> Names);

/// <summary>
/// The repair plan of <c>keys clean -o</c>: for each key folder with orphans, a quarantine of exactly those files
/// (into the run's folder, with a manifest), the check that they are gone from the folder, and the release that puts
/// them back. Applied and rolled back like every plan (<c>repair apply</c>, <c>repair rollback</c>).
/// </summary>
public static class CleanPlanner
{
    public const string FindingId = "KD1007";

    public static RepairPlan Plan(string source, string? machineGuid, IReadOnlyList<OrphanFolder> folders, DateTimeOffset plannedUtc)
    {
        var steps = new List<RepairStep>();
        var order = 0;
        var index = 0;
        foreach (var folder in folders.Where(f => f.Names.Count > 0))
        {
            var quarantine = $"quarantine/{++index:D3}";
            var count = folder.Names.Count;
            steps.Add(new RepairStep(++order, RepairStepKind.Change, FindingId, folder.Folder,
                $"Move {count:N0} orphan key file(s) of {folder.Folder} into the run folder's {quarantine}, with a manifest (name, size, SHA-256, times, ACL)")
            {
                Risk = "Nothing is deleted: the files wait in the run folder's " + quarantine + ", and 'keydoctor repair rollback <run folder>' puts " +
                       "them back byte for byte. Deleting that folder is your own later step, once the server has run for a while without them.",
                Action = new QuarantineKeyFilesAction(folder.Folder, quarantine, plannedUtc, folder.Names),
            });
            steps.Add(new RepairStep(++order, RepairStepKind.Verify, FindingId, folder.Folder, $"Check that the {count:N0} orphans are gone from {folder.Folder}")
            {
                Action = new VerifyFindingGoneAction(FindingId, folder.Folder),
            });
            steps.Add(new RepairStep(++order, RepairStepKind.Rollback, FindingId, folder.Folder, $"Put the quarantined files back into {folder.Folder}")
            {
                Action = new ReleaseQuarantineAction(folder.Folder, quarantine),
            });
        }
        return new RepairPlan { Source = source, MachineGuid = machineGuid, Steps = steps };
    }
}

namespace KeyDoctor.Diagnosis.Scan;

/// <summary>KD0001: what could not be read, so that silence is not mistaken for health.</summary>
internal static class ScopeChecks
{
    public static IEnumerable<Finding> EvidenceUnavailable(MachineState state)
    {
        foreach (var (what, why) in state.Unavailable)
            yield return new Finding(FindingCatalog.EvidenceUnavailable, what, FindingCatalog.EvidenceUnavailable.FormatMessage(what, why))
            {
                Evidence = [Evidence.ForValue("reason", why)],
                Fix = new Fix("Collect the missing evidence (keydoctor collect on the server, or copy the file off its disk) and scan again."),
            };
        if (!state.Source.HasSecurityMetadata)
            yield return new Finding(FindingCatalog.EvidenceUnavailable, "NTFS attributes and ACLs",
                FindingCatalog.EvidenceUnavailable.FormatMessage("NTFS attributes and ACLs of MachineKeys",
                    "not available for an image folder (a bundle from 'keydoctor collect' carries them); KD1004 was not checked"))
            {
                Fix = new Fix("Run 'keydoctor collect' on the server and scan the bundle to check compression, EFS and permissions."),
            };
    }
}

using KeyDoctor.Machine;

namespace KeyDoctor.Diagnosis;

/// <summary>A point in time and where it was read.</summary>
public sealed record DatedFact(DateTimeOffset Time, string Source);

/// <summary>
/// What "now" means for checks that compare dates (certificate validity, key age). Offline it is a time the
/// evidence itself carries, so the same files give the same verdicts and bytes on any day; only a live machine
/// uses the clock.
/// </summary>
public static class SourceClock
{
    /// <summary>When the bundle was collected; for an image, the last write of its SOFTWARE/SYSTEM hive or else of its registry exports; else now.</summary>
    public static DatedFact Of(IMachineSource source)
    {
        if (source.Info.CollectedUtc is { } collected) return new DatedFact(collected, "when the bundle was collected");
        if (source.Kind == MachineSourceKind.Image)
        {
            if (NewestWrite(new[] { WindowsPaths.SoftwareHive, WindowsPaths.SystemHive }.Select(source.GetFile).OfType<MachineFile>()) is { } hives)
                return new DatedFact(hives, "the last write of the image's SOFTWARE/SYSTEM hive");
            var exports = source.EnumerateFiles(WindowsPaths.RegistryExports).Where(f => f.Path.EndsWith(".reg", StringComparison.OrdinalIgnoreCase));
            if (NewestWrite(exports) is { } registry) return new DatedFact(registry, "the last write of the image's registry exports");
        }
        return new DatedFact(DateTimeOffset.UtcNow, "now");
    }

    private static DateTimeOffset? NewestWrite(IEnumerable<MachineFile> files) =>
        files.Select(f => f.LastWritten).OfType<DateTimeOffset>().Select(t => t.ToUniversalTime()).DefaultIfEmpty().Max() is var newest && newest != default
            ? newest : null;
}

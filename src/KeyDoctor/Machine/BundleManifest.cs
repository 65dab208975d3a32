using System.Text.Json;
using System.Text.Json.Serialization;

namespace KeyDoctor.Machine;

/// <summary>
/// The manifest at the root of a bundle (<see cref="FileName"/>): what was collected, from which machine, and the
/// NTFS metadata that a copy of the files alone would lose (attributes, ACLs as SDDL, hashes, times).
/// Documented in docs/formats/bundle.md.
/// </summary>
public sealed record BundleManifest
{
    public const string FileName = "keydoctor-manifest.json";
    public const string FormatName = "keydoctor-bundle";
    public const int CurrentVersion = 1;

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;

    /// <summary>"bundle" (everything scan reads) or "snapshot" (the same without event logs).</summary>
    public string Kind { get; init; } = "bundle";

    public DateTimeOffset CreatedUtc { get; init; }
    public string? ToolVersion { get; init; }
    public string? HostName { get; init; }
    public string? OsVersion { get; init; }
    public List<BundleEntry> Files { get; init; } = [];
    public List<BundleEntry> Directories { get; init; } = [];
    public List<CollectionProblem> Problems { get; init; } = [];

    /// <summary>
    /// Each step of the collection plan and how it went: collected, absent (not on this server), partial (some files
    /// unreadable) or failed, with the exact command line and what it printed. Empty in bundles of older versions.
    /// </summary>
    public List<CollectedItem> Items { get; init; } = [];

    /// <summary>
    /// False when core evidence (the SYSTEM or SOFTWARE hive, the MachineKeys folder) could not be taken: the bundle
    /// is partial and a scan of it says what is missing (KD0001). Null in bundles of older versions.
    /// </summary>
    public bool? Complete { get; set; }

    /// <summary>Extra facts the collector recorded (audit policy, previous SACL), by name.</summary>
    public Dictionary<string, string> Properties { get; init; } = new(StringComparer.Ordinal);

    public static BundleManifest Parse(ReadOnlySpan<byte> json)
    {
        BundleManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, BundleManifestJson.Default.BundleManifest);
        }
        catch (JsonException ex)
        {
            throw new Formats.MalformedDataException("bundle manifest", ex.BytePositionInLine ?? 0, ex.Message);
        }
        if (manifest is null || manifest.Format != FormatName)
            throw new Formats.MalformedDataException("bundle manifest", 0, $"not a {FormatName} manifest");
        if (manifest.Version > CurrentVersion)
            throw new Formats.MalformedDataException("bundle manifest", 0,
                $"manifest version {manifest.Version} is newer than this KeyDoctor understands ({CurrentVersion})");
        return manifest;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, BundleManifestJson.Default.BundleManifest);
}

/// <summary>One collected file or folder: Windows path relative to the drive root, and its metadata.</summary>
public sealed record BundleEntry(string Path)
{
    public long Length { get; init; }
    public string? Sha256 { get; init; }
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset? LastWritten { get; init; }
    public NtfsAttributes Attributes { get; init; }
    public string? Sddl { get; init; }
}

/// <summary>One step of the collection plan and its outcome (<see cref="CollectedItemStatus"/>).</summary>
public sealed record CollectedItem(string Description, string BundlePath, CollectedItemStatus Status)
{
    /// <summary>True for the evidence a scan cannot do without (SYSTEM, SOFTWARE, MachineKeys).</summary>
    public bool Core { get; init; }

    /// <summary>The command line run (reg.exe save ..., wevtutil.exe epl ...), for tool steps.</summary>
    public string? Command { get; init; }

    /// <summary>Why the step failed or is partial: the error sentence, with what the tool printed.</summary>
    public string? Error { get; init; }

    public int Files { get; init; }
}

public enum CollectedItemStatus
{
    Collected,

    /// <summary>Not on this server (no IIS 6 metabase, no CNG keys): nothing to collect.</summary>
    Absent,

    /// <summary>Collected, but some files could not be read (see the manifest's problems).</summary>
    Partial,

    Failed,
}

/// <summary>The manifest's JSON, source-generated (no reflection): camelCase, enums by name, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    NewLine = "\n",
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(BundleManifest))]
internal sealed partial class BundleManifestJson : JsonSerializerContext;

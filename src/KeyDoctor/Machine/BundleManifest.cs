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

/// <summary>The manifest's JSON, source-generated (no reflection): camelCase, enums by name, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    NewLine = "\n",
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(BundleManifest))]
internal sealed partial class BundleManifestJson : JsonSerializerContext;

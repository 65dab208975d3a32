namespace KeyDoctor.Formats;

/// <summary>
/// Every limit a reader enforces on hostile or damaged input, in one place (docs/formats/limits.md explains each).
/// A reader that meets a limit throws <see cref="MalformedDataException"/> naming the limit, or reports the part as
/// damaged and reads on; it never hangs or allocates beyond what the file can hold. Each value is far above what
/// Windows writes (the figures beside them are the largest seen in real files).
/// </summary>
public static class ReaderLimits
{
    // XML (applicationHost.config, administration.config, redirection.config, MetaBase.xml).

    /// <summary>Element nesting (real configuration files nest about 8 levels; a metabase 4).</summary>
    public const int XmlMaxDepth = 256;

    /// <summary>Characters in one attribute value (the longest real values, encrypted blobs, are a few KB).</summary>
    public const int XmlMaxAttributeChars = 1 << 20;

    /// <summary>Size of one configuration document (real ones are well under 1 MiB).</summary>
    public const int XmlMaxDocumentBytes = 64 << 20;

    // Bundles (zip).

    /// <summary>
    /// Default total of uncompressed bytes in a bundle: hives (SOFTWARE up to ~1 GiB on a busy server, SYSTEM and the
    /// rest well under), event logs (20 MiB each by default), key stores and IIS configuration (a few MB) fit in
    /// 4 GiB with room to spare. <c>--max-bundle-size</c> raises it for an unusual server (a MachineKeys folder
    /// bloated with millions of leaked 3 KB keys).
    /// </summary>
    public const long BundleDefaultMaxTotalBytes = 4L << 30;

    /// <summary>
    /// Entries in one bundle: a collected server usually has a few thousand files, but a MachineKeys folder on a
    /// server that leaks keys can hold millions, and that is exactly the server to diagnose.
    /// </summary>
    public const int BundleMaxEntries = 10_000_000;

    /// <summary>Uncompressed-to-compressed ratio of one entry (zeroed hive space compresses ~200:1; bombs go far beyond).</summary>
    public const double BundleMaxCompressionRatio = 1000;

    /// <summary>
    /// Uncompressed size of all entries to the size of the archive. Real bundles compress 3 to 20 times (hives and
    /// logs); an archive that expands a hundredfold overall is a bomb even when each entry stays under the entry ratio.
    /// </summary>
    public const double BundleMaxTotalCompressionRatio = 100;

    /// <summary>Length of an entry's path (Windows' MAX_PATH with long-path prefixes stays far below).</summary>
    public const int BundleMaxEntryNameChars = 1024;

    /// <summary>One component of an entry's path: NTFS, ext4 and most file systems hold 255.</summary>
    public const int BundleMaxPathComponentChars = 255;

    // EVTX.

    /// <summary>BinXml nesting: elements, template instances and BinXml values inside each other.</summary>
    public const int EvtxMaxBinXmlDepth = 64;

    /// <summary>
    /// What one record may expand to when its templates are instantiated, in characters of rendered XML (names,
    /// text, values, indentation). Real records render to at most ~15,000 characters; a chunk is 65,536 bytes.
    /// </summary>
    public const int EvtxMaxRecordExpansion = 4 * 65536;

    /// <summary>What all the records of one chunk may expand to together (real chunks render to ~150,000 characters).</summary>
    public const int EvtxMaxChunkExpansion = 16 * 65536;

    // Registry.

    /// <summary>Size of a hive or a transaction log (the largest real SOFTWARE hives are a few hundred MB).</summary>
    public const long HiveMaxFileBytes = 1L << 30;

    /// <summary>Key nesting followed in a hive or an export (real hives nest about 30 levels; cycles are cut too).</summary>
    public const int HiveMaxKeyDepth = 512;

    /// <summary>Size of a .reg export (an export of a whole SOFTWARE hive is a few hundred MB).</summary>
    public const long RegExportMaxFileBytes = 1L << 30;

    // Key files and DPAPI structures.

    /// <summary>A key file section (a 16,384-bit key's private part is ~10 KB).</summary>
    public const uint KeyFileMaxSectionBytes = 1 << 20;

    /// <summary>A CryptoAPI container name stored in a key file.</summary>
    public const uint CapiKeyFileMaxNameBytes = 4096;

    /// <summary>A CNG key name stored in a key file.</summary>
    public const uint CngKeyFileMaxNameBytes = 8192;

    // Strings.

    /// <summary>An SDDL string (a real descriptor with a long SACL is a few KB).</summary>
    public const int SddlMaxChars = 64 * 1024;
}

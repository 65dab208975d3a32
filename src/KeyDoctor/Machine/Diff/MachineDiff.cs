using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Iis;
using KeyDoctor.Formats.KeyFiles;
using KeyDoctor.Formats.Registry;

namespace KeyDoctor.Machine.Diff;

/// <summary>One difference between two states of a machine. Never carries secrets: encrypted values show as hashes.</summary>
/// <param name="Area">"key files", "permissions", "MachineGuid", "certificates", "HTTP.sys bindings", "IIS bindings", "configuration".</param>
/// <param name="Change">"added", "added under a new GUID", "removed", "modified", "re-created under another GUID".</param>
/// <param name="Matters">True when the change can break keys, certificates or bindings, or tells how they changed (a key
/// file under a GUID the machine did not have, a certificate added): the command then exits 1.</param>
public sealed record MachineChange(string Area, string Change, string Subject, string? Before, string? After, bool Matters)
{
    /// <summary>"matters" or "noise": the mark `diff` shows and sorts by (every change is shown either way).</summary>
    public string Mark => Matters ? "matters" : "noise";
}

/// <summary>
/// Compares two states of a machine (bundles, snapshots or images): the key stores (content hashes, a container
/// re-created under another GUID), key-file and folder attributes and ACLs, the MachineGuid, machine certificates and
/// their key links, HTTP.sys and IIS bindings, and applicationHost.config / MetaBase.xml by section with encrypted
/// values masked. Reads both sides only.
/// </summary>
public static class MachineDiff
{
    private static readonly string[] KeyFolders = [WindowsPaths.MachineKeys, WindowsPaths.CngMachineKeys, WindowsPaths.CngSystemKeys];

    /// <summary>Every change, those that matter first (each group in the order of the areas above).</summary>
    public static IReadOnlyList<MachineChange> Compare(IMachineSource before, IMachineSource after)
    {
        var changes = new List<MachineChange>();
        // The GUIDs the machine had before: its MachineGuid and every key file's suffix.
        var knownGuids = KeyFolders.SelectMany(f => before.EnumerateFiles(f))
            .Select(f => ContainerName.TrySplitFileName(f.Name, out _, out var g) ? g : null).OfType<Guid>().ToHashSet();
        if (before is FolderMachineSource folder)
            try
            {
                if (Guid.TryParse(WindowsRegistry.OpenImage(folder.Root).MachineGuid, out var guid)) knownGuids.Add(guid);
            }
            catch (Exception ex) when (ex is MalformedDataException or IOException)
            {
                // reported by the registry comparison
            }
        foreach (var keyFolder in KeyFolders) CompareKeyFolder(before, after, keyFolder, changes, knownGuids);
        CompareRegistry(before, after, changes);
        CompareApplicationHost(before, after, changes);
        CompareXmlSections(before, after, WindowsPaths.Metabase, "MetaBase.xml", changes);
        return [.. changes.Where(c => c.Matters), .. changes.Where(c => !c.Matters)];
    }

    private static void CompareKeyFolder(IMachineSource before, IMachineSource after, string folder, List<MachineChange> changes, HashSet<Guid> knownGuids)
    {
        var old = before.EnumerateFiles(folder).ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
        var now = after.EnumerateFiles(folder).ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
        var removed = old.Keys.Except(now.Keys, StringComparer.OrdinalIgnoreCase).ToList();
        var added = now.Keys.Except(old.Keys, StringComparer.OrdinalIgnoreCase).ToHashSet(StringComparer.OrdinalIgnoreCase);

        foreach (var name in removed.Order(StringComparer.Ordinal))
        {
            var prefix = PrefixOf(name);
            var replacement = prefix is null ? null : added.FirstOrDefault(a => string.Equals(PrefixOf(a), prefix, StringComparison.OrdinalIgnoreCase));
            if (replacement is not null)
            {
                added.Remove(replacement);
                changes.Add(new MachineChange("key files", "re-created under another GUID", Describe(folder, name), name, replacement, true));
            }
            else
                changes.Add(new MachineChange("key files", "removed", Describe(folder, name), Summary(old[name]), null, true));
        }
        foreach (var name in added.Order(StringComparer.Ordinal))
        {
            // A key made under a GUID the machine did not have: the MachineGuid changed (or an image was cloned) since.
            var newGuid = ContainerName.TrySplitFileName(name, out _, out var guid) && guid is { } g && knownGuids.Count > 0 && !knownGuids.Contains(g);
            changes.Add(newGuid
                ? new MachineChange("key files", "added under a new GUID", Describe(folder, name), null, $"{Summary(now[name])}; GUID {guid:D} had no key file before", true)
                : new MachineChange("key files", "added", Describe(folder, name), null, Summary(now[name]), false));
        }

        foreach (var name in old.Keys.Intersect(now.Keys, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal))
        {
            var (a, b) = (old[name], now[name]);
            var hashA = a.Sha256 ?? HashOf(before, a.Path);
            var hashB = b.Sha256 ?? HashOf(after, b.Path);
            if (!string.Equals(hashA, hashB, StringComparison.OrdinalIgnoreCase))
                changes.Add(new MachineChange("key files", "modified", Describe(folder, name), Summary(a), Summary(b), true));
            CompareSecurity(a, b, Describe(folder, name), changes);
        }
        if (before is FolderMachineSource fb && after is FolderMachineSource fa
            && fb.GetDirectoryMetadata(folder) is { } da && fa.GetDirectoryMetadata(folder) is { } db)
            CompareSecurity(da, db, folder, changes);
    }

    private static void CompareSecurity(MachineFile before, MachineFile after, string subject, List<MachineChange> changes)
    {
        if (before.Attributes is { } a1 && after.Attributes is { } a2 && a1 != a2)
            changes.Add(new MachineChange("permissions", "attributes changed", subject, a1.ToString(), a2.ToString(),
                ((a1 ^ a2) & (NtfsAttributes.Compressed | NtfsAttributes.Encrypted)) != 0));
        if (before.Sddl is { } s1 && after.Sddl is { } s2 && !string.Equals(Canonical(s1), Canonical(s2), StringComparison.Ordinal))
            changes.Add(new MachineChange("permissions", "ACL changed", subject, s1, s2, true));
    }

    private static void CompareRegistry(IMachineSource before, IMachineSource after, List<MachineChange> changes)
    {
        var (old, now) = (OpenRegistry(before, changes), OpenRegistry(after, changes));
        if (old is null || now is null) return;
        if (!string.Equals(old.MachineGuid, now.MachineGuid, StringComparison.OrdinalIgnoreCase))
            changes.Add(new MachineChange("MachineGuid", "modified", @"SOFTWARE\Microsoft\Cryptography\MachineGuid", old.MachineGuid, now.MachineGuid, true));

        var certsBefore = old.Software is null ? null : Certificates(old);
        var certsAfter = now.Software is null ? null : Certificates(now);
        if (certsBefore is not null && certsAfter is not null)
            CompareMaps("certificates", certsBefore, certsAfter, changes, removedMatters: true, modifiedMatters: true, addedMatters: true);

        var bindingsBefore = old.System is null ? null : Bindings(old);
        var bindingsAfter = now.System is null ? null : Bindings(now);
        if (bindingsBefore is not null && bindingsAfter is not null)
            CompareMaps("HTTP.sys bindings", bindingsBefore, bindingsAfter, changes, removedMatters: true, modifiedMatters: true);
    }

    private static Dictionary<string, string> Certificates(WindowsRegistry registry) =>
        registry.Certificates()
            .Where(c => c.Location.StartsWith("LocalMachine", StringComparison.Ordinal))
            .GroupBy(c => $"{c.Store}\\{c.Thumbprint}", StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g =>
            {
                var entry = g.First().Entry;
                var link = entry?.KeyProviderInfo;
                var subject = entry?.Certificate?.Subject ?? "(unreadable)";
                return link is null
                    ? $"{subject}; no key link"
                    : $"{subject}; key {link.ContainerName} ({link.ProviderName}, {link.KeySpecName})";
            }, StringComparer.OrdinalIgnoreCase);

    private static Dictionary<string, string> Bindings(WindowsRegistry registry) =>
        registry.HttpSysBindings
            .GroupBy(b => $"{b.Kind} {b.Endpoint}", StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => $"{g.First().CertificateHash ?? "(no hash)"} in {g.First().EffectiveStoreName}", StringComparer.OrdinalIgnoreCase);

    private static void CompareApplicationHost(IMachineSource before, IMachineSource after, List<MachineChange> changes)
    {
        var (old, now) = (ReadAppHost(before, changes), ReadAppHost(after, changes));
        if (old is not null && now is not null)
            CompareMaps("IIS bindings", IisBindings(old), IisBindings(now), changes, removedMatters: true, modifiedMatters: true);
        CompareXmlSections(before, after, WindowsPaths.ApplicationHostConfig, "applicationHost.config", changes);
    }

    private static Dictionary<string, string> IisBindings(ApplicationHostConfig config)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var site in config.Sites)
            foreach (var binding in site.Bindings)
                map[$"{site.Name}: {binding.Protocol} {binding.BindingInformation}"] = binding.SslFlagsText ?? (binding.SslFlags?.ToString() ?? "");
        return map;
    }

    /// <summary>Compares the sections of an XML configuration, each hashed with encrypted values masked.</summary>
    private static void CompareXmlSections(IMachineSource before, IMachineSource after, string path, string name, List<MachineChange> changes)
    {
        var (old, now) = (Sections(before, path, name, changes), Sections(after, path, name, changes));
        if (old is null || now is null) return;
        CompareMaps("configuration", old, now, changes, removedMatters: true, modifiedMatters: true, prefix: name + " ");
    }

    private static Dictionary<string, string>? Sections(IMachineSource source, string path, string name, List<MachineChange> changes)
    {
        var local = source.GetLocalPath(path);
        if (local is null) return null;
        XDocument document;
        try
        {
            document = SafeXml.Load(SafeXml.ReadFile(local, name), name);
        }
        catch (MalformedDataException ex)
        {
            changes.Add(new MachineChange("configuration", "unreadable", $"{name} in {source.Description}", null, ex.Reason, true));
            return null;
        }
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var element in document.Root?.Descendants() ?? [])
        {
            // Leaf-level sections: IIS sections under system.* groups, metabase objects by Location.
            var key = element.Attribute("Location")?.Value is { } location
                ? $"{element.Name.LocalName} {location}"
                : element.Parent == document.Root || element.Parent is { } group && group.Parent == document.Root && group.Name.LocalName.StartsWith("system.", StringComparison.Ordinal)
                    ? SectionPath(element)
                    : null;
            if (key is null) continue;
            sections[key] = Fingerprint(element);
        }
        return sections;
    }

    private static string SectionPath(XElement element) =>
        string.Join("/", element.AncestorsAndSelf().Reverse().Skip(1).Select(e => e.Name.LocalName));

    /// <summary>A short hash of the element with every [enc:...:enc] value and IIS_CRYPTO_BLOB replaced by its own hash.</summary>
    private static string Fingerprint(XElement element)
    {
        var copy = new XElement(element);
        foreach (var attribute in copy.DescendantsAndSelf().SelectMany(e => e.Attributes()))
            if (attribute.Value.StartsWith("[enc:", StringComparison.Ordinal) || LooksLikeCryptoBlob(attribute.Value))
                attribute.Value = "secret:" + Hash(attribute.Value)[..12];
        return Hash(copy.ToString(SaveOptions.DisableFormatting))[..16];
    }

    private static bool LooksLikeCryptoBlob(string value) =>
        value.Length > 24 && value.StartsWith("496343", StringComparison.OrdinalIgnoreCase); // "IcS…"/"IcD…" blobs in hex

    private static void CompareMaps(string area, Dictionary<string, string> before, Dictionary<string, string> after,
                                    List<MachineChange> changes, bool removedMatters, bool modifiedMatters, string prefix = "", bool addedMatters = false)
    {
        foreach (var key in before.Keys.Except(after.Keys, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal))
            changes.Add(new MachineChange(area, "removed", prefix + key, before[key], null, removedMatters));
        foreach (var key in after.Keys.Except(before.Keys, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal))
            changes.Add(new MachineChange(area, "added", prefix + key, null, after[key], addedMatters));
        foreach (var key in before.Keys.Intersect(after.Keys, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal))
            if (!string.Equals(before[key], after[key], StringComparison.Ordinal))
                changes.Add(new MachineChange(area, "modified", prefix + key, before[key], after[key], modifiedMatters));
    }

    private static WindowsRegistry? OpenRegistry(IMachineSource source, List<MachineChange> changes)
    {
        if (source is not FolderMachineSource folder) return null;
        try
        {
            return WindowsRegistry.OpenImage(folder.Root);
        }
        catch (Exception ex) when (ex is MalformedDataException or IOException)
        {
            changes.Add(new MachineChange("registry", "unreadable", source.Description, null, ex.Message, true));
            return null;
        }
    }

    private static ApplicationHostConfig? ReadAppHost(IMachineSource source, List<MachineChange> changes)
    {
        var local = source.GetLocalPath(WindowsPaths.ApplicationHostConfig);
        if (local is null) return null;
        try
        {
            return ApplicationHostConfig.Read(local);
        }
        catch (MalformedDataException)
        {
            return null; // reported once by the section comparison
        }
    }

    private static string? PrefixOf(string fileName) =>
        ContainerName.TrySplitFileName(fileName, out var prefix, out var guid) && guid is not null ? ContainerName.Format(prefix) : null;

    private static string Describe(string folder, string fileName)
    {
        var container = ContainerName.TrySplitFileName(fileName, out var prefix, out _) ? WellKnownContainers.Find(prefix)?.Name : null;
        return container is null ? $@"{folder}\{fileName}" : $@"{folder}\{fileName} ({container})";
    }

    private static string Summary(MachineFile file) => $"{file.Length} bytes" + (file.LastWritten is { } t ? $", written {t.UtcDateTime:u}" : "");

    private static string Canonical(string sddl)
    {
        try
        {
            return Formats.Security.SecurityDescriptorString.Parse(sddl).ToString();
        }
        catch (MalformedDataException)
        {
            return sddl;
        }
    }

    private static string HashOf(IMachineSource source, string path)
    {
        using var stream = source.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

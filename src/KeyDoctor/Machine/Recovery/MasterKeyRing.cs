using System.Security.Cryptography;
using KeyDoctor.Crypto.Dpapi;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Dpapi;

namespace KeyDoctor.Machine.Recovery;

/// <summary>A user whose keys may be recovered: SID and the pre-keys their password (or hash) gives.</summary>
public sealed record UserCredential(string Sid, IReadOnlyList<byte[]> PreKeys)
{
    /// <summary>
    /// From the password: the local-account form (SHA-1), the domain form (NT hash) and the Windows 10 1607+ domain
    /// form (stretched NT hash); the master key's HMAC says which one it was made with.
    /// </summary>
    public static UserCredential FromPassword(string sid, string password) => new(sid, DpapiPreKeys.AllFromPassword(password, sid));

    /// <summary>From the SHA-1 of the UTF-16LE password (20 bytes) or the NT hash (16 bytes: both domain forms).</summary>
    public static UserCredential FromHash(string sid, byte[] hash) => new(sid, DpapiPreKeys.AllFromHash(hash, sid));

    public override string ToString() => $"user {Sid} (credential secret)";
}

/// <summary>Where a master key was found and which secret opened it.</summary>
/// <param name="DamagedFile">The master-key file, when the failure is that file being damaged (not a missing secret).</param>
public sealed record MasterKeyOutcome(Guid Guid, string? Path, string? OpenedWith, string? Failure, string? DamagedFile = null)
{
    public bool Opened => Failure is null;
}

/// <summary>
/// Finds master keys by the GUID a DPAPI blob names and opens them: system master keys (Protect\S-1-5-18 with the
/// DPAPI_SYSTEM machine half, Protect\S-1-5-18\User with the user half; both halves are tried on both, since no
/// public source says which folder protects RSA\MachineKeys) and user master keys (Protect\&lt;SID&gt; under each
/// profile) with the user's pre-keys or, for domain users, with the domain backup key through the file's
/// domain-key section. Results are cached by GUID; key bytes never leave this class except to decrypt.
/// </summary>
public sealed class MasterKeyRing
{
    private const long MaxMasterKeyFileLength = 64 * 1024;
    private readonly IMachineSource _source;
    private readonly DpapiSystemSecret? _system;
    private readonly UserCredential? _user;
    private readonly DomainBackupKey? _domainKey;
    private readonly Dictionary<Guid, (byte[]? Key, MasterKeyOutcome Outcome)> _cache = [];

    private KeyStoreCatalogue? _catalogue;

    /// <param name="catalogue">Where the source keeps master keys (its Windows layout and profiles); read from the source when not given.</param>
    public MasterKeyRing(IMachineSource source, DpapiSystemSecret? system, UserCredential? user, DomainBackupKey? domainKey = null,
                         KeyStoreCatalogue? catalogue = null)
    {
        _source = source;
        _catalogue = catalogue;
        _system = system;
        _user = user;
        _domainKey = domainKey;
    }

    public IEnumerable<MasterKeyOutcome> Outcomes => _cache.Values.Select(v => v.Outcome);

    /// <summary>The 64-byte master key, or null with the reason in <paramref name="outcome"/>.</summary>
    public byte[]? Open(Guid guid, out MasterKeyOutcome outcome)
    {
        if (!_cache.TryGetValue(guid, out var entry))
            _cache[guid] = entry = Find(guid);
        outcome = entry.Outcome;
        return entry.Key;
    }

    /// <summary>Whether <paramref name="sid"/> is a domain or local user's (S-1-5-21-...), not a built-in account's.</summary>
    public static bool IsUserSid(string sid) => sid.StartsWith("S-1-5-21-", StringComparison.OrdinalIgnoreCase);

    private (byte[]?, MasterKeyOutcome) Find(Guid guid)
    {
        var name = guid.ToString("D");
        var candidates = new List<(string Path, string? Sid, IReadOnlyList<(string Label, byte[] PreKey)> Keys)>();
        // Without DPAPI_SYSTEM the system folders are still searched, so the report can say the file is there.
        (string, byte[])[] halves = _system is null ? []
            : [("DPAPI_SYSTEM machine half", _system.MachineKey), ("DPAPI_SYSTEM user half", _system.UserKey)];
        candidates.Add((WindowsPaths.Combine(WindowsPaths.SystemMasterKeys, name), null, halves));
        candidates.Add((WindowsPaths.Combine(WindowsPaths.SystemMasterKeys + @"\User", name), null, halves.Reverse().ToArray()));
        if (_user is not null || _domainKey is not null)
        {
            _catalogue ??= KeyStoreCatalogue.Of(_source);
            foreach (var folder in _catalogue.MasterKeyFolders.Where(f => f.Owner == KeyStoreOwner.User))
            {
                var path = WindowsPaths.Combine(folder.Path, name);
                if (_user is not null && folder.Sid.Equals(_user.Sid, StringComparison.OrdinalIgnoreCase))
                    candidates.Add((path, _user.Sid, _user.PreKeys.Select(k => ("user password", k)).ToArray()));
                else if (_domainKey is not null && IsUserSid(folder.Sid))
                    candidates.Add((path, folder.Sid, []));
            }
        }

        string? foundAt = null, damaged = null;
        var failure = "no master-key file with this GUID";
        foreach (var (path, sid, keys) in candidates)
        {
            if (_source.GetFile(path) is not { } file || file.IsDirectory) continue;
            foundAt ??= path;
            if (file.Length > MaxMasterKeyFileLength) { failure = $"{path}: {file.Length} bytes, not a master-key file"; continue; }
            try
            {
                byte[] data;
                using (var stream = _source.OpenRead(path))
                {
                    data = new byte[file.Length];
                    stream.ReadExactly(data);
                }
                var parsed = MasterKeyFile.Parse(data);
                if (parsed.MasterKey is not null)
                    foreach (var (label, preKey) in keys)
                        if (parsed.MasterKey.Decrypt(preKey) is { } key)
                            return (key, new MasterKeyOutcome(guid, path, label, null));
                if (sid is not null && _domainKey is not null && parsed.ReadDomainKey() is { } domainSection)
                {
                    var opened = domainSection.Decrypt(_domainKey);
                    if (opened.Success && string.Equals(opened.Sid, sid, StringComparison.OrdinalIgnoreCase))
                        return (opened.MasterKey, new MasterKeyOutcome(guid, path, $"domain backup key {domainSection.BackupKeyGuid}", null));
                    if (opened.Success) CryptographicOperations.ZeroMemory(opened.MasterKey);
                    // A section made for another SID is not this user's key, whatever its folder says.
                    failure = (keys.Count > 0 ? $"{path}: the password does not open it; " : $"{path}: ")
                        + (opened.Success ? $"the domain key section was made for {opened.Sid}, not {sid}" : $"domain backup key: {opened.Reason}");
                    continue;
                }
                failure = sid is null
                    ? keys.Count == 0 ? $"{path}: DPAPI_SYSTEM is not available to open it" : $"{path}: neither DPAPI_SYSTEM half opens it"
                    : keys.Count > 0 ? $"{path}: the password does not open it"
                    : $"{path}: no domain key section (a local account: it needs the password)";
            }
            catch (Exception e) when (e is MalformedDataException or IOException or EndOfStreamException)
            {
                failure = $"{path}: {e.Message}";
                if (e is MalformedDataException) damaged = path;
            }
        }
        return (null, new MasterKeyOutcome(guid, foundAt, null, failure, damaged));
    }
}

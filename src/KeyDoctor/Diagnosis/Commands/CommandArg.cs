using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KeyDoctor.Diagnosis.Commands;

/// <summary>A value each shell spells its own way: an environment variable, or a variable the plan's script sets.</summary>
public enum ArgToken
{
    /// <summary>The system drive (<c>$env:SystemDrive</c>, <c>%SystemDrive%</c>).</summary>
    SystemDrive,

    /// <summary>The ProgramData folder (<c>$env:ProgramData</c>, <c>%ProgramData%</c>).</summary>
    ProgramData,

    /// <summary>The Windows folder (<c>$env:windir</c>, <c>%windir%</c>).</summary>
    WinDir,

    /// <summary>This run's backup folder (<c>$BackupRoot</c>, <c>%BACKUPROOT%</c>), set at the top of the plan's script.</summary>
    BackupRoot,

    /// <summary>The snapshot key files are restored from (<c>$Snapshot</c>, <c>%SNAPSHOT%</c>).</summary>
    Snapshot,
}

/// <summary>One piece of a command argument.</summary>
public abstract record ArgPart;

/// <summary>Text taken as it is.</summary>
public sealed record LiteralPart(string Text) : ArgPart;

/// <summary>A value the shell fills in (see <see cref="ArgToken"/>).</summary>
public sealed record TokenPart(ArgToken Token) : ArgPart;

/// <summary>Something a person must supply (a PFX file, a key set): <see cref="Name"/> names a <see cref="RequiredInput"/>.</summary>
public sealed record InputPart(string Name) : ArgPart;

/// <summary>
/// One argument of a command, as the parts the shells render differently. Written as a template in JSON:
/// literal text, <c>{ProgramData}</c>-style tokens, <c>{input:NAME}</c> for an input, and <c>{{</c> / <c>}}</c> for braces.
/// Arguments never hold a double quote, a percent sign, a control character or a trailing backslash, and are never
/// empty: no quoting rule of PowerShell 5.1, cmd or CommandLineToArgvW can then change what the program receives.
/// </summary>
[JsonConverter(typeof(CommandArgJsonConverter))]
public sealed class CommandArg : IEquatable<CommandArg>
{
    private CommandArg(IReadOnlyList<ArgPart> parts)
    {
        Parts = parts;
        if (Unsafe(parts) is { } problem) throw new ArgumentException($"command argument {Template}: {problem}");
    }

    [JsonIgnore] public IReadOnlyList<ArgPart> Parts { get; }

    /// <summary>An argument of literal text only.</summary>
    public static CommandArg Text(string text) => new([new LiteralPart(text)]);

    /// <summary>An argument made of the given parts (adjacent literals are merged).</summary>
    public static CommandArg Of(params ArgPart[] parts)
    {
        var merged = new List<ArgPart>();
        foreach (var part in parts)
        {
            if (part is LiteralPart { Text.Length: 0 }) continue;
            if (part is LiteralPart next && merged.Count > 0 && merged[^1] is LiteralPart previous)
                merged[^1] = new LiteralPart(previous.Text + next.Text);
            else merged.Add(part);
        }
        return new CommandArg(merged);
    }

    /// <summary>A path under a folder the shell knows (<c>{ProgramData}\Microsoft\...</c>).</summary>
    public static CommandArg Path(ArgToken folder, string rest) =>
        rest.Length == 0 ? Of(new TokenPart(folder)) : Of(new TokenPart(folder), new LiteralPart("\\" + rest.TrimStart('\\')));

    /// <summary>The value a person supplies for input <paramref name="name"/>.</summary>
    public static CommandArg Input(string name) => Of(new InputPart(name));

    /// <summary>Why <paramref name="text"/> cannot be a literal argument, or null when it can.</summary>
    public static string? Unsafe(string text) => Unsafe([new LiteralPart(text)]);

    public static implicit operator CommandArg(string text) => Text(text);

    /// <summary>The input names this argument refers to.</summary>
    [JsonIgnore] public IEnumerable<string> Inputs => Parts.OfType<InputPart>().Select(p => p.Name);

    /// <summary>The template form (JSON, and what tests compare).</summary>
    public string Template
    {
        get
        {
            var text = new StringBuilder();
            foreach (var part in Parts)
                text.Append(part switch
                {
                    LiteralPart literal => literal.Text.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal),
                    TokenPart token => "{" + token.Token + "}",
                    InputPart input => "{input:" + input.Name + "}",
                    _ => throw new InvalidOperationException(),
                });
            return text.ToString();
        }
    }

    /// <summary>Reads the template form; throws <see cref="FormatException"/> for an unknown token or a stray brace.</summary>
    public static CommandArg Parse(string template)
    {
        var parts = new List<ArgPart>();
        var literal = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}') { literal.Append('}'); i++; continue; }
                throw new FormatException($"stray '}}' in command argument {template}");
            }
            if (c != '{') { literal.Append(c); continue; }
            if (i + 1 < template.Length && template[i + 1] == '{') { literal.Append('{'); i++; continue; }
            var end = template.IndexOf('}', i);
            if (end < 0) throw new FormatException($"unclosed '{{' in command argument {template}");
            var name = template[(i + 1)..end];
            if (literal.Length > 0) { parts.Add(new LiteralPart(literal.ToString())); literal.Clear(); }
            if (name.StartsWith("input:", StringComparison.Ordinal) && name.Length > 6) parts.Add(new InputPart(name[6..]));
            else if (Enum.TryParse<ArgToken>(name, ignoreCase: false, out var token) && Enum.IsDefined(token)) parts.Add(new TokenPart(token));
            else throw new FormatException($"unknown token {{{name}}} in command argument {template}");
            i = end;
        }
        if (literal.Length > 0) parts.Add(new LiteralPart(literal.ToString()));
        try
        {
            return Of([.. parts]);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException(ex.Message, ex);
        }
    }

    private static string? Unsafe(IReadOnlyList<ArgPart> parts)
    {
        if (parts.Count == 0 || parts.All(p => p is LiteralPart { Text.Length: 0 })) return "it is empty";
        foreach (var literal in parts.OfType<LiteralPart>())
        {
            if (literal.Text.Contains('"')) return "it holds a double quote";
            if (literal.Text.Contains('%')) return "it holds a percent sign";
            if (literal.Text.Any(char.IsControl)) return "it holds a control character";
        }
        if (parts.OfType<InputPart>().Any(p => p.Name.Length == 0 || p.Name.Any(c => c is '{' or '}' || char.IsControl(c))))
            return "an input name is empty or holds a brace";
        if (parts[^1] is LiteralPart last && last.Text.EndsWith('\\')) return "it ends in a backslash";
        return null;
    }

    public bool Equals(CommandArg? other) => other is not null && Template == other.Template;
    public override bool Equals(object? obj) => obj is CommandArg other && Equals(other);
    public override int GetHashCode() => Template.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => Template;
}

/// <summary>Writes a <see cref="CommandArg"/> as its template string (no reflection: NativeAOT-safe).</summary>
public sealed class CommandArgJsonConverter : JsonConverter<CommandArg>
{
    public override CommandArg Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("a command argument is a string");
        try
        {
            return CommandArg.Parse(reader.GetString()!);
        }
        catch (FormatException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    public override void Write(Utf8JsonWriter writer, CommandArg value, JsonSerializerOptions options) => writer.WriteStringValue(value.Template);
}

using System.Text;

namespace KeyDoctor.Tests.Repair;

/// <summary>
/// What a program receives from a command line, by each shell's own rules, written independently of the renderer:
/// PowerShell 5.1 (quoting, `$env:` and script variables, then its native-command argument passing), cmd
/// (<c>%VAR%</c>, carets, operators) and CommandLineToArgvW/MSVCRT splitting. The environment has spaces in every
/// folder, so a missing quote shows.
/// </summary>
internal static class ShellArgv
{
    public static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["SystemDrive"] = "C:",
        ["ProgramData"] = @"C:\Program Data",
        ["windir"] = @"C:\Win Dir",
        ["BackupRoot"] = @"C:\kd\backup\run 1",
        ["Snapshot"] = @"C:\snap shots\before.zip",
    };

    /// <summary>The argv (program first) a PowerShell 5.1 line starts.</summary>
    public static List<string> PowerShell(string line)
    {
        var values = new List<string>();
        var i = 0;
        Skip();
        if (line.StartsWith("& ", StringComparison.Ordinal)) { i += 2; Skip(); }
        while (i < line.Length)
        {
            values.Add(line[i] switch
            {
                '\'' => SingleQuoted(),
                '"' => DoubleQuoted(),
                _ => Bare(),
            });
            if (i < line.Length && !char.IsWhiteSpace(line[i])) throw new FormatException($"PowerShell would join or split the token ending at {i} of: {line}");
            Skip();
        }
        // PowerShell 5.1 passes a native program one command line: an argument with a space or tab is wrapped in quotes.
        var commandLine = string.Join(" ", values.Select(v => v.Length == 0 || v.Any(c => c is ' ' or '\t') ? $"\"{v}\"" : v));
        return CommandLineToArgv(commandLine);

        void Skip()
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
        }

        string SingleQuoted()
        {
            var text = new StringBuilder();
            for (i++; ; i++)
            {
                if (i >= line.Length) throw new FormatException($"unclosed ' in: {line}");
                if (line[i] == '\'')
                {
                    if (i + 1 < line.Length && line[i + 1] == '\'') { text.Append('\''); i++; continue; }
                    i++;
                    return text.ToString();
                }
                text.Append(line[i]);
            }
        }

        string DoubleQuoted()
        {
            var text = new StringBuilder();
            for (i++; ; )
            {
                if (i >= line.Length) throw new FormatException($"unclosed \" in: {line}");
                var c = line[i];
                if (c == '"') { i++; return text.ToString(); }
                if (c == '`') { text.Append(line[i + 1]); i += 2; continue; }
                if (c == '$') { text.Append(Variable()); continue; }
                text.Append(c);
                i++;
            }
        }

        string Variable()
        {
            i++; // '$'
            string name;
            if (line[i] == '{')
            {
                var end = line.IndexOf('}', i);
                name = line[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var start = i;
                while (i < line.Length && (char.IsLetterOrDigit(line[i]) || line[i] is '_' or ':')) i++;
                name = line[start..i];
            }
            var key = name.StartsWith("env:", StringComparison.OrdinalIgnoreCase) ? name[4..] : name;
            return Environment.TryGetValue(key, out var value) ? value : throw new FormatException($"unknown variable ${name} in: {line}");
        }

        string Bare()
        {
            var start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            var text = line[start..i];
            // Characters that make PowerShell read something else than the text (expressions, blocks, operators, splits).
            if (text.IndexOfAny(['\'', '"', '$', '(', ')', '{', '}', '@', ';', ',', '|', '&', '<', '>', '`', '#']) >= 0 || text == "--%"
                || (text.StartsWith('-') && text.IndexOfAny([':', '.']) >= 0))
                throw new FormatException($"PowerShell does not pass {text} as it is: {line}");
            return text;
        }
    }

    /// <summary>The argv (program first) a cmd.exe line starts.</summary>
    public static List<string> Cmd(string line)
    {
        var expanded = new StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] != '%') { expanded.Append(line[i]); continue; }
            var end = line.IndexOf('%', i + 1);
            if (end < 0) throw new FormatException($"stray % in: {line}");
            var name = line[(i + 1)..end];
            expanded.Append(Environment.TryGetValue(name, out var value) ? value : throw new FormatException($"unknown variable %{name}% in: {line}"));
            i = end;
        }
        // Outside quotes a caret escapes the next character and & | < > are operators; inside, everything is text.
        var commandLine = new StringBuilder();
        var quoted = false;
        var text = expanded.ToString();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"') quoted = !quoted;
            else if (!quoted && c == '^') { commandLine.Append(text[++i]); continue; }
            else if (!quoted && c is '&' or '|' or '<' or '>') throw new FormatException($"cmd reads {c} as an operator in: {line}");
            commandLine.Append(c);
        }
        return CommandLineToArgv(commandLine.ToString());
    }

    /// <summary>CommandLineToArgvW / MSVCRT: 2n backslashes before a quote are n and the quote toggles; 2n+1 are n and a literal quote.</summary>
    public static List<string> CommandLineToArgv(string commandLine)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        var inQuotes = false;
        var any = false;
        for (var i = 0; i < commandLine.Length; i++)
        {
            var c = commandLine[i];
            if (c == '\\')
            {
                var count = 0;
                while (i < commandLine.Length && commandLine[i] == '\\') { count++; i++; }
                if (i < commandLine.Length && commandLine[i] == '"')
                {
                    current.Append('\\', count / 2);
                    if (count % 2 == 1) current.Append('"');
                    else { inQuotes = !inQuotes; }
                    any = true;
                }
                else
                {
                    current.Append('\\', count);
                    i--;
                    any = true;
                }
                continue;
            }
            if (c == '"')
            {
                if (inQuotes && i + 1 < commandLine.Length && commandLine[i + 1] == '"') { current.Append('"'); i++; }
                else inQuotes = !inQuotes;
                any = true;
                continue;
            }
            if (!inQuotes && c is ' ' or '\t')
            {
                if (any) { args.Add(current.ToString()); current.Clear(); any = false; }
                continue;
            }
            current.Append(c);
            any = true;
        }
        if (any) args.Add(current.ToString());
        return args;
    }

    /// <summary>The command lines of a markdown page's first fenced block in <paramref name="language"/> (comment lines left out).</summary>
    public static List<string> DocBlock(string page, string language)
    {
        var start = page.IndexOf("```" + language + "\n", StringComparison.Ordinal);
        if (start < 0) return [];
        start += language.Length + 4;
        var end = page.IndexOf("```", start, StringComparison.Ordinal);
        return [.. page[start..end].Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("rem ", StringComparison.OrdinalIgnoreCase))];
    }
}

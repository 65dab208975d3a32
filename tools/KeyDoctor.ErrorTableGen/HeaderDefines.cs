using System.Text;
using System.Text.RegularExpressions;

namespace KeyDoctor.ErrorTableGen;

/// <summary>One object-like <c>#define NAME body</c> of a C header, with where it came from.</summary>
internal sealed record HeaderDefine(string Name, string Body, string Header, int Line);

/// <summary>
/// Reads the object-like macro definitions of a C header: comments removed, continuation lines joined,
/// function-like macros and empty guards skipped. It is not a preprocessor: conditional blocks are read
/// through, which suits winerror.h and ntstatus.h (their conditionals only guard re-definitions).
/// </summary>
internal static partial class HeaderDefines
{
    public static List<HeaderDefine> Read(string path)
    {
        var header = System.IO.Path.GetFileName(path);
        var text = StripComments(File.ReadAllText(path));
        var defines = new List<HeaderDefine>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNumber = i + 1;
            var line = lines[i].TrimEnd('\r');
            while (line.EndsWith('\\') && i + 1 < lines.Length)
                line = line[..^1] + " " + lines[++i].TrimEnd('\r');

            var match = DefinePattern().Match(line);
            if (!match.Success) continue;
            if (match.Groups["paren"].Success) continue; // function-like: MAKE_HRESULT(sev,fac,code) and friends
            var body = match.Groups["body"].Value.Trim();
            if (body.Length == 0) continue; // include guards such as _WINERROR_
            defines.Add(new HeaderDefine(match.Groups["name"].Value, body, header, lineNumber));
        }
        return defines;
    }

    /// <summary>Replaces comments by spaces, keeping newlines so line numbers still point at the header.</summary>
    private static string StripComments(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                var stop = end < 0 ? text.Length : end + 2;
                for (var j = i; j < stop; j++) result.Append(text[j] == '\n' ? '\n' : ' ');
                i = stop - 1;
            }
            else if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n') i++;
                if (i < text.Length) result.Append('\n');
            }
            else if (text[i] is '"' or '\'')
            {
                // Copy string and character literals verbatim so "/*" inside one is not a comment.
                var quote = text[i];
                result.Append(quote);
                for (i++; i < text.Length && text[i] != quote && text[i] != '\n'; i++)
                {
                    if (text[i] == '\\' && i + 1 < text.Length) result.Append(text[i++]);
                    result.Append(text[i]);
                }
                if (i < text.Length) result.Append(text[i]);
            }
            else
            {
                result.Append(text[i]);
            }
        }
        return result.ToString();
    }

    [GeneratedRegex(@"^\s*#\s*define\s+(?<name>[A-Za-z_]\w*)(?<paren>\()?(?<body>.*)$")]
    private static partial Regex DefinePattern();
}

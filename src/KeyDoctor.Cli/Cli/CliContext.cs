using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;

namespace KeyDoctor.Cli;

/// <summary>
/// Where a command writes. Stdout carries the result (text or one JSON document); stderr carries progress,
/// summaries and errors, so <c>--json</c> output stays machine-readable.
/// </summary>
public sealed class CliContext
{
    private readonly Stream? _utf8Output;
    private IAnsiConsole? _console;
    private IAnsiConsole? _errorConsole;

    public CliContext(TextWriter output, TextWriter error, bool interactive)
    {
        Output = output;
        Error = error;
        Interactive = interactive;
        // A UTF-8 StreamWriter (the process's buffered stdout) takes JSON bytes as they are, without a string between.
        _utf8Output = output is StreamWriter { Encoding: UTF8Encoding } writer ? writer.BaseStream : null;
    }

    /// <summary>
    /// --max-bundle-size, one instance per run: the commands that read bundles add it, and the run applies it to every
    /// bundle the command opens. Commands that never read one do not show it in their help.
    /// </summary>
    public Option<string?> MaxBundleSize { get; } = CommonOptions.MaxBundleSize();

    public TextWriter Output { get; }
    public TextWriter Error { get; }

    private readonly List<(string Root, string Shown)> _shownAs = [];

    /// <summary>From now on, paths under <paramref name="root"/> (an extracted bundle) are shown under <paramref name="shown"/> (the zip as the user named it).</summary>
    public void ShowAs(string root, string shown) => _shownAs.Add((Path.TrimEndingDirectorySeparator(root), shown));

    /// <summary>A path as the user knows it: inside the bundle it was extracted from, never the private temporary folder.</summary>
    public string ShowPath(string path)
    {
        foreach (var (root, shown) in _shownAs)
            if (path.Length > root.Length && path.StartsWith(root, StringComparison.Ordinal) && path[root.Length] == Path.DirectorySeparatorChar)
                return shown + path[root.Length..];
            else if (path == root)
                return shown;
        return path;
    }

    /// <summary>A message with every extracted bundle's folder written as the bundle (error text from the readers names the files it read).</summary>
    /// <param name="encode">How the bundle's name is written into <paramref name="text"/> (Spectre markup escapes its brackets).</param>
    public string ShowPathsIn(string text, Func<string, string>? encode = null)
    {
        foreach (var (root, shown) in _shownAs) text = text.Replace(root, encode is null ? shown : encode(shown), StringComparison.Ordinal);
        return text;
    }

    /// <summary>True when a person is watching a terminal: progress bars and colour are allowed.</summary>
    public bool Interactive { get; }

    /// <summary>Rich console over stdout, for tables and readable text (made on first use: most runs never need it).</summary>
    public IAnsiConsole Console => _console ??= CreateConsole(Output, Interactive, fixedWidth: !Interactive);

    /// <summary>Rich console over stderr, for progress bars that must not pollute stdout.</summary>
    public IAnsiConsole ErrorConsole => _errorConsole ??= CreateConsole(Error, Interactive, fixedWidth: false);

    private static IAnsiConsole CreateConsole(TextWriter writer, bool interactive, bool fixedWidth)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Piped: the width COLUMNS gives, else 160. Commands are never wrapped at all (FindingOutput.WriteCommands).
        if (fixedWidth) console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns >= 40 ? columns : 160;
        return console;
    }

    /// <summary>UTF-8 bytes to stdout, in order with the text written before them.</summary>
    public void WriteUtf8(ReadOnlySpan<byte> utf8)
    {
        if (_utf8Output is not null)
        {
            Output.Flush();
            _utf8Output.Write(utf8);
        }
        else
        {
            Output.Write(Encoding.UTF8.GetString(utf8));
        }
    }

    /// <summary>Writes <paramref name="value"/> as the single, indented JSON document of this command.</summary>
    public void WriteJson<T>(T value, JsonTypeInfo<T> type) => WriteUtf8(ShowPathsInJson(JsonOutput.ToUtf8(value, type, indented: true)));

    /// <summary>A document with every extracted bundle's folder written as the bundle, compared in their JSON-escaped forms.</summary>
    private byte[] ShowPathsInJson(byte[] json)
    {
        if (_shownAs.Count == 0) return json;
        var text = Encoding.UTF8.GetString(json);
        foreach (var (root, shown) in _shownAs)
            text = text.Replace(JsonEncodedText.Encode(root, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value,
                JsonEncodedText.Encode(shown, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Writes one JSON Lines record (one compact object per line).</summary>
    public void WriteJsonLine<T>(T value, JsonTypeInfo<T> type) => WriteUtf8(JsonOutput.ToUtf8(value, type, indented: false));
}

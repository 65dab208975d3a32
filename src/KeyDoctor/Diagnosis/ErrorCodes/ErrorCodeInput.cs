namespace KeyDoctor.Diagnosis.ErrorCodes;

/// <summary>The codes read from a command line, or the reason there are none.</summary>
public sealed record ErrorCodeInputResult(IReadOnlyList<FoundCode> Codes, string? Problem);

/// <summary>
/// Reads the arguments of <c>keydoctor explain</c>. An argument that is a single code (any notation
/// <see cref="ErrorCodeScanner.TryParseStandalone"/> accepts) is taken as it is; consecutive other arguments are
/// joined with spaces and scanned as pasted text, so a message works quoted or not. Each failure is reported once.
/// A number that is not a 32-bit code, or input without any code, is a problem.
/// </summary>
public static class ErrorCodeInput
{
    public static ErrorCodeInputResult Read(IReadOnlyList<string> arguments, ErrorNameTable names)
    {
        var codes = new List<FoundCode>();
        var forms = new Dictionary<(bool, uint), List<string>>();
        var text = new List<string>();

        void Add(FoundCode found)
        {
            if (forms.TryGetValue(found.Code.Identity, out var written))
            {
                foreach (var form in found.Forms)
                    if (!written.Contains(form)) written.Add(form);
                return;
            }
            forms[found.Code.Identity] = written = [.. found.Forms];
            codes.Add(found with { Forms = written });
        }

        void FlushText()
        {
            if (text.Count == 0) return;
            var joined = string.Join(' ', text);
            text.Clear();
            foreach (var found in ErrorCodeScanner.Scan(joined, names)) Add(found);
        }

        if (arguments.Sum(a => (long)a.Length + 1) > ErrorCodeScanner.MaxTextLength)
            return new ErrorCodeInputResult([], $"input longer than {ErrorCodeScanner.MaxTextLength} characters; paste the message, not the whole log");

        foreach (var argument in arguments)
        {
            if (ErrorCodeScanner.TryParseStandalone(argument, names, out var code, out var problem))
            {
                FlushText();
                Add(new FoundCode(argument, 0, code, [argument]));
            }
            else if (problem is not null)
            {
                return new ErrorCodeInputResult([], problem);
            }
            else
            {
                text.Add(argument);
            }
        }
        FlushText();

        if (codes.Count == 0)
        {
            var shown = string.Join(' ', arguments);
            if (shown.Length > 80) shown = shown[..77] + "...";
            return new ErrorCodeInputResult([], arguments.Count == 0
                ? "give an error code or the text of a message"
                : $"no error code found in '{shown}' (expected e.g. 0x80090016, 2148073478, -2146893802, 1312, or a message containing one)");
        }
        return new ErrorCodeInputResult(codes, null);
    }
}

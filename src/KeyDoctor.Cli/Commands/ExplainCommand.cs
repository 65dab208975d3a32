using System.CommandLine;
using System.Globalization;
using KeyDoctor.Cli.Json;
using KeyDoctor.Diagnosis;
using KeyDoctor.Diagnosis.ErrorCodes;
using Spectre.Console;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor explain`: decodes Windows error codes (HRESULT, Win32, NTSTATUS) pasted alone or inside event
/// messages, with their names from winerror.h/ntstatus.h and, for key and certificate errors, what they mean on IIS.
/// </summary>
public static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var input = new Argument<string[]>("code")
        {
            Arity = ArgumentArity.OneOrMore,
            Description = "A finding ID (KD1002: prints its page, from the binary), codes (0x80090016, 80090016, 2148073478, -2146893802, " +
                          "1312, 0xC000006D, NTE_BAD_KEYSET) or the text of a message containing them.",
        };
        var json = CommonOptions.Json();
        var command = new Command("explain",
            "Print a finding's page (keydoctor explain KD1002), or decode Windows error codes (HRESULT, Win32, NTSTATUS) and say what they mean for IIS keys.")
        {
            input, json,
        };
        command.SetAction(parse =>
        {
            var arguments = parse.GetValue(input) ?? [];
            // Finding IDs are pages; whatever else was given is read as codes or message text.
            var ids = arguments.Where(FindingPages.IsFindingId).Select(a => a.ToUpperInvariant()).Distinct().ToList();
            var rest = arguments.Where(a => !FindingPages.IsFindingId(a)).ToArray();
            var pages = new List<ExplainedFinding>();
            foreach (var id in ids)
            {
                var descriptor = KeyDoctor.Diagnosis.FindingCatalog.Find(id);
                var page = FindingPages.Get(id);
                if (descriptor is null || page is null)
                    throw new UserInputException($"there is no finding {id}; the findings are {string.Join(", ", FindingPages.Ids)} ('keydoctor explain KD1001' prints one)");
                pages.Add(new ExplainedFinding(descriptor.Id, descriptor.Title, descriptor.DefaultSeverity, descriptor.Category, page));
            }

            var explained = new List<(FoundCode found, ErrorExplanation explanation)>();
            if (rest.Length > 0 || ids.Count == 0)
            {
                var names = ErrorNameTable.Embedded;
                var read = ErrorCodeInput.Read(rest, names);
                if (read.Problem is not null) throw new UserInputException(read.Problem);
                var explainer = new ErrorExplainer(names, SystemMessages.ForCurrentOs());
                explained = read.Codes.Select(found => (found, explanation: explainer.Explain(found.Code))).ToList();
            }
            if (parse.GetValue(json))
                context.WriteJson(new ExplainDocument(explained.Select(e => ToJson(e.found, e.explanation)).ToList(), pages.Count > 0 ? pages : null),
                    KeyDoctorJson.Default.ExplainDocument);
            else
            {
                foreach (var page in pages)
                {
                    MarkdownText.Print(context.Console, context.Output, page.Page);
                    context.Console.WriteLine();
                }
                foreach (var (found, explanation) in explained) Render(context.Console, found, explanation);
            }
            return ExitCodes.Healthy;
        });
        return command;
    }

    private static string Hex(uint value) => $"0x{value:X8}";

    private static ExplainedCode ToJson(FoundCode found, ErrorExplanation e)
    {
        var code = e.Code;
        return new ExplainedCode(
            Input: found.Text,
            SeenAs: found.Forms,
            Kind: code.Kind switch { ErrorCodeKind.Win32 => "win32", ErrorCodeKind.NtStatus => "ntstatus", _ => "hresult" },
            Code: Hex(code.Bits),
            Unsigned: code.Bits,
            Signed: code.SignedBits,
            Severity: code.Severity,
            Customer: code.IsCustomer,
            NtBit: code.NtBitSet,
            ReservedBit: code.ReservedBitSet,
            XBit: code.XBitSet,
            Facility: new ExplainedFacility(code.Facility, e.FacilityNames.FirstOrDefault(), e.FacilityNames),
            CodeInFacility: code.CodeInFacility,
            Name: e.Name,
            NameKnown: e.Name is not null,
            Names: e.Names.Select(n => n.Name).ToList(),
            Win32: code.Win32Error is { } w32
                ? new ExplainedWin32(w32, e.Win32Names.FirstOrDefault()?.Name, e.Win32Names.Select(n => n.Name).ToList())
                : null,
            NtStatus: code.NtStatus is { } status && code.Kind != ErrorCodeKind.NtStatus
                ? new ExplainedNtStatus(Hex(status), e.NtStatusNames.FirstOrDefault()?.Name, e.NtStatusNames.Select(n => n.Name).ToList())
                : null,
            HresultFromNt: code.HresultFromNt is { } h ? Hex(h) : null,
            Message: e.Message,
            MessageSource: e.MessageSource switch { MessageSource.System => "system", MessageSource.KeyDoctor => "keydoctor", _ => "none" },
            Advice: e.Note?.Advice,
            Run: e.Note?.Run ?? []);
    }

    private static void Render(IAnsiConsole console, FoundCode found, ErrorExplanation e)
    {
        var code = e.Code;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string label, string value) => grid.AddRow(new Markup($"[grey]{label}[/]"), new Text(value));

        Row("input", string.Join(" = ", found.Forms));
        var numbers = $"{Hex(code.Bits)} = {code.Bits.ToString(CultureInfo.InvariantCulture)} = {code.SignedBits.ToString(CultureInfo.InvariantCulture)}";
        Row(code.Kind == ErrorCodeKind.NtStatus ? "NTSTATUS" : "HRESULT", numbers);
        var facility = e.FacilityNames.Count > 0 ? $"{code.Facility} {string.Join(" = ", e.FacilityNames)}" : $"{code.Facility} (unknown)";
        var bits = code.Kind == ErrorCodeKind.NtStatus
            ? $"customer {Bit(code.IsCustomer)}"
            : $"customer {Bit(code.IsCustomer)}, N {Bit(code.NtBitSet)}" + (code.XBitSet ? ", X 1" : "") + (code.ReservedBitSet ? ", R 1" : "");
        Row("fields", $"severity {code.Severity}, {bits}, facility {facility}, code 0x{code.CodeInFacility:X4} ({code.CodeInFacility})");
        Row("name", e.Name is null
            ? "unknown (not in winerror.h or ntstatus.h)"
            : e.Names.Count > 1 ? $"{e.Name} (also {string.Join(", ", e.Names.Skip(1).Select(n => n.Name))})" : e.Name);
        if (code.Win32Error is { } w32 && !(code.Kind == ErrorCodeKind.Hresult && code.Bits == 0))
            Row("Win32", $"{w32} {e.Win32Names.FirstOrDefault()?.Name ?? "(unnamed)"}" +
                         (code.Kind == ErrorCodeKind.Win32 ? $", as HRESULT {Hex(code.Bits)}" : $", wrapped as HRESULT_FROM_WIN32"));
        if (code.NtStatus is { } status && code.Kind != ErrorCodeKind.NtStatus)
            Row("NTSTATUS", $"{Hex(status)} {e.NtStatusNames.FirstOrDefault()?.Name ?? "(unnamed)"}, wrapped as HRESULT_FROM_NT");
        if (code.HresultFromNt is { } asHresult)
            Row("as HRESULT", $"{Hex(asHresult)} (HRESULT_FROM_NT)");
        Row("message", e.MessageSource == MessageSource.KeyDoctor ? $"{e.Message} (KeyDoctor's words)" : e.Message);
        if (e.Note is { } note)
        {
            Row("on IIS", note.Advice);
            if (note.Run.Count > 0) Row("run next", string.Join("; ", note.Run));
        }

        var title = $"{Hex(code.Bits)} {e.Name ?? "unknown name"}";
        console.Write(new Panel(grid).Header(Markup.Escape(title)).Border(BoxBorder.Rounded));
    }

    private static string Bit(bool value) => value ? "1" : "0";
}

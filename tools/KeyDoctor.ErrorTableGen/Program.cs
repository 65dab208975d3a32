// Generates src/KeyDoctor/Diagnosis/ErrorCodes/ErrorNames.tsv and Facilities.tsv from mingw-w64's winerror.h and
// ntstatus.h. Usage (from the repository):
//   dotnet run --project tools/KeyDoctor.ErrorTableGen [-- [--include DIR] [--out DIR] [--check]]
// --check writes nothing and exits 1 when the committed tables differ from the headers.
using KeyDoctor.ErrorTableGen;

var include = "/usr/share/mingw-w64/include";
string? output = null;
var check = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--include" when i + 1 < args.Length: include = args[++i]; break;
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--check": check = true; break;
        default:
            Console.Error.WriteLine("usage: KeyDoctor.ErrorTableGen [--include DIR] [--out DIR] [--check]");
            return 2;
    }
}
output ??= Path.Combine(FindRepositoryRoot(), "src", "KeyDoctor", "Diagnosis", "ErrorCodes");

ErrorTable table;
try
{
    table = ErrorTable.FromHeaders(include);
}
catch (Exception ex) when (ex is FormatException or IOException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 2;
}

var files = new[] { (ErrorTable.ErrorNamesFile, table.ErrorNamesText()), (ErrorTable.FacilitiesFile, table.FacilitiesText()) };
var stale = 0;
foreach (var (name, text) in files)
{
    var path = Path.Combine(output, name);
    if (check)
    {
        var same = File.Exists(path) && File.ReadAllText(path) == text;
        if (!same) { stale++; Console.Error.WriteLine($"{path} differs from the headers in {include}"); }
    }
    else
    {
        File.WriteAllText(path, text);
    }
}
Console.WriteLine($"{table.Names.Count} names, {table.Facilities.Count} facilities from {include}" + (check ? (stale == 0 ? ": up to date" : ": STALE") : $" -> {output}"));
return stale == 0 ? 0 : 1;

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "KeyDoctor.slnx"))) return dir.FullName;
    throw new InvalidOperationException("run from inside the KeyDoctor repository, or pass --out");
}

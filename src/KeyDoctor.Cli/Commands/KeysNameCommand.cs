using System.CommandLine;
using KeyDoctor.Cli.Json;
using KeyDoctor.Formats.KeyFiles;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keys name`: the key-file name Windows gives a container.</summary>
internal static class KeysNameCommand
{
    public static Command Create(CliContext context)
    {
        var container = new Argument<string>("container") { Description = "Container (CAPI) or key (CNG) name, e.g. iisWasKey." };
        var cng = new Option<bool>("--cng") { Description = "Use the CNG rule (UTF-16LE name) instead of the CryptoAPI one (ANSI)." };
        var guid = new Option<string?>("--guid") { Description = "MachineGuid: print the whole file name <prefix>_<guid>." };
        var json = CommonOptions.Json();
        var command = new Command("name", "Print the key-file name prefix (MD5 of the lower-cased name, as four little-endian DWORDs).")
        {
            container, cng, guid, json,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(container)!;
            var kind = parse.GetValue(cng) ? KeyProviderKind.Cng : KeyProviderKind.Capi;
            var machineGuid = KeysCommand.ParseGuid(parse.GetValue(guid), "--guid");
            var prefix = ContainerName.Prefix(name, kind);
            var fileName = machineGuid is { } g ? ContainerName.FileName(name, kind, g) : null;
            ContainerName.TryParsePrefix(prefix, out var digest);
            if (parse.GetValue(json))
                context.WriteJson(new KeyNameDocument(name, KeysJson.KindName(kind), prefix, fileName, WellKnownContainers.Find(digest, kind)?.UsedBy),
                    KeyDoctorJson.Default.KeyNameDocument);
            else
                context.Output.WriteLine(fileName ?? prefix);
            return ExitCodes.Healthy;
        });
        return command;
    }
}

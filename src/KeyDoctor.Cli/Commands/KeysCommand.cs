using System.CommandLine;

namespace KeyDoctor.Cli.Commands;

/// <summary>
/// `keydoctor keys`: name, list and show CryptoAPI and CNG key container files offline, convert key sets, and (on
/// Windows) move them in and out of the machine store. One file per subcommand: KeysNameCommand, KeysListCommand,
/// KeysShowCommand, KeysConvertCommand, KeysStoreCommand.
/// </summary>
public static class KeysCommand
{
    public static Command Create(CliContext context) =>
        new("keys", "Read CryptoAPI (RSA\\MachineKeys) and CNG (Crypto\\Keys) key files offline: names, keys, integrity.")
        {
            KeysNameCommand.Create(context),
            KeysListCommand.Create(context),
            KeysShowCommand.Create(context),
            KeysConvertCommand.Create(context),
            KeysStoreCommand.CreateExport(context),
            KeysStoreCommand.CreateImport(context),
            KeysCleanCommand.Create(context),
        };

    internal static Option<string?> MachineGuidOption() => new("--machine-guid")
    {
        Description = "The machine's MachineGuid (HKLM\\SOFTWARE\\Microsoft\\Cryptography); file-name suffixes are checked against it.",
    };

    internal static Guid? ParseGuid(string? text, string option)
    {
        if (text is null) return null;
        return Guid.TryParse(text.Trim('{', '}'), out var guid)
            ? guid
            : throw new UserInputException($"{option}: '{text}' is not a GUID");
    }
}

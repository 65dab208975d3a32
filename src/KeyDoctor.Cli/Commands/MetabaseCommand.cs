using System.CommandLine;
using KeyDoctor.Crypto;
using KeyDoctor.Crypto.KeySets;
using KeyDoctor.Formats.Iis.Metabase;

namespace KeyDoctor.Cli.Commands;

/// <summary>`keydoctor metabase`: does this key set open this IIS 6 MetaBase.xml, before IISADMIN is started.</summary>
public static class MetabaseCommand
{
    public static Command Create(CliContext context) =>
        new("metabase", "IIS 6 MetaBase.xml: check its SessionKey against a key set.")
        {
            CreateVerify(context),
        };

    private static Command CreateVerify(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "MetaBase.xml." };
        var key = new Option<string>("--key")
        {
            Description = "The \"Microsoft Internet Information Server\" key set: a <KeyDoctorKeySet> with AT_KEYEXCHANGE and AT_SIGNATURE.",
            Required = true,
        };
        var json = CommonOptions.Json();
        var command = new Command("verify", "Unwrap the SessionKey with the exchange key and check its signature with the signature key.")
        {
            file, key, json,
        };
        command.SetAction(parse =>
        {
            var keySet = KeySetConverter.Read(KeysCommand.ReadKeyFile(parse.GetValue(key)!));
            var metabase = MetabaseXml.Read(parse.GetValue(file)!);
            var sessionKey = metabase.SessionKey;
            MetabaseKeyVerdict? verdict = sessionKey.Blob is { } blob ? MetabaseKeyCheck.Verify(blob, keySet) : null;
            var message = verdict?.Message ?? $"SessionKey cannot be checked: {sessionKey.Problem}";
            if (parse.GetValue(json))
                context.WriteJson(new
                {
                    file = parse.GetValue(file),
                    sessionKey = sessionKey.Status.ToString(),
                    exchangeKeyOpens = verdict?.ExchangeKeyOpens,
                    signatureValid = verdict?.SignatureValid,
                    message,
                });
            else
                context.Output.WriteLine(message);
            return verdict?.Healthy == true ? ExitCodes.Healthy : ExitCodes.Findings;
        });
        return command;
    }
}

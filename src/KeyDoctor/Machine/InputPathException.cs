namespace KeyDoctor.Machine;

/// <summary>
/// The path the user gave is not what the command reads: it does not exist, it is a file where a folder is needed
/// (or the reverse), or it is a folder that is not a Windows system drive. The message is a whole sentence that
/// names the path and says what to give instead, so it is shown as it is.
/// </summary>
public sealed class InputPathException(string message) : IOException(message);

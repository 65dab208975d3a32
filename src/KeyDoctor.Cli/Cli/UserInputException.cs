namespace KeyDoctor.Cli;

/// <summary>A problem with what the user gave us. Reported as one line on stderr with exit code 2.</summary>
public sealed class UserInputException(string message) : Exception(message);

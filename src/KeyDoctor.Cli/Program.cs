using System.Text;
using KeyDoctor.Cli;

// Stdout is buffered (the console writer flushes every write) and UTF-8 without a BOM on every OS; stderr stays
// unbuffered so progress and errors appear at once. On Windows the console's code page (437, 850, ...) would turn
// box drawing and "·" into "+-" and "?" on stderr and in a console: UTF-8 there too, the same characters as on Linux.
if (OperatingSystem.IsWindows())
{
    try
    {
        Console.OutputEncoding = new UTF8Encoding(false);
    }
    catch (IOException)
    {
        // No console at all (a service, a redirected handle Windows refuses to retag): the streams below are UTF-8 anyway.
    }
}
var interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected;
using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 64 * 1024) { AutoFlush = false };
using var stderr = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true };
return KeyDoctorApp.Run(args, stdout, stderr, interactive);

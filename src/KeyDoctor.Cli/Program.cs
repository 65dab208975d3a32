using System.Text;
using KeyDoctor.Cli;

// Stdout is buffered (the console writer flushes every write) and UTF-8 without a BOM on every OS; stderr stays
// unbuffered so progress and errors appear at once.
var interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected;
using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 64 * 1024) { AutoFlush = false };
return KeyDoctorApp.Run(args, stdout, Console.Error, interactive);

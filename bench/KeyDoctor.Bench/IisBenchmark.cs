using System.Text;
using KeyDoctor.Formats.Iis;

namespace KeyDoctor.Bench;

/// <summary>
/// applicationHost.config reading speed: a real file, and a generated server with many sites (the size of a large
/// shared-hosting box), against Python's ElementTree parsing the same bytes as the baseline an admin might script.
/// Usage: iis &lt;applicationHost.config&gt; [sites=20000]
/// </summary>
public static class IisBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: iis <applicationHost.config> [sites]");
            return 2;
        }
        var real = File.ReadAllBytes(args[0]);
        var sites = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
        var generated = Generate(sites);
        var generatedPath = Path.Combine(Path.GetTempPath(), $"kd-bench-applicationHost-{Environment.ProcessId}.config");
        File.WriteAllBytes(generatedPath, generated);
        try
        {
            Report("real file", real, 50);
            Report($"generated, {sites} sites", generated, 10);
            var load = Measure.Best(10, () => SafeXml.Load(generated, "x"));
            Console.WriteLine($"  of which loading the XML (XDocument with line numbers): {load.TotalMilliseconds:F1} ms");
            var python = Measure.BestExternal(5, "/usr/bin/python3", "-c",
                "import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); " +
                "print(sum(1 for _ in r.iter('binding')))", generatedPath);
            Console.WriteLine($"python3 ElementTree, generated: {python.TotalMilliseconds:F1} ms " +
                              $"({Measure.MiBps(generated.Length, python):F1} MiB/s, includes interpreter start)");
            Console.WriteLine($"peak RSS: {Measure.PeakRssBytes() / 1048576.0:F0} MiB");
        }
        finally
        {
            File.Delete(generatedPath);
        }
        return 0;
    }

    private static void Report(string name, byte[] data, int runs)
    {
        ApplicationHostConfig? config = null;
        var time = Measure.Best(runs, () => config = ApplicationHostConfig.Parse(data));
        Console.WriteLine($"{name}: {data.Length / 1024.0:F0} KiB, {config!.Sites.Count} sites, " +
                          $"{config.Sites.Sum(s => s.Bindings.Count)} bindings, {config.EncryptedAttributes.Count} encrypted values: " +
                          $"{time.TotalMilliseconds:F1} ms ({Measure.MiBps(data.Length, time):F1} MiB/s)");
    }

    private static byte[] Generate(int sites)
    {
        var xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration>\n<system.applicationHost>\n<applicationPools>\n");
        for (var i = 1; i <= sites; i++)
            xml.Append($"<add name=\"pool{i}\"><processModel identityType=\"SpecificUser\" userName=\"u{i}\" password=\"[enc:IISWASOnlyAesProvider:wI5whfVYdG8CDd+HEpQ4EdjgdQSTp6RWGRhRNrNLs1NWfEyJeukGRB33KtflqTG5pwBdpFCeEY1j8wigviESNw==:enc]\" /></add>\n");
        xml.Append("</applicationPools>\n<sites>\n");
        for (var i = 1; i <= sites; i++)
            xml.Append($"<site name=\"site{i}\" id=\"{i}\"><application path=\"/\" applicationPool=\"pool{i}\"><virtualDirectory path=\"/\" physicalPath=\"D:\\sites\\{i}\" /></application>" +
                       $"<bindings><binding protocol=\"http\" bindingInformation=\"*:80:site{i}.example.com\" /><binding protocol=\"https\" bindingInformation=\"*:443:site{i}.example.com\" sslFlags=\"1\" /></bindings></site>\n");
        xml.Append("</sites>\n</system.applicationHost>\n</configuration>\n");
        return Encoding.UTF8.GetBytes(xml.ToString());
    }
}

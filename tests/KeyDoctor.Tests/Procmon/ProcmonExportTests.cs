using System.Security;
using System.Text;
using KeyDoctor.Formats;
using KeyDoctor.Formats.Procmon;

namespace KeyDoctor.Tests.Procmon;

/// <summary>Procmon's CSV and XML exports give the same events as the capture.</summary>
public class ProcmonExportTests
{
    /// <summary>
    /// An XML export in Procmon's shape (processlist with ProcessIndex, eventlist whose children are the columns with
    /// spaces as underscores), made from the first rows of the real CSV export: the XML reader must give the same
    /// five columns, and the process details from the process list.
    /// </summary>
    [Fact]
    public void AnXmlExportReadsLikeTheCsvExport()
    {
        using var csv = ProcmonCsvReader.Open(ProcmonFixtures.Path("LogFileUTC64Registry.csv"));
        var rows = csv.ReadEvents().Take(300).ToList();
        var processes = rows.Select(r => r.Process).Distinct().ToList();
        var xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<procmon>\n<processlist>\n");
        foreach (var p in processes)
            xml.Append($"<process><ProcessIndex>{processes.IndexOf(p)}</ProcessIndex><ProcessId>{p.ProcessId}</ProcessId><ProcessName>{X(p.Name)}</ProcessName>" +
                       $"<ImagePath>{X(p.ImagePath)}</ImagePath><CommandLine>{X(p.CommandLine)}</CommandLine><Owner>{X(p.User)}</Owner><modulelist><module><Path>x.dll</Path></module></modulelist></process>\n");
        xml.Append("</processlist>\n<eventlist>\n");
        foreach (var r in rows)
            xml.Append($"<event><ProcessIndex>{processes.IndexOf(r.Process)}</ProcessIndex><Time_of_Day>7:27:31.7947753 AM</Time_of_Day><Process_Name>{X(r.Process.Name)}</Process_Name>" +
                       $"<PID>{r.Process.ProcessId}</PID><Operation>{X(r.Operation)}</Operation><Path>{X(r.Path)}</Path><Result>{X(r.Result)}</Result><Detail>{X(r.Detail)}</Detail></event>\n");
        xml.Append("</eventlist>\n</procmon>\n");

        using var reader = new ProcmonXmlReader(new MemoryStream(Encoding.UTF8.GetBytes(xml.ToString())));
        var events = reader.ReadEvents().ToList();
        Assert.Equal(rows.Count, events.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i].Process.Name, events[i].Process.Name);
            Assert.Equal(rows[i].Process.ProcessId, events[i].Process.ProcessId);
            Assert.Equal(rows[i].Operation, events[i].Operation);
            Assert.Equal(rows[i].Path, events[i].Path);
            Assert.Equal(rows[i].Result, events[i].Result);
            Assert.Equal(rows[i].Process.User, events[i].Process.User);
            Assert.Equal(rows[i].Process.CommandLine, events[i].Process.CommandLine);
        }
        Assert.Equal(ProcmonEventClass.Registry, events[0].Class);
        Assert.Equal(new TimeSpan(0, 7, 27, 31, 794) + TimeSpan.FromTicks(7753), events[0].Time!.Value.TimeOfDay); // from Time_of_Day

        var file = Path.Combine(Path.GetTempPath(), $"kd-export-{Guid.NewGuid():N}.xml");
        File.WriteAllText(file, xml.ToString());
        try
        {
            var result = Cli.Run("trace", file, "--result", "NAME NOT FOUND");
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(rows.Count(r => r.Result == "NAME NOT FOUND"), result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void MalformedExportsAreErrorsWithTheirPlace()
    {
        const string header = "\"Time of Day\",\"Process Name\",\"PID\",\"Operation\",\"Path\",\"Result\",\"Detail\"\n";
        var good = "\"6:55:07.0236729 AM\",\"w3wp.exe\",\"4242\",\"CreateFile\",\"C:\\x\",\"ACCESS DENIED\",\"\"\n";
        using (var csv = new ProcmonCsvReader(new MemoryStream(Encoding.UTF8.GetBytes(header + good + "\"1\",\"2\"\n"))))
        {
            var events = new List<ProcmonEvent>();
            var ex = Assert.Throws<MalformedDataException>(() => { foreach (var e in csv.ReadEvents()) events.Add(e); });
            Assert.Single(events);
            Assert.Equal(0xC0000022u, events[0].Status);
            Assert.Contains("row 2 has 2 fields", ex.Message);
            Assert.Equal(header.Length + good.Length, ex.Offset);
        }
        Assert.Throws<MalformedDataException>(() => new ProcmonCsvReader(new MemoryStream("a,b,c\n1,2,3\n"u8.ToArray())));
        using var xml = new ProcmonXmlReader(new MemoryStream("<procmon><eventlist><event><Operation>x</Operation></event><event>"u8.ToArray()));
        Assert.Throws<MalformedDataException>(() => xml.ReadEvents().ToList());
    }

    private static string X(string? text) => SecurityElement.Escape(text ?? "");
}

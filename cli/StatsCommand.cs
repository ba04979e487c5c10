using Proxy.Shared.Control;
using Proxy.Shared.Stats;

namespace Proxy.Cli;

/// <summary>`proxyctl stats`: reads the memory-mapped board file only, never asks the supervisor.</summary>
public static class StatsCommand
{
    public static async Task<int> RunAsync(StatsOptions o)
    {
        string path = o.Board ?? InstancePaths.StatsBoardOf(o.File);
        if (Read(path) is not { } snapshot) return 1;
        if (o.Csv)
        {
            Console.Write(StatsCsv.Render(snapshot, perProcess: true));
            return 0;
        }
        if (o.Prometheus)
        {
            Console.Write(PrometheusExporter.Render(snapshot, StatsInfo.ProductVersion));
            return 0;
        }
        if (o.Json)
        {
            Console.WriteLine(StatsJson.Render(snapshot, perProcess: true));
            return 0;
        }
        if (!o.Watch)
        {
            Console.Write(Table(snapshot, o.PerProcess));
            return 0;
        }
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        while (!stop.IsCancellationRequested)
        {
            // Clear and home the cursor (ANSI), so the table refreshes in place. The file is opened anew
            // each time: a reload replaces it (rename), and a long-held mapping would show the old one.
            if (Read(path) is not { } now) return 1;
            Console.Write("\u001b[H\u001b[2J" + Table(now, o.PerProcess));
            try { await Task.Delay(TimeSpan.FromSeconds(1), stop.Token); } catch (OperationCanceledException) { }
        }
        return 0;
    }

    private static StatsSnapshot? Read(string path)
    {
        try
        {
            return StatsBoardReader.ReadSnapshot(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or TimeoutException)
        {
            Console.Error.WriteLine($"cannot read the stats board {path}: {e.Message}");
            return null;
        }
    }

    private static string Table(StatsSnapshot snapshot, bool perProcess)
    {
        string header = $"{snapshot.TakenAt:yyyy-MM-dd HH:mm:ss}Z  workers {snapshot.Workers.Count(w => w.IsLive)}  " +
                        $"conns {snapshot.CurrConns()}  total {snapshot.CumConns()}  " +
                        $"rate {snapshot.Info(InfoField.ConnRate)}/s\n";
        return header + StatsTable.Render(snapshot, perProcess);
    }
}

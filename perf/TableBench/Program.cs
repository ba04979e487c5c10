using System.Diagnostics;
using System.Globalization;
using Proxy.Shared.Config;
using Proxy.Shared.Tables;

// One stick table update under contention (issue 19): what `http-request track-sc0 src` costs per request once the
// entry exists (StickTracker.BeginRequest: lock the bucket, http_req_cnt += 1, http_req_rate += 1, renew, unlock),
// timed in 1 process, then in 2 processes at once on the SAME key (the worst case: one bucket lock, one cache line
// bouncing between two cores), then 2 processes on different keys. The total count is checked exact at the end.
//
// Usage: dotnet run -c Release --project perf/TableBench [-- --seconds S]
static unsafe class Program
{
    static int Main(string[] args)
    {
        double seconds = 1.0;
        string? child = null, key = "1";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--child": child = args[++i]; key = args[++i]; break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        var config = new StickTableConfig("bench", StickKeyType.Ip, 4, 1024, 0, false, null,
            [new StickDataSpec(StickDataType.HttpReqCnt), new StickDataSpec(StickDataType.HttpReqRate, Period: 10_000)],
            new SourceLocation("bench", 1));
        if (child is not null) return Run(child, config, key, seconds);

        string path = Path.Combine(Path.GetTempPath(), $"table-bench-{Environment.ProcessId}.table");
        try
        {
            using var table = StickTableFile.OpenOrCreate(path, config, 4, out _);
            long one = Measure(path, seconds, ["1"]);
            long same = Measure(path, seconds, ["2", "2"]);
            long apart = Measure(path, seconds, ["3", "4"]);
            Console.WriteLine($"exact: counts in the table match the updates made: {Total(table) == one + same + apart}");
            return 0;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs one child process per key at once; prints ns per update; returns the updates made.</summary>
    private static long Measure(string path, double seconds, string[] keys)
    {
        var children = keys.Select(k =>
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "--child", path, k, "--seconds", seconds.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
            return Process.Start(psi)!;
        }).ToList();
        long total = 0;
        var ns = new List<double>();
        foreach (var c in children)
        {
            var parts = c.StandardOutput.ReadToEnd().Trim().Split(' ');
            c.WaitForExit();
            total += long.Parse(parts[0], CultureInfo.InvariantCulture);
            ns.Add(double.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        string what = keys.Length == 1 ? "1 process" : keys.Distinct().Count() == 1 ? "2 processes, same key" : "2 processes, 2 keys";
        Console.WriteLine($"{what,-24}: {string.Join(" / ", ns.Select(n => n.ToString("F1", CultureInfo.InvariantCulture)))} ns per update, {total / seconds / 1e6:F1} M updates/s in all");
        return total;
    }

    private static int Run(string path, StickTableConfig config, string key, double seconds)
    {
        using var table = StickTableFile.Open(path, config);
        byte[] k = [10, 0, 0, byte.Parse(key, CultureInfo.InvariantCulture)];
        var r = table.Acquire(k, Environment.TickCount64);
        long n = 0;
        var sw = Stopwatch.StartNew();
        long until = (long)(seconds * Stopwatch.Frequency);
        while (sw.ElapsedTicks < until)
        {
            for (int i = 0; i < 1000; i++)
            {
                long now = Environment.TickCount64;
                byte* e = table.Enter(r);
                table.Add(e, StickDataType.HttpReqCnt, now, 1);
                table.Add(e, StickDataType.HttpReqRate, now, 1);
                table.Renew(e, now);
                table.Release(e);
            }
            n += 1000;
        }
        Console.WriteLine($"{n} {sw.Elapsed.TotalNanoseconds / n:F1}");
        return 0;
    }

    private static long Total(StickTableFile table)
    {
        long sum = 0;
        foreach (var e in table.Snapshot(Environment.TickCount64)) sum += e.Values[0];
        return sum;
    }
}

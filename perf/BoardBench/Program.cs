using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Proxy.Shared.Stats;

// Times the stats board's writers in a tight loop: the worker's hot path (ProxyCounters: a ref property into its
// board row, then one Interlocked op on the mmap'd file), StatsSlot.Add / Increment, single thread and two threads
// on different slots, next to the same Interlocked op on a process-local array (what the worker's counters were
// before they moved onto the board) and a plain non-atomic add. Then puts the cost beside one proxied request:
// --rps is the keep-alive requests/s one pinned worker served in perf/bench.sh (figure 1), so one request costs
// ~1e9/rps ns of that worker's core.
//
// --request-ns gives the cost of one request directly: perf/bench.sh passes the CPU time this proxy's
// processes spent per keep-alive request in figure 1 (a better measure on a shared box than 1/rps).
// Updates per request: a proxied keep-alive HTTP request makes about 20 board updates (frontend: req_tot, hrsp, bin,
// bout; backend: scur up/down, stot, req_tot, hrsp, bin, bout, lbtot; server: hrsp, bin, bout, lbtot and the four
// timer updates, ctime/rtime/ttime sums and their count); all of them land on the board at once, none is copied
// later. The counters kept privately before made the same updates but the four timer ones, at the same cost each.
//
// Usage: dotnet run -c Release --project perf/BoardBench [-- --rps N | --request-ns NS] [--updates-per-request U] [--seconds S]

static class Program
{
    private const int Objects = 8;

    static int Main(string[] args)
    {
        double rps = 0, requestNsArg = 0, seconds = 1.0;
        int updatesPerRequest = 20;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rps": rps = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--request-ns": requestNsArg = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--updates-per-request": updatesPerRequest = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }

        string path = Path.Combine(Path.GetTempPath(), $"board-bench-{Environment.ProcessId}.stats");
        var objects = new List<StatObjectDescriptor> { StatObjectDescriptor.Frontend("fe"), StatObjectDescriptor.Backend("be") };
        for (int s = 0; s < Objects - 2; s++) objects.Add(StatObjectDescriptor.Server("be", $"s{s}"));
        try
        {
            using var board = StatsBoard.Create(path, objects, slotCount: 4);
            var a = board.Slot(0);
            var b = board.Slot(1);
            int obj = board.IndexOf("be/s0");

            Console.WriteLine($"board-bench: {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, {seconds:0.#} s per case, median of 5");
            var counters = new InPlaceCounters(a, obj);
            var rows = new List<(string Name, double Ns)>
            {
                ("ProxyCounters path: Interlocked.Add(ref row property), 1 thread", Measure(seconds, 1, t => () => InPlaceLoop(counters))),
                ("StatsSlot.Increment, 1 thread", Measure(seconds, 1, t => () => IncLoop(a, obj))),
                ("StatsSlot.Add(Bin, n), 1 thread", Measure(seconds, 1, t => () => AddLoop(a, obj))),
                ("StatsSlot.Add, 2 threads, own slot each", Measure(seconds, 2, t => { var s = t == 0 ? a : b; return () => AddLoop(s, obj); })),
                ("StatsSlot.Add, 2 threads, same slot+field (contended)", Measure(seconds, 2, t => () => AddLoop(a, obj))),
                ("Interlocked.Add on a local long[] (the counters before: private copy)", Measure(seconds, 1, t => { var arr = new long[64]; return () => LocalLoop(arr); })),
                ("plain long += n (no atomic), 1 thread", Measure(seconds, 1, t => { var arr = new long[64]; return () => PlainLoop(arr); })),
            };
            Console.WriteLine();
            Console.WriteLine("| case | ns/update |");
            Console.WriteLine("|---|---:|");
            foreach (var (name, ns) in rows) Console.WriteLine($"| {name} | {ns:0.00} |");

            double single = rows[0].Ns;
            Console.WriteLine();
            if (rps > 0 || requestNsArg > 0)
            {
                double requestNs = requestNsArg > 0 ? requestNsArg : 1e9 / rps;
                double cost = single * updatesPerRequest;
                Console.WriteLine(requestNsArg > 0
                    ? $"one proxied request costs ~{requestNs:0} ns of CPU (given);"
                    : $"one proxied request (keep-alive, {rps:0} req/s on one worker core) ~ {requestNs:0} ns;");
                Console.WriteLine($"{updatesPerRequest} board updates per request x {single:0.00} ns = {cost:0.0} ns = {100 * cost / requestNs:0.00}% of a request");
                Console.WriteLine($"RESULT ns_per_update={single:0.00} ns_two_threads={rows[3].Ns:0.00} request_ns={requestNs:0} updates={updatesPerRequest} pct={100 * cost / requestNs:0.000}");
            }
            else
            {
                Console.WriteLine("pass --rps N or --request-ns NS (figure 1 of perf/bench.sh) to see the share of one proxied request");
                Console.WriteLine($"RESULT ns_per_update={single:0.00} ns_two_threads={rows[3].Ns:0.00}");
            }
        }
        finally
        {
            File.Delete(path);
        }
        return 0;
    }

    private const int Batch = 1 << 20;

    // Each loop does Batch updates; the harness repeats loops until the time is up and divides.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void IncLoop(StatsSlot s, int obj) { for (int i = 0; i < Batch; i++) s.Increment(obj, StatField.Stot); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void AddLoop(StatsSlot s, int obj) { for (int i = 0; i < Batch; i++) s.Add(obj, StatField.Bin, i & 0xfff); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void InPlaceLoop(InPlaceCounters c) { for (int i = 0; i < Batch; i++) Interlocked.Add(ref c.bin, i & 0xfff); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void LocalLoop(long[] a) { for (int i = 0; i < Batch; i++) Interlocked.Add(ref a[5], i & 0xfff); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void PlainLoop(long[] a) { for (int i = 0; i < Batch; i++) a[5] += i & 0xfff; }

    /// <summary>ns per update: median over 5 repetitions of `threads` threads each running loops for `seconds`/5.</summary>
    static double Measure(double seconds, int threads, Func<int, Action> make)
    {
        var loops = Enumerable.Range(0, threads).Select(make).ToArray();
        foreach (var l in loops) l(); // warm up (tier-up)
        var samples = new List<double>();
        for (int rep = 0; rep < 5; rep++)
        {
            long deadline = Stopwatch.GetTimestamp() + (long)(seconds / 5 * Stopwatch.Frequency);
            var counts = new long[threads];
            var start = new Barrier(threads + 1);
            var ts = new Thread[threads];
            var elapsed = new double[threads];
            for (int t = 0; t < threads; t++)
            {
                int k = t;
                ts[t] = new Thread(() =>
                {
                    start.SignalAndWait();
                    var sw = Stopwatch.StartNew();
                    long n = 0;
                    do { loops[k](); n += Batch; } while (Stopwatch.GetTimestamp() < deadline);
                    elapsed[k] = sw.Elapsed.TotalNanoseconds;
                    counts[k] = n;
                }) { IsBackground = true };
                ts[t].Start();
            }
            start.SignalAndWait();
            foreach (var th in ts) th.Join();
            // Per-thread ns/update, averaged: with 2 threads on 2 cores this is the cost each writer sees.
            samples.Add(Enumerable.Range(0, threads).Average(t => elapsed[t] / counts[t]));
        }
        samples.Sort();
        return samples[2];
    }
}

/// <summary>The shape of worker/Stats/ProxyCounters (a worker type this benchmark cannot reference): a pointer to the object's board row and ref properties over it.</summary>
sealed unsafe class InPlaceCounters(StatsSlot slot, int objectIndex)
{
    private long* _row = slot.Row(objectIndex);   // not readonly: ProxyCounters rebinds it once

    public ref long bin => ref _row[(int)StatField.Bin];
}

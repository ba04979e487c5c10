using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Proxy.Worker.Http;

// Times the worker's HTTP/1.1 head parser (Http1RequestParser / Http1ResponseParser over one HttpHead, as an
// HttpSession uses them) on a browser-like GET (request line + 8 header fields, 431 bytes) and a typical response
// head (status line + 8 fields), each whole in one segment and cut in three segments (what a pipe holds after
// several reads). Reports ns per head (median of 5 interleaved rounds) and bytes allocated per head (GC.GetAllocatedBytesForCurrentThread
// over every iteration of a run: the target is 0).
//
// Usage: dotnet run -c Release --project perf/ParserBench [-- --seconds S]

static class Program
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes(
        "GET /products/list?category=shoes&page=2 HTTP/1.1\r\n" +
        "Host: shop.example.com\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
        "Accept-Language: en-US,en;q=0.5\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Referer: https://shop.example.com/\r\n" +
        "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n" +
        "Connection: keep-alive\r\n" +
        "\r\n");

    private static readonly byte[] Response = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\n" +
        "Date: Wed, 25 Nov 2026 09:10:11 GMT\r\n" +
        "Server: origin\r\n" +
        "Content-Type: text/html; charset=utf-8\r\n" +
        "Content-Length: 5120\r\n" +
        "Cache-Control: private, max-age=0\r\n" +
        "ETag: \"5e2a-61f0c3b9a2d40\"\r\n" +
        "Vary: Accept-Encoding\r\n" +
        "Connection: keep-alive\r\n" +
        "\r\n");

    static int Main(string[] args)
    {
        double seconds = 1.0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        using var head = new HttpHead();
        var request = new ReadOnlySequence<byte>(Request);
        var response = new ReadOnlySequence<byte>(Response);
        var requestCut = Segments(Request, 40, 300);
        var responseCut = Segments(Response, 20, 150);

        Console.WriteLine($"parser-bench: .NET {Environment.Version}, {Environment.ProcessorCount} CPUs, {seconds:0.#} s per case, median of 5 interleaved rounds");
        Console.WriteLine($"request head {Request.Length} bytes (8 fields), response head {Response.Length} bytes (8 fields)");
        var cases = new (string Name, Func<int> Loop)[]
        {
            ("request, one segment", () => RequestLoop(head, request)),
            ("request, three segments", () => RequestLoop(head, requestCut)),
            ("response, one segment", () => ResponseLoop(head, response)),
            ("response, three segments", () => ResponseLoop(head, responseCut)),
        };
        // Warm every case up before timing any: the loops share the parser, whose tier-1 (PGO) code is only final
        // once all inputs have run; warming each case just before its own run made the first one measured ~2x slower.
        foreach (var (name, loop) in cases)
            if (loop() != Batch) throw new InvalidOperationException(name + ": the head did not parse");
        for (long end = Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency; Stopwatch.GetTimestamp() < end;)
            foreach (var (_, loop) in cases) loop();
        // Five rounds, each timing every case in turn: whatever disturbs the machine for a while (other builds on a
        // shared box) spreads over all cases instead of landing on the one measured first; the median round is kept.
        var samples = cases.Select(_ => (Ns: new List<double>(), Bytes: new List<double>())).ToArray();
        for (int round = 0; round < 5; round++)
        {
            for (int c = 0; c < cases.Length; c++)
            {
                var (ns, bytes) = Sample(seconds / 5, cases[c].Loop);
                samples[c].Ns.Add(ns);
                samples[c].Bytes.Add(bytes);
            }
        }
        var rows = cases.Select((c, i) => (c.Name, Ns: Median(samples[i].Ns), Bytes: Median(samples[i].Bytes))).ToArray();
        Console.WriteLine();
        Console.WriteLine("| head | ns/head | MB/s | bytes allocated/head |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, ns, bytes) in rows)
        {
            int size = name.StartsWith("request", StringComparison.Ordinal) ? Request.Length : Response.Length;
            Console.WriteLine($"| {name} | {ns:0.0} | {size / ns * 1000:0} | {bytes:0.###} |");
        }
        Console.WriteLine($"RESULT request_ns={rows[0].Ns:0.0} request_alloc={rows[0].Bytes:0.###} response_ns={rows[2].Ns:0.0} response_alloc={rows[2].Bytes:0.###}");
        return 0;
    }

    private const int Batch = 1_000;   // small, so the warm-up calls each loop often enough to reach tier 1 (30 calls)

    // Each loop parses Batch heads; the harness repeats loops until the time is up and divides.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int RequestLoop(HttpHead head, ReadOnlySequence<byte> data)
    {
        int ok = 0;
        for (int i = 0; i < Batch; i++)
        {
            head.Reset(HttpMessageKind.Request);
            if (Http1RequestParser.Parse(head, data, out _, out _) == HttpParseStatus.Complete) ok++;
        }
        return ok;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static int ResponseLoop(HttpHead head, ReadOnlySequence<byte> data)
    {
        int ok = 0;
        for (int i = 0; i < Batch; i++)
        {
            head.Reset(HttpMessageKind.Response, Http1Method.Get);
            if (Http1ResponseParser.Parse(head, data, out _, out _) == HttpParseStatus.Complete) ok++;
        }
        return ok;
    }

    /// <summary>ns and allocated bytes per head over <paramref name="seconds"/> of repeated loops.</summary>
    static (double Ns, double Bytes) Sample(double seconds, Func<int> loop)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        long heads = 0;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            loop();
            heads += Batch;
        }
        long elapsed = Stopwatch.GetTimestamp() - start;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return (elapsed * 1e9 / Stopwatch.Frequency / heads, (double)allocated / heads);
    }

    static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    /// <summary>The bytes cut at the given offsets into a multi-segment sequence.</summary>
    static ReadOnlySequence<byte> Segments(byte[] data, params int[] cuts)
    {
        var first = new Segment(data.AsMemory(0, cuts[0]), 0);
        var last = first;
        for (int i = 0; i < cuts.Length; i++)
        {
            int from = cuts[i], to = i + 1 < cuts.Length ? cuts[i + 1] : data.Length;
            last = last.Append(data.AsMemory(from, to - from));
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

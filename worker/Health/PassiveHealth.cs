using Proxy.Shared.Config;

namespace Proxy.Worker.Health;

/// <summary>What real traffic told about a server (HAProxy's HANA_STATUS_*, src/check.c analyze_statuses[]).</summary>
internal enum PassiveEvent
{
    L4Ok, L4Error, HttpOk, HttpStatus, HttpInvalidResponse, HttpReadTimeout, HttpBrokenPipe,
}

/// <summary>
/// `observe layer4|layer7` with `error-limit` (doc/configuration.txt 5.2): counts a server's consecutive errors
/// seen by real traffic in this worker and, at the limit, hands the `on-error` action to the server's checker.
/// Runs on the request path: no allocation, no lock; the (rare) limit is dispatched to the thread pool.
/// </summary>
internal sealed class PassiveHealth
{
    // analyze_statuses[].lr: per event, for [layer4, layer7]: 0 ignored, 1 an error, 2 a success (resets the count).
    // Layer 7 observation counts connect errors too, but a successful connect is no proof of a good response.
    private static readonly byte[,] s_effect =
    {
        { 2, 0 },   // L4Ok: "L4 successful connection"
        { 1, 1 },   // L4Error: "L4 unsuccessful connection"
        { 0, 2 },   // HttpOk: "Correct http response"
        { 0, 1 },   // HttpStatus: "Wrong http response" (5xx but 501 and 505)
        { 0, 1 },   // HttpInvalidResponse: "Invalid http response"
        { 0, 1 },   // HttpReadTimeout: "Read timeout (http)"
        { 0, 1 },   // HttpBrokenPipe: "Close from server (http)"
    };

    private static readonly string[] s_descriptions =
    [
        "L4 successful connection", "L4 unsuccessful connection", "Correct http response", "Wrong http response",
        "Invalid http response", "Read timeout (http)", "Close from server (http)",
    ];

    private static readonly Action<(PassiveHealth Self, PassiveEvent Last)> s_dispatch = static s => s.Self.LimitReached?.Invoke(s.Self._server, s.Last);

    private readonly ServerRuntime _server;
    private readonly int _column;              // 0: layer4, 1: layer7, -1: not observed
    private readonly int _limit;
    private int _consecutive;

    public PassiveHealth(ServerRuntime server, ServerCheckSettings settings)
    {
        _server = server;
        _column = settings.Observe switch { ObserveMode.Layer4 => 0, ObserveMode.Layer7 => 1, _ => -1 };
        _limit = settings.ErrorLimit;
    }

    /// <summary>Whether `observe` is set for this server.</summary>
    public bool Enabled => _column >= 0;

    public int ErrorLimit => _limit;

    /// <summary>Called (from the thread pool) when `error-limit` consecutive errors were seen: (server, last event).</summary>
    public Action<ServerRuntime, PassiveEvent>? LimitReached { get; set; }

    public static string Describe(PassiveEvent e) => s_descriptions[(int)e];

    /// <summary>HAProxy's layer 7 error statuses: 500-599 except 501 (not implemented) and 505 (version not supported).</summary>
    public static PassiveEvent ForStatus(int status) =>
        status is >= 500 and <= 599 and not 501 and not 505 ? PassiveEvent.HttpStatus : PassiveEvent.HttpOk;

    /// <summary>Records one event of real traffic. Cheap when not observed: one field test.</summary>
    public void Report(PassiveEvent e)
    {
        if (_column < 0) return;
        switch (s_effect[(int)e, _column])
        {
            case 2:
                if (Volatile.Read(ref _consecutive) != 0) Volatile.Write(ref _consecutive, 0);
                return;
            case 1:
                // Exactly one of the concurrent reporters reaches the limit; HAProxy resets the count after the action.
                if (Interlocked.Increment(ref _consecutive) == _limit)
                {
                    Volatile.Write(ref _consecutive, 0);
                    ThreadPool.UnsafeQueueUserWorkItem(s_dispatch, (this, e), preferLocal: false);
                }
                return;
        }
    }
}

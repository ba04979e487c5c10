using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Proxy.Worker.Forwarding;

// `show sess` (doc/management.txt 9.3): one line per live session, HAProxy's identifying fields. Read by the channel's
// reader thread from the engine's session table while the session runs: every field read here is a reference or a
// long written once or atomically, so a line is a consistent enough picture, never a torn object.
internal abstract partial class ProxySession
{
    /// <summary>When the session was accepted (Environment.TickCount64): `show sess`'s age.</summary>
    internal long AcceptedMs { get; private set; } = Environment.TickCount64;

    /// <summary>The backend the session is in now; null before one is chosen.</summary>
    internal abstract Runtime.BackendRuntime? CurrentBackend { get; }

    /// <summary>The server the session is connected to now; null when none.</summary>
    internal abstract Runtime.ServerRuntime? CurrentServer { get; }

    /// <summary>
    /// Closes the session for a server state change or the runtime API, logged with termination code
    /// <paramref name="cause"/> (8.5: 'D' server marked down, 'U' an active server came up, 'K' `shutdown sessions`).
    /// </summary>
    internal abstract void Kill(char cause);

    /// <summary>
    /// HAProxy's line: `0xID: proto=tcpv4 src=ADDR:PORT fe=NAME be=NAME|&lt;NONE&gt; srv=NAME|&lt;none&gt; age=Ns`
    /// (HAProxy's internal task and buffer flags that follow are left out: they describe HAProxy's scheduler).
    /// </summary>
    internal void Describe(StringBuilder line, long id, long nowMs)
    {
        var client = ClientEndPoint;
        string proto = client?.AddressFamily == AddressFamily.InterNetworkV6 ? "tcpv6" : "tcpv4";
        line.Append(CultureInfo.InvariantCulture, $"0x{id:x}: proto={proto} src={client?.ToString() ?? "?"} fe={Frontend.Config.Name}");
        line.Append(" be=").Append(CurrentBackend?.Name ?? "<NONE>");
        line.Append(" srv=").Append(CurrentServer?.Config.Name ?? "<none>");
        line.Append(CultureInfo.InvariantCulture, $" age={FormatAge(Math.Max(0, nowMs - AcceptedMs) / 1000)}");
    }

    // HAProxy's human_time: `59s`, `1m5s`, `2h3m`, `1d4h`.
    private static string FormatAge(long s) =>
        s < 60 ? $"{s}s" : s < 3600 ? $"{s / 60}m{s % 60}s" : s < 86400 ? $"{s / 3600}h{s % 3600 / 60}m" : $"{s / 86400}d{s % 86400 / 3600}h";
}

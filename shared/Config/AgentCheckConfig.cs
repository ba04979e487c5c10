using System.Net;

namespace Proxy.Shared.Config;

/// <summary>
/// `agent-check` with `agent-port`, `agent-inter`, `agent-send`, `agent-addr` (doc/configuration.txt 5.2): an auxiliary
/// TCP check whose one-line answer sets the server's weight, maxconn, administrative and operational states.
/// </summary>
/// <param name="Port">`agent-port`: required once `agent-check` is set (HAProxy refuses the server without it).</param>
/// <param name="Inter">`agent-inter`: the interval, and the agent's timeout when `timeout check` is not set; 2 s by default.</param>
/// <param name="Send">`agent-send`: sent verbatim on connection; null: nothing is sent.</param>
/// <param name="Address">`agent-addr`: where the agent listens instead of the server's address.</param>
public sealed record ServerAgentCheck(bool Enabled, int? Port, TimeSpan? Inter, string? Send, IPAddress? Address)
{
    public static ServerAgentCheck None { get; } = new(false, null, null, null, null);

    /// <summary>HAProxy's default agent interval.</summary>
    public TimeSpan Interval => Inter ?? TimeSpan.FromSeconds(2);
}

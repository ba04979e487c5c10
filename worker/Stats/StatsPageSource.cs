using Proxy.Shared.Control;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Stats;

/// <summary>
/// What the stats page and the Prometheus exporter need from the worker around the engine: a snapshot of the board the
/// worker counts in (read-only; it holds every worker's slot and the retired totals), and the way to the supervisor
/// for a `stats admin` change, which the supervisor applies in every worker (the `set-server` channel message).
/// </summary>
internal sealed class StatsPageSource(StatsBoard board, Action<ServerOverride> requestServerChange)
{
    /// <summary>The version the page and `haproxy_process_build_info` show, as `show info` does.</summary>
    public static string Version => StatsInfo.ProductVersion;

    public StatsSnapshot Snapshot() => board.Snapshot();

    public void RequestServerChange(ServerOverride change) => requestServerChange(change);
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Shared.Control;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Health;

/// <summary>
/// `agent-check` (doc/configuration.txt 5.2): every `agent-inter`, connects to `agent-addr` (else the server's address)
/// at `agent-port`, sends `agent-send`, reads one line and applies it (<see cref="AgentReply"/>). Runs in the checking
/// worker only. The operational verdict (`up`, `down`...) goes with the health check's through the server's verdicts
/// and the `health` relay; weight and administrative state go through <paramref name="apply"/> (the supervisor, which
/// sets them in every worker and keeps them for later ones, as `set server` does). A failed connection changes
/// nothing: "connectivity is tested by the regular health check".
/// </summary>
/// <param name="spreadChecks">global `spread-checks`: each interval moves by up to this percentage either way</param>
internal sealed class AgentChecker(ServerRuntime server, NLog.ILogger log, Action<string, string, bool>? changed, Action<ServerOverride> apply,
    int spreadChecks = 0)
{
    private const int MaxReply = 1024;
    private int? _refusedMaxConn;     // the last `maxconn:N` that was logged as not applied

    /// <summary>Runs agent checks until <paramref name="stop"/> is cancelled; never throws.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var interval = server.Config.CheckSettings.Agent.Interval;
        try
        {
            // Started with an offset inside one interval, as HAProxy spreads its checks.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * interval.TotalMilliseconds), stop).ConfigureAwait(false);
            while (!stop.IsCancellationRequested)
            {
                if (server.HasAddress && !Paused) await CheckOnceAsync(stop).ConfigureAwait(false);
                await Task.Delay(CheckSpread.Apply(interval, spreadChecks), stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // engine stopping
        }
    }

    /// <summary>`disable agent` (management.txt): no new agent check starts until `enable agent`; its effects stay.</summary>
    internal volatile bool Paused;

    /// <summary>`set server BE/SRV agent up|down`: forces the agent's operational verdict, as an answer would.</summary>
    internal void Force(bool up) => Apply(new AgentReply(up, null, null, null, "changed from CLI", up ? "up" : "down"), -1);

    /// <summary>One agent exchange; the answer is applied, a failure ignored.</summary>
    internal async Task CheckOnceAsync(CancellationToken stop)
    {
        var agent = server.Config.CheckSettings.Agent;
        // `set server ... agent-addr|agent-port|agent-send` replace the configured values from the next check on.
        var (setAddress, setPort, setSend) = server.AgentTarget;
        var target = new IPEndPoint(setAddress ?? agent.Address ?? server.EndPoint.Address, setPort ?? agent.Port ?? server.EndPoint.Port);
        // "agent-inter" also serves as the timeout when "timeout check" is not set.
        var timeout = server.Backend.Config.Timeouts.Check ?? agent.Interval;
        var watch = Stopwatch.StartNew();
        string? text = null;
        using (var total = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            total.CancelAfter(timeout);
            using var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (await CheckConnection.ConnectAsync(socket, target, default, timeout, total.Token, stop).ConfigureAwait(false) is not null)
                return;
            try
            {
                if ((setSend ?? agent.Send) is { Length: > 0 } send)
                    await socket.SendAsync(Encoding.Latin1.GetBytes(send), SocketFlags.None, total.Token).ConfigureAwait(false);
                var buffer = new byte[MaxReply];
                int got = 0;
                while (got < buffer.Length)
                {
                    int n = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, total.Token).ConfigureAwait(false);
                    if (n == 0) break;
                    got += n;
                    if (buffer.AsSpan(0, got).IndexOfAny((byte)'\r', (byte)'\n') >= 0) break;
                }
                text = Encoding.Latin1.GetString(buffer, 0, got);
            }
            catch (OperationCanceledException)
            {
                stop.ThrowIfCancellationRequested();
            }
            catch (SocketException)
            {
                // The agent went away: nothing to apply.
            }
        }
        if (text is not null && AgentReply.Parse(text) is { } reply) Apply(reply, watch.ElapsedMilliseconds);
    }

    /// <summary>Applies an answer: the operational state here (and relayed), weight and admin state through the supervisor.</summary>
    internal void Apply(AgentReply reply, long durationMs)
    {
        var be = server.Backend;
        if (reply.Up is { } up && server.SetAgentVerdict(up))
        {
            var outcome = new CheckOutcome(up ? CheckStatusCode.L7Ok : CheckStatusCode.L7Sts, 0, reply.Description ?? reply.Word);
            HealthChecker.LogChange(server, log, changed, up, outcome, durationMs);
        }
        if (reply.Admin is { } admin && admin != AdminName(server.AdminState))
            apply(new ServerOverride(be.Name, server.Name, admin, null));
        if (reply.Percent is { } percent)
        {
            if (AgentReply.WeightOf(percent, server.Config.Weight) is not { } weight)
                log.Warn($"agent-check of server {be.Name}/{server.Name}: '{percent}%': Relative weight too large.");
            else if (weight != server.UserWeight)
                apply(new ServerOverride(be.Name, server.Name, null, weight));
        }
        if (reply.MaxConn is { } maxConn && maxConn != server.MaxConn)
        {
            // 5.2 "agent-check" `maxconn:N`: as `set maxconn server`, for every worker (through the supervisor). A server
            // without `maxconn` in the config is not counted here: said once per value.
            if (server.CountsPermits || maxConn == 0)
                apply(new ServerOverride(be.Name, server.Name, null, null) { MaxConn = maxConn });
            else if (maxConn != _refusedMaxConn)
            {
                _refusedMaxConn = maxConn;
                log.Warn($"agent-check of server {be.Name}/{server.Name}: 'maxconn:{maxConn}' not applied: the server has no maxconn in the configuration, so its connections are not counted here");
            }
        }
    }

    private static string AdminName(ServerAdminState state) => state switch
    {
        ServerAdminState.Drain => "drain",
        ServerAdminState.Maint => "maint",
        _ => "ready",
    };
}

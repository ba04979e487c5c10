using Proxy.Shared.Config;
using Proxy.Shared.Stats;
using Proxy.Worker.Balancing;

namespace Proxy.Worker.Stats;

/// <summary>
/// Binds the engine's counters to this worker's slot of the stats board, then keeps the slot's derived values
/// current on the status timer. Counters are not published here: <see cref="ProxyCounters"/> count straight into
/// the slot, so a reader sees a count as soon as it is made and a killed worker loses none. What remains are values
/// that are levels or settings rather than counts: rates (per second over the last interval), server status,
/// weight, act/bck, slim, the health-check figures and the `show info` rates, plus the heartbeat.
/// </summary>
internal sealed class BoardPublisher
{
    private readonly ProxyEngine _engine;
    private readonly StatsSlot _slot;
    private readonly bool _publishesChecks;
    private readonly (ProxyCounters Counters, int Index)[] _map;
    private readonly (ServerRuntime Server, int Index)[] _servers;
    private readonly (BackendRuntime Backend, int Index)[] _backends;
    private readonly long[] _lastStot;
    private readonly long[] _lastReqTot;
    private long _lastTotal, _lastSsl, _lastSslKeys;
    private long _lastPublishMs;

    /// <summary>Call before the engine starts: from here on every counter of <paramref name="engine"/> is on the board.</summary>
    public BoardPublisher(ProxyEngine engine, StatsBoard board, StatsSlot slot, ProxyConfig config)
    {
        _engine = engine;
        _slot = slot;
        _publishesChecks = engine.RunsHealthChecks;
        // Counting threads hold pointers into the mapping until the process ends.
        board.KeepMappedUntilExit();
        var map = new List<(ProxyCounters, int)>();
        foreach (var c in engine.Counters)
        {
            if (!board.TryIndexOf(Descriptor(c).Key, out int index)) continue;
            c.CountOnBoard(slot, index);
            map.Add((c, index));
        }
        _map = [.. map];
        _lastStot = new long[_map.Length];
        _lastReqTot = new long[_map.Length];
        var servers = new List<(ServerRuntime, int)>();
        var backends = new List<(BackendRuntime, int)>();
        foreach (var be in engine.Backends)
        {
            if (board.TryIndexOf(StatObjectDescriptor.Backend(be.Name).Key, out int bi)) backends.Add((be, bi));
            foreach (var s in be.Servers)
                if (board.TryIndexOf(StatObjectDescriptor.Server(be.Name, s.Name).Key, out int si)) servers.Add((s, si));
        }
        _servers = [.. servers];
        _backends = [.. backends];
        _lastPublishMs = Environment.TickCount64;
    }

    /// <summary>
    /// The health figures, from the checking worker only: every worker applies the same up/down changes, so if each
    /// published them the summed counters (chkdown...) would count every transition once per worker, and the other
    /// workers know nothing of the checks' results. The board takes check_* and lastchg from the slot that wrote them
    /// (StatKind.Checked); check_duration and check_health are stored plus one, so that 0 means "not written".
    /// </summary>
    private void PublishChecks(int o, ServerRuntime s)
    {
        var h = s.CheckStats;
        _slot.Set(o, StatField.Chkfail, h.FailedChecks);
        _slot.Set(o, StatField.Chkdown, h.Downs);
        _slot.Set(o, StatField.Hanafail, h.PassiveActions);
        _slot.Set(o, StatField.Lastchg, h.LastChangeUnixSeconds);
        _slot.RaiseMax(o, StatField.Downtime, h.DowntimeSeconds);
        if (s.Checker is null) return;
        _slot.Set(o, StatField.CheckRise, Math.Max(1, s.Config.Rise));
        _slot.Set(o, StatField.CheckFall, Math.Max(1, s.Config.Fall));
        if (h.Health >= 0) _slot.Set(o, StatField.CheckHealth, h.Health + 1);
        if (h.LastStatus == CheckStatusCode.None) return;
        _slot.Set(o, StatField.CheckStatus, (long)h.LastStatus);
        _slot.Set(o, StatField.CheckCode, h.LastCode);
        _slot.Set(o, StatField.CheckDuration, h.LastDurationMs + 1L);
    }

    private static StatObjectDescriptor Descriptor(ProxyCounters c) => c.Kind switch
    {
        CounterKind.Frontend => StatObjectDescriptor.Frontend(c.ProxyName),
        CounterKind.Backend => StatObjectDescriptor.Backend(c.ProxyName),
        _ => StatObjectDescriptor.Server(c.ProxyName, c.ServerName!),
    };

    /// <summary>Writes the rates, server states and check figures once. Called from one thread at a time.</summary>
    public void Publish()
    {
        long now = Environment.TickCount64;
        double seconds = Math.Max(0.001, (now - _lastPublishMs) / 1000.0);
        _lastPublishMs = now;
        for (int i = 0; i < _map.Length; i++)
        {
            var (c, o) = _map[i];
            if (c.Kind == CounterKind.Frontend)
            {
                long reqTot = c.HttpRequests;
                long reqRate = (long)((reqTot - _lastReqTot[i]) / seconds);
                _lastReqTot[i] = reqTot;
                _slot.Set(o, StatField.ReqRate, reqRate);
                _slot.RaiseMax(o, StatField.ReqRateMax, reqRate);
            }
            // Sessions per second over the last interval (HAProxy's `rate` is over the last second).
            long stot = c.TotalSessions;
            long rate = (long)((stot - _lastStot[i]) / seconds);
            _lastStot[i] = stot;
            _slot.Set(o, StatField.Rate, rate);
            _slot.RaiseMax(o, StatField.RateMax, rate);
        }
        foreach (var (s, o) in _servers)
        {
            var status = s.AdminState switch
            {
                _ when !s.HasAddress => StatStatus.Maint,    // resolution maintenance (ServerRuntime.HasAddress)
                ServerAdminState.Maint => StatStatus.Maint,
                ServerAdminState.Drain when s.IsUp => StatStatus.Drain,
                // `http-check disable-on-404`: HAProxy's stats.c shows a stopping server as "NOLB".
                _ when s.IsUp && s.IsStopping => StatStatus.Nolb,
                // HAProxy shows "no check" for a server in service that is not checked (stats.c: SRV_STATS_STATE_NO_CHECK).
                // A `track`ing server shows its tracked server's check state (stats.c follows sv->track).
                _ => !s.IsUp ? StatStatus.Down : s.Config.Check || s.Config.CheckSettings.Track is not null ? StatStatus.Up : StatStatus.NoCheck,
            };
            _slot.Set(o, StatField.Status, (long)status);
            _slot.Set(o, StatField.Weight, s.Weight);
            _slot.Set(o, StatField.Act, s.Config.Backup ? 0 : 1);
            _slot.Set(o, StatField.Bck, s.Config.Backup ? 1 : 0);
            _slot.Set(o, StatField.Slim, s.MaxConn);
            if (_publishesChecks) PublishChecks(o, s);
        }
        foreach (var (be, o) in _backends)
        {
            _slot.Set(o, StatField.Status, (long)(be.ActiveUsable + be.BackupUsable > 0 ? StatStatus.Up : StatStatus.Down));
            _slot.Set(o, StatField.Act, be.ActiveUsable);
            _slot.Set(o, StatField.Bck, be.BackupUsable);
            long weight = 0;
            foreach (var s in be.Servers) if (s.IsUsable) weight += s.Weight;
            _slot.Set(o, StatField.Weight, weight);
            if (_publishesChecks)
            {
                var h = be.CheckStats;
                _slot.Set(o, StatField.Chkdown, h.Downs);
                _slot.Set(o, StatField.Lastchg, h.LastChangeUnixSeconds);
                _slot.RaiseMax(o, StatField.Downtime, h.DowntimeSeconds);
            }
        }
        long total = _engine.TotalConnections;
        long connRate = (long)((total - _lastTotal) / seconds);
        _lastTotal = total;
        _slot.SetInfo(InfoField.MaxConn, _engine.MaxConn);
        var (connLimit, sessLimit) = _engine.AcceptRateLimits;
        _slot.SetInfo(InfoField.ConnRateLimit, connLimit);
        _slot.SetInfo(InfoField.SessRateLimit, sessLimit);
        _slot.SetInfo(InfoField.ConnRate, connRate);
        _slot.RaiseInfoMax(InfoField.ConnRateMax, connRate);
        _slot.SetInfo(InfoField.SessRate, connRate);
        _slot.RaiseInfoMax(InfoField.SessRateMax, connRate);
        long ssl = Tls.TlsCounters.Total;
        long sslRate = (long)((ssl - _lastSsl) / seconds);
        _lastSsl = ssl;
        _slot.SetInfo(InfoField.SslRate, sslRate);
        _slot.RaiseInfoMax(InfoField.SslRateMax, sslRate);
        long keys = Tls.TlsCounters.FullHandshakes;
        long keyRate = (long)((keys - _lastSslKeys) / seconds);
        _lastSslKeys = keys;
        _slot.SetInfo(InfoField.SslKeyRate, keyRate);
        _slot.RaiseInfoMax(InfoField.SslKeyRateMax, keyRate);
        _engine.Compression.SampleCpu(now);   // `maxcompcpuusage` compares with the last interval's CPU use
        _engine.Compression.Publish(_slot, now);
        _slot.Heartbeat();
    }
}

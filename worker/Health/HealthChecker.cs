using System.Diagnostics;
using System.Net;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Health;

/// <summary>
/// Active checks of one server with `check` (doc/configuration.txt 5.2), with HAProxy's health counter
/// (src/check.c set_server_check_status): health goes from 0 to rise+fall-1; a server is UP from rise on; a
/// success adds one (reaching rise jumps to the top), a failure removes one (dropping below rise falls to 0: DOWN).
/// A server starts UP with health = rise, so one failed first check takes it down (HAProxy's `init-state up`).
/// The interval is `inter` at full health, `downinter` when fully down and `fastinter` in between.
/// Passive `observe` errors reach the checker through <see cref="OnPassiveErrors"/> and apply `on-error` here, so one
/// state machine decides each server's health. Transitions are logged with HAProxy's wording.
/// </summary>
internal sealed class HealthChecker
{
    private static readonly TimeSpan DefaultInter = TimeSpan.FromSeconds(2);

    private readonly ServerRuntime _server;
    private readonly NLog.ILogger _log;
    private readonly Action<string, string, bool>? _changed;
    private volatile IHealthProbe _probe;
    private readonly bool _pp2NeverSendLocal;
    private readonly Lock _gate = new();         // the check loop and passive actions (thread pool); never per request
    private readonly SemaphoreSlim _wake = new(0);
    private readonly int _rise, _fall;
    private readonly TimeSpan _inter, _fastInter, _downInter;
    private int _health;
    private bool _fastOnce;
    private readonly int _spreadChecks;                      // a passive action asked for the next check at fastinter

    /// <param name="changed">told of each transition (backend, server, up), so the worker can share it</param>
    /// <param name="pp2NeverSendLocal">global `pp2-never-send-local`: a v2 check header says PROXY, not LOCAL</param>
    /// <param name="spreadChecks">global `spread-checks`: each interval moves by up to this percentage either way</param>
    public HealthChecker(ServerRuntime server, NLog.ILogger log, Action<string, string, bool>? changed = null, bool pp2NeverSendLocal = false,
        int spreadChecks = 0)
    {
        _spreadChecks = spreadChecks;
        _server = server;
        _log = log;
        _changed = changed;
        var config = server.Config;
        var check = config.CheckSettings;
        _rise = Math.Max(1, config.Rise);
        _fall = Math.Max(1, config.Fall);
        _inter = config.Inter > TimeSpan.Zero ? config.Inter : DefaultInter;
        _fastInter = check.FastInter ?? _inter;
        _downInter = check.DownInter ?? _inter;
        _pp2NeverSendLocal = pp2NeverSendLocal;
        _probe = NewProbe();
        // A server that this worker was told is down (a respawned checker) starts at health 0.
        _health = server.IsUp ? _rise : 0;
        server.CheckStats.SetHealth(_health);
    }

    /// <summary>
    /// The probe's target: `addr`/`port` of the check settings, else the server's (current) address; the runtime API's
    /// `set server ... check-port` overrides the port.
    /// </summary>
    private IHealthProbe NewProbe()
    {
        var config = _server.Config;
        var check = config.CheckSettings;
        var ep = _server.EndPoint;
        int port = _server.CheckPort ?? check.Port ?? ep.Port;
        var target = new IPEndPoint(check.Address ?? ep.Address, port);
        var header = CheckProxyHeader.For(config, _pp2NeverSendLocal);
        // `option tcp-check` and the protocol checks run a compiled script; else a connect, or an HTTP request.
        var tls = config.CheckTls is null ? null : Tls.TlsServerContext.ForChecks(config);   // `check-ssl` (5.2)
        if (_server.Backend.Config.TcpCheck is { } script) return new TcpCheckProbe(script, target, header) { Tls = tls };
        return new CheckProbe(target, _server.Backend.Config.HttpCheck) { ProxyHeader = header, ServerState = ServerStateHeader, Tls = tls };
    }

    /// <summary>
    /// `http-check send-state` (4.2): HAProxy's X-Haproxy-Server-State value (src/tcpcheck.c httpchk_build_status_header):
    /// `UP|DOWN [N/M]; address=A; port=P; name=BE/SRV; node=NODE; weight=W/TOTAL; scur=CUR/BACKEND; qcur=Q`, N/M shown
    /// while the health is moving (towards `fall` while up, `rise` while down).
    /// </summary>
    private string ServerStateHeader()
    {
        var be = _server.Backend;
        string state;
        lock (_gate)
        {
            bool up = _server.IsUp;
            state = up
                ? (_health == _rise + _fall - 1 ? "UP" : $"UP {_health - _rise + 1}/{_fall}")
                : (_health == 0 ? "DOWN" : $"DOWN {_health}/{_rise}");
        }
        int total = 0;
        foreach (var s in be.Servers) if (s.IsUsable && !s.Config.Backup) total += s.Weight;
        var ep = _server.EndPoint;
        string node = s_nodeName ??= System.Net.Dns.GetHostName();
        return $"{state}; address={ep.Address}; port={ep.Port}; name={be.Name}/{_server.Name}; node={node}; "
            + $"weight={_server.Weight}/{total}; scur={_server.CurrentSessions}/{be.Counters.CurrentSessions}; qcur=0";
    }

    private static string? s_nodeName;   // HAProxy's default `node`: the host name

    /// <summary>`set server ... addr|check-port`: the next check goes to the new target.</summary>
    internal void Retarget() => _probe = NewProbe();

    /// <summary>HAProxy's srv_getinter(): inter when fully up, downinter when fully down, fastinter while changing.</summary>
    internal TimeSpan CurrentInterval
    {
        get
        {
            lock (_gate)
            {
                if (_health == _rise + _fall - 1) return _inter;
                if (!_server.IsUp && _health == 0) return _downInter;
                return _fastInter;
            }
        }
    }

    // The wait before the next check: fastinter once after a passive action (HAProxy reschedules the check at
    // now + fastinter when that is sooner), else the interval of the current health.
    private TimeSpan NextWait()
    {
        var interval = CurrentInterval;
        lock (_gate)
        {
            if (_fastOnce)
            {
                _fastOnce = false;
                if (_fastInter < interval) interval = _fastInter;
            }
        }
        return CheckSpread.Apply(interval, _spreadChecks);
    }

    /// <summary>Runs checks until <paramref name="stop"/> is cancelled; never throws.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        // The check's connect timeout: `timeout connect`, at most `inter`; the whole check: `timeout check` more
        // when set, else `inter` (doc/configuration.txt "timeout check").
        var timeouts = _server.Backend.Config.Timeouts;
        var connectTimeout = timeouts.Connect is { } c && c < _inter ? c : _inter;
        var totalTimeout = timeouts.Check is { } t ? connectTimeout + t : _inter;
        // Spread the first checks over one interval, as HAProxy does, so servers are not probed in bursts.
        var first = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(_inter.TotalMilliseconds, CurrentInterval.TotalMilliseconds));
        try
        {
            var wait = first;
            while (!stop.IsCancellationRequested)
            {
                // A passive action wakes the wait: the next check comes `fastinter` from now.
                while (await _wake.WaitAsync(wait, stop).ConfigureAwait(false)) wait = NextWait();
                // A server without an address (resolution maintenance) is not probed: 0.0.0.0 would reach this host;
                // nor one whose checks the runtime API stopped (`disable health`).
                if (_server.HasAddress && !Paused) await CheckOnceAsync(connectTimeout, totalTimeout, stop).ConfigureAwait(false);
                wait = NextWait();
            }
        }
        catch (OperationCanceledException)
        {
            // engine stopping
        }
    }

    /// <summary>`disable health` (management.txt): no check is sent until `enable health`.</summary>
    internal bool Paused { get; private set; }

    /// <summary>
    /// `disable health BE/SRV`: "the last health check result will be ignored. The server will be in unchecked state and
    /// considered UP unless an auxiliary agent check forces it down"; `enable health` resumes the checks from there.
    /// </summary>
    internal void SetPaused(bool paused)
    {
        lock (_gate)
        {
            Paused = paused;
            if (!paused) return;
            _health = _rise + _fall - 1;
            if (_server.SetCheckVerdict(true))
                LogChange(_server, _log, _changed, true, new CheckOutcome(CheckStatusCode.None, 0, "health check disabled"), -1);
        }
    }

    /// <summary>One probe, then the health counter and the server state.</summary>
    internal async Task CheckOnceAsync(TimeSpan connectTimeout, TimeSpan totalTimeout, CancellationToken stop)
    {
        var watch = Stopwatch.StartNew();
        CheckOutcome outcome;
        try
        {
            outcome = await _probe.RunAsync(connectTimeout, totalTimeout, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            outcome = new CheckOutcome(CheckStatusCode.SockErr, 0, e.Message);
        }
        long duration = watch.ElapsedMilliseconds;
        lock (_gate)
        {
            if (outcome.Status == CheckStatusCode.L7Okc) ConditionallyPassed(outcome, duration);
            else if (outcome.Passed) Succeeded(outcome, duration);
            else Failed(outcome, duration);
            _server.CheckStats.Checked(outcome.Status, outcome.Code, duration, _health);
        }
    }

    /// <summary>
    /// `error-limit` consecutive passive errors of <paramref name="last"/> kind were seen (in this worker or, relayed,
    /// in another): applies `on-error` (HAProxy's check_health_adjust) and reschedules the next check at `fastinter`.
    /// </summary>
    public void OnPassiveErrors(PassiveEvent last, int errors)
    {
        var info = $"Detected {errors} consecutive errors, last one was: {PassiveHealth.Describe(last)}";
        var outcome = new CheckOutcome(CheckStatusCode.Hana, 0, info);
        lock (_gate)
        {
            _server.CheckStats.CountPassiveAction();
            switch (_server.Config.CheckSettings.OnError)
            {
                case OnErrorAction.MarkDown:
                    // Down now: at rise, one failure falls to 0.
                    _health = Math.Min(_health, _rise);
                    Failed(outcome, -1);
                    break;
                case OnErrorAction.SuddenDeath:
                    // One failure left before DOWN.
                    if (_health > _rise) _health = _rise + 1;
                    Failed(outcome, -1);
                    break;
                case OnErrorAction.FailCheck:
                    Failed(outcome, -1);
                    break;
                // FastInter: only the rescheduling below.
            }
            // HAProxy shows a passive action as the last check's status (HANA), without a duration.
            if (_server.Config.CheckSettings.OnError == OnErrorAction.FastInter) _server.CheckStats.SetHealth(_health);
            else _server.CheckStats.Checked(CheckStatusCode.Hana, 0, 0, _health);
            _fastOnce = true;
        }
        _wake.Release();
    }

    /// <summary>Told when this checker moves the server into or out of NOLB (backend, server, stopping).</summary>
    internal Action<string, string, bool>? StoppingChanged { get; init; }

    /// <summary>
    /// HAProxy's CHK_RES_CONDPASS (`http-check disable-on-404` saw a 404, L7OKC): an UP server keeps its health and
    /// goes to NOLB (check_notify_stopping); "a stopped server will stay stopped even if it replies 404s" (4.2).
    /// </summary>
    private void ConditionallyPassed(CheckOutcome outcome, long duration)
    {
        if (!_server.IsUp) return;
        if (_health < _rise + _fall - 1)
        {
            _health = _rise + _fall - 1;
            LogResult(true, outcome, duration);
        }
        if (!_server.SetStopping(true)) return;
        StoppingChanged?.Invoke(_server.Backend.Name, _server.Name, true);
        _log.Warn($"Server {_server.Backend.Name}/{_server.Name} is stopping, reason: {CheckStatusCodes.Description(outcome.Status)}, code: {outcome.Code}"
            + $"{(outcome.Info is null ? "" : $", info: \"{outcome.Info}\"")}, check duration: {duration}ms. "
            + $"{_server.Backend.ActiveUsable} active and {_server.Backend.BackupUsable} backup servers online. 0 sessions requeued, 0 total in queue.");
    }

    private void Succeeded(CheckOutcome outcome, long duration)
    {
        // A 2xx/3xx again after a 404: "it will immediately be reinserted into the farm" (4.2 disable-on-404).
        if (_server.IsUp && _server.SetStopping(false))
        {
            StoppingChanged?.Invoke(_server.Backend.Name, _server.Name, false);
            _log.Warn($"Server {_server.Backend.Name}/{_server.Name} is UP, reason: {CheckStatusCodes.Description(outcome.Status)}, code: {outcome.Code}, "
                + $"check duration: {duration}ms. {_server.Backend.ActiveUsable} active and {_server.Backend.BackupUsable} backup servers online.");
        }
        if (_health >= _rise + _fall - 1) return;
        _health++;
        if (_health >= _rise) _health = _rise + _fall - 1;
        LogResult(true, outcome, duration);
        if (_health < _rise) return;
        if (_server.SetCheckVerdict(true)) LogChange(_server, _log, _changed, true, outcome, duration);
    }

    private void Failed(CheckOutcome outcome, long duration)
    {
        // chkfail counts the failures that cost health (HAProxy: only while the server is not already down).
        if (_health <= 0) return;
        _server.CheckStats.CountFailedCheck();
        _health--;
        if (_health < _rise) _health = 0;
        LogResult(false, outcome, duration);
        if (_health >= _rise) return;
        if (_server.SetCheckVerdict(false)) LogChange(_server, _log, _changed, false, outcome, duration);
    }

    /// <summary>
    /// `option log-health-checks` (4.2): a result that moved the health counter, with HAProxy's wording
    /// (src/check.c set_server_check_status: `status: N/M UP|DOWN`, counted towards `fall` while up, `rise` while down).
    /// </summary>
    private void LogResult(bool passed, CheckOutcome outcome, long durationMs)
    {
        if (!_server.Backend.Config.LogHealthChecks) return;
        bool up = _health >= _rise;
        int n = up ? _health - _rise + 1 : _health;
        int of = up ? _fall : _rise;
        string state = up ? (_server.UserWeight > 0 ? "UP" : "DRAIN") : "DOWN";
        string code = outcome.Code > 0 ? $", code: {outcome.Code}" : "";
        string info = outcome.Info is null ? "" : $", info: \"{outcome.Info}\"";
        string duration = durationMs >= 0 ? $", check duration: {durationMs}ms" : "";
        _log.Warn($"Health check for server {_server.Backend.Name}/{_server.Name} {(passed ? "succeeded" : "failed")}, "
            + $"reason: {CheckStatusCodes.Description(outcome.Status)}{code}{info}{duration}, status: {n}/{of} {state}.");
    }

    /// <summary>
    /// Tells <paramref name="changed"/> (the other workers) and logs HAProxy's srv_append_status() and
    /// srv_set_stopped()/srv_set_running() messages. Shared by the health check and the agent check.
    /// </summary>
    internal static void LogChange(ServerRuntime server, NLog.ILogger log, Action<string, string, bool>? changed, bool up,
        CheckOutcome outcome, long durationMs)
    {
        var be = server.Backend;
        changed?.Invoke(be.Name, server.Name, up);
        var reason = CheckStatusCodes.Description(outcome.Status);
        string code = outcome.Code > 0 ? $", code: {outcome.Code}" : "";
        string info = outcome.Info is null ? "" : $", info: \"{outcome.Info}\"";
        string duration = durationMs >= 0 ? $", check duration: {durationMs}ms" : "";
        if (up)
        {
            log.Warn($"Server {be.Name}/{server.Name} is UP, reason: {reason}{code}{info}{duration}. "
                + $"{be.ActiveUsable} active and {be.BackupUsable} backup servers online. 0 sessions requeued, 0 total in queue.");
        }
        else
        {
            log.Warn($"Server {be.Name}/{server.Name} is DOWN, reason: {reason}{code}{info}{duration}. "
                + $"{be.ActiveUsable} active and {be.BackupUsable} backup servers left. "
                + $"{server.CurrentSessions} sessions active, 0 requeued, 0 remaining in queue.");
            if (be.ActiveUsable == 0 && be.BackupUsable == 0) log.Error($"backend {be.Name} has no server available!");
        }
    }
}

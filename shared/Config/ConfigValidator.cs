namespace Proxy.Shared.Config;

/// <summary>
/// Checks that need the whole file (names, references between proxies, listeners), then builds the
/// immutable model. Like YARP's ConfigValidator it reports every problem, not the first one.
/// </summary>
internal sealed class ConfigValidator(ConfigDiagnostics diag)
{
    /// <summary>Validates the parsed drafts and returns the model (meaningful only when no error was reported).</summary>
    public ProxyConfig Validate(string sourcePath, GlobalSettings global, IReadOnlyList<ProxyDraft> proxies)
    {
        CheckNames(proxies);
        CheckBinds(proxies);
        foreach (var p in proxies)
        {
            if (p.IsFrontend)
                CheckFrontend(p, proxies);
            CheckHttp(p, proxies);
            CheckHealthChecks(p);
            CheckTracking(p, proxies);
            PersistenceParser.Validate(diag, p);
            // `tcp-response content` runs on a tcp relay here; HAProxy's mode http evaluation of them is not made yet.
            if (p.Mode == ProxyMode.Http && p.TcpResponseRules.Count > 0)
                diag.Error(p.TcpResponseRules[0].Location, $"'tcp-response content' is supported in mode tcp only yet ({Kind(p)} '{p.Name}' is in http mode)");
            WarnMissingTimeouts(p);
        }
        CheckCpuMaps(global);
        var tables = StickTableChecks.Check(diag, proxies);

        var frontends = new List<FrontendConfig>();
        var backends = new List<BackendConfig>();
        foreach (var p in proxies)
        {
            var logs = p.LogGlobal ? [.. global.Logs, .. p.Logs] : p.Logs.ToArray();
            var timeouts = p.BuildTimeouts();
            if (p.IsFrontend)
            {
                // A listen section is its own default backend unless it names another one.
                var defaultBackend = p.DefaultBackend ?? (p.IsBackend ? p.Name : null);
                // `tcp-request connection expect-proxy layer4` is `accept-proxy` on every bind of the frontend (4.2).
                var binds = p.ExpectProxy ? p.Binds.ConvertAll(b => b with { AcceptProxy = true }).ToArray() : p.Binds.ToArray();
                if (p.Backlog is { } backlog) binds = Array.ConvertAll(binds, b => b.Backlog is null ? b with { Backlog = backlog } : b);
                if (p.Disabled) binds = [];    // `disabled`: the frontend listens nowhere
                frontends.Add(new FrontendConfig(p.Name, p.Mode, binds, defaultBackend,
                    p.MaxConn ?? global.MaxConn, timeouts, p.Location)
                {
                    Logs = logs, Http = p.BuildHttp(), LogFormat = LogFormat(p), DontLogNull = p.DontLogNull, IgnoreProbes = p.IgnoreProbes, Splice = p.Splice,
                    ClientTcpKeepAlive = p.ClientTcpKeepAlive, SmartAccept = p.SmartAccept ?? p.Mode == ProxyMode.Http, LogTag = p.LogTag,
                    // The conditional lines matter only where the header is not already expected on every connection.
                    ExpectProxyConditions = p.ExpectProxy ? [] : p.ExpectProxyConditions.ToArray(),
                    StatsPage = p.Stats?.Build(),
                    CustomLogFormat = p.CustomLogFormat ?? CapturingHttpLog(p), UniqueIdFormat = p.UniqueIdFormat, UniqueIdHeader = p.UniqueIdHeader,
                    StructuredDataFormat = p.StructuredDataFormat,
                    RequestCaptures = p.RequestCaptures.ToArray(), ResponseCaptures = p.ResponseCaptures.ToArray(), CookieCapture = p.CookieCapture,
                    TcpConnectionRules = p.TcpConnectionRules.ToArray(),
                    InspectDelay = p.InspectDelay, TcpContentRules = p.TcpContentRules.ToArray(),
                });
            }
            if (p.IsBackend)
            {
                // `disabled`: no server, so a request routed to it gets 503, as from a stopped HAProxy backend.
                backends.Add(new BackendConfig(p.Name, p.Mode, p.Balance, p.Disabled ? [] : p.Servers.ToArray(), timeouts,
                    p.Retries, p.Redispatch, p.Location)
                { Logs = logs, Http = p.BuildHttp(), BalanceOptions = p.BalanceOptions, AllBackups = p.AllBackups,
                  LogHealthChecks = p.LogHealthChecks,
                  HttpCheck = p.HttpCheckEnabled ? p.HttpCheck : null, Splice = p.Splice,
                  StatsPage = p.Stats?.Build(), ServerTcpKeepAlive = p.ServerTcpKeepAlive,
                  Persistence = p.BuildPersistence(),
                  StickRules = p.StickRules.ToArray(), PersistRdpCookie = p.PersistRdpCookie,
                  TcpCheck = p.HttpCheckEnabled ? null : TcpCheckParser.Build(p), HttpReuse = p.HttpReuse,
                  TcpResponseRules = p.TcpResponseRules.ToArray(), ResponseInspectDelay = p.ResponseInspectDelay,
                  TcpContentRules = p.TcpContentRules.ToArray(), InspectDelay = p.InspectDelay,
                  FullConn = FullConnDefaults.Of(p, proxies, global), AbortOnClose = p.AbortOnClose });
            }
        }
        return new ProxyConfig(sourcePath, global, frontends, backends) { Tables = tables };
    }

    /// <summary>
    /// Server check options that need the whole section: `observe layer7` reads HTTP responses (mode http only, as
    /// HAProxy requires), and `observe` needs `check`, since only an active check brings a server back once the
    /// passive one took it down. `http-check` rules do nothing without `option httpchk` (HAProxy ignores them).
    /// </summary>
    private void CheckHealthChecks(ProxyDraft p)
    {
        if (!p.IsBackend) return;
        foreach (var s in p.Servers)
        {
            var observe = s.CheckSettings.Observe;
            if (observe == ObserveMode.Layer7 && p.Mode != ProxyMode.Http)
                diag.Error(s.Location, $"'server {s.Name}': 'observe layer7' requires 'mode http' ({Kind(p)} '{p.Name}' is in tcp mode)");
            else if (observe != ObserveMode.None && !s.Check)
                diag.Error(s.Location, $"'server {s.Name}': 'observe' needs 'check' (the active check brings the server back up)");
            // The response rules read the server's bytes before the relay starts, from the socket: not through TLS yet.
            if (s.Tls is not null && p.Mode != ProxyMode.Http && p.TcpResponseRules.Count > 0)
                diag.Error(s.Location, $"'server {s.Name}': 'ssl' to a server is not supported yet with 'tcp-response content' rules ({Kind(p)} '{p.Name}')");
        }
        if (!p.HttpCheckEnabled && p.FirstHttpCheckLine is { } line)
            diag.Warning(line, $"'http-check' has no effect in {Kind(p)} '{p.Name}' without 'option httpchk'");
        // HAProxy: "... uses tcp-check rules without 'option tcp-check', so the rules are ignored".
        if (p.TcpCheckOption is not { IsScript: true } && p.TcpCheckRules.Count > 0 && p.FirstTcpCheckLine is { } tcpLine)
            diag.Warning(tcpLine, $"'tcp-check' rules have no effect in {Kind(p)} '{p.Name}' without 'option tcp-check'");
    }

    /// <summary>
    /// `track [BE/]SRV` (5.2), with HAProxy 2.6's errors (src/server.c srv_apply_track): no `check` beside it, the
    /// backend and server must exist, the tracked one must check (or agent-check, or track in turn), and no loop.
    /// </summary>
    private void CheckTracking(ProxyDraft p, IReadOnlyList<ProxyDraft> proxies)
    {
        if (!p.IsBackend) return;
        foreach (var s in p.Servers)
        {
            if (s.CheckSettings.Track is not { } track) continue;
            string who = $"'server {p.Name}/{s.Name}'";
            if (s.Check)
            {
                diag.Error(s.Location, $"{who}: unable to enable checks and tracking at the same time!");
                continue;
            }
            if (FindTracked(p, track, proxies, out var missing) is not { } target)
            {
                diag.Error(s.Location, $"{who}: {missing}");
                continue;
            }
            var (targetProxy, tracked) = target;
            if (!tracked.Check && !tracked.CheckSettings.Agent.Enabled && tracked.CheckSettings.Track is null)
            {
                diag.Error(s.Location, $"{who}: unable to use {targetProxy.Name}/{tracked.Name} for tracking as it does not have any check nor agent enabled.");
                continue;
            }
            // Follow the chain: coming back to this server is a loop (bounded: a chain cannot be longer than all servers).
            var cur = target;
            for (int hops = 0; hops <= proxies.Sum(x => x.Servers.Count) && cur.Server.CheckSettings.Track is { } next; hops++)
            {
                if (ReferenceEquals(cur.Server, s)) break;
                if (FindTracked(cur.Proxy, next, proxies, out _) is not { } after) break;
                cur = after;
            }
            if (ReferenceEquals(cur.Server, s))
                diag.Error(s.Location, $"{who}: unable to track {targetProxy.Name}/{tracked.Name} as it belongs to a tracking chain looping back to {p.Name}/{s.Name}.");
        }
    }

    // `[BE/]SRV` as `track` writes it, from a server of backend <paramref name="p"/>; null with HAProxy's message.
    private static (ProxyDraft Proxy, ServerConfig Server)? FindTracked(ProxyDraft p, string track, IReadOnlyList<ProxyDraft> proxies, out string missing)
    {
        int slash = track.IndexOf('/');
        string backend = slash >= 0 ? track[..slash] : p.Name, server = track[(slash + 1)..];
        missing = "";
        var proxy = slash < 0 ? p : proxies.FirstOrDefault(x => x.IsBackend && x.Name == backend);
        if (proxy is null)
        {
            missing = $"unable to find required proxy '{backend}' for tracking.";
            return null;
        }
        var found = proxy.Servers.FirstOrDefault(x => x.Name == server);
        if (found is null)
        {
            missing = $"unable to find required server '{server}' for tracking.";
            return null;
        }
        return (proxy, found);
    }

    /// <summary>
    /// `option httplog` in a frontend that captures (4.2 "capture ..."): its built-in format as a log-format, so the
    /// captures print in %CC %CS %hr %hs; null for the others, which the built-in line serves.
    /// </summary>
    private static LogFormatConfig? CapturingHttpLog(ProxyDraft p) =>
        p.LogFormat == TrafficLogFormat.Http && p.Mode == ProxyMode.Http
        && (p.RequestCaptures.Count > 0 || p.ResponseCaptures.Count > 0 || p.CookieCapture is not null)
            ? LogFormatKeywordParser.BuiltIn(LogFormatKeywordParser.HttpLogFormat) : null;

    /// <summary>
    /// `option httplog` needs `mode http`: HAProxy then falls back to `option tcplog` with a warning ("needs
    /// 'mode http'. Falling back to 'option tcplog'"), which is done here too (a defaults section often sets it).
    /// </summary>
    private TrafficLogFormat LogFormat(ProxyDraft p)
    {
        // `log-format` alone turns the traffic log on, in the mode's shape (8.2.4: it replaces httplog/tcplog's format).
        if (p.CustomLogFormat is not null) return p.Mode == ProxyMode.Http ? TrafficLogFormat.Http : TrafficLogFormat.Tcp;
        if (p.LogFormat != TrafficLogFormat.Http || p.Mode == ProxyMode.Http) return p.LogFormat;
        diag.Warning(p.Location, $"'option httplog' not usable with {Kind(p)} '{p.Name}' (needs 'mode http'), falling back to 'option tcplog' (set at line {p.LogFormatLine})");
        return TrafficLogFormat.Tcp;
    }

    private static string Kind(ProxyDraft p) => p.Capabilities switch
    {
        ProxyCapabilities.Frontend => "frontend",
        ProxyCapabilities.Backend => "backend",
        _ => "listen",
    };

    /// <summary>
    /// HAProxy forbids two proxies with one name when they share a capability: a frontend and a backend
    /// may share a name, two backends (or a listen and either) may not.
    /// </summary>
    private void CheckNames(IReadOnlyList<ProxyDraft> proxies)
    {
        var byName = new Dictionary<string, List<ProxyDraft>>(StringComparer.Ordinal);
        foreach (var p in proxies)
        {
            if (!byName.TryGetValue(p.Name, out var same))
                byName[p.Name] = same = [];
            var clash = same.FirstOrDefault(q => (p.Capabilities & q.Capabilities) != 0);
            if (clash is not null)
                diag.Error(p.Location, $"'{Kind(p)}': the name '{p.Name}' is already used by the {Kind(clash)} at line {clash.Location.Line}");
            same.Add(p);
        }
    }

    /// <summary>Each listening address belongs to one frontend: a second `bind` on it would split its connections.</summary>
    private void CheckBinds(IReadOnlyList<ProxyDraft> proxies)
    {
        var seen = new Dictionary<string, (ProxyDraft Proxy, BindAddress Bind)>(StringComparer.Ordinal);
        foreach (var p in proxies)
        {
            foreach (var b in p.Binds)
            {
                if (seen.TryGetValue(b.Key, out var first))
                    diag.Error(b.Location, $"'bind': {b.Key} is already bound by {Kind(first.Proxy)} '{first.Proxy.Name}' at line {first.Bind.Location.Line}");
                else
                    seen[b.Key] = (p, b);
            }
        }
    }

    private void CheckFrontend(ProxyDraft p, IReadOnlyList<ProxyDraft> proxies)
    {
        // HAProxy 2.6 warns and runs the frontend, which then listens nowhere (a `disabled` one does not either).
        if (!p.HasBindLine && !p.Disabled)
            diag.Warning(p.Location, $"{Kind(p)} '{p.Name}' has no 'bind' directive: it listens nowhere (declare it as a backend if this was intended)");

        if (p.DefaultBackend is not { } name)
        {
            if (!p.IsBackend)
                diag.Warning(p.Location, $"'frontend' '{p.Name}' has no 'default_backend': every connection will be refused");
            return;
        }
        var target = proxies.FirstOrDefault(q => q.Name == name && q.IsBackend);
        if (target is null)
        {
            diag.Error(p.DefaultBackendLocation, $"'default_backend': no backend named {ConfigDiagnostics.Quote(name)} (used by {Kind(p)} '{p.Name}')");
            return;
        }
        if (p.Mode == ProxyMode.Tcp && target.Mode == ProxyMode.Http && !p.IsBackend)
        {
            // HAProxy 2.6 accepts a tcp frontend whose backend is in http mode: the connection is upgraded to HTTP
            // when it reaches the backend. Here the frontend's connections are handled as HTTP from the start.
            diag.Warning(p.DefaultBackendLocation,
                $"'default_backend': frontend '{p.Name}' is in tcp mode and backend '{target.Name}' in http mode: its connections are handled as HTTP (HAProxy upgrades them to HTTP)");
            p.Mode = ProxyMode.Http;
        }
        else if (target.Mode != p.Mode)
        {
            diag.Error(p.DefaultBackendLocation,
                $"'default_backend': {Kind(p)} '{p.Name}' is in {Mode(p.Mode)} mode but backend '{target.Name}' is in {Mode(target.Mode)} mode");
        }
    }

    /// <summary>
    /// HTTP keywords need `mode http` (HAProxy warns and ignores them in tcp mode; nothing is silently ignored here),
    /// and every `use_backend` must name an existing backend of the same mode.
    /// </summary>
    /// <summary>At most <see cref="HeaderRule.MaxPerDirection"/> header rules per direction: the first one past it is an error.</summary>
    private void CheckHeaderRuleCount(ProxyDraft p, List<HeaderRule> rules, string keyword)
    {
        if (rules.Count > HeaderRule.MaxPerDirection)
            diag.Error(rules[HeaderRule.MaxPerDirection].Location,
                $"'{keyword}': more than {HeaderRule.MaxPerDirection} header rules (set-header, add-header, del-header) in {Kind(p)} '{p.Name}', its defaults' included; at most {HeaderRule.MaxPerDirection} are evaluated here");
    }

    private void CheckHttp(ProxyDraft p, IReadOnlyList<ProxyDraft> proxies)
    {
        if (p.Mode != ProxyMode.Http && p.FirstHttpOnlyKeyword is { } first)
            diag.Error(first.Line, $"'{first.Keyword}' requires 'mode http' ({Kind(p)} '{p.Name}' is in tcp mode)");
        StatsPageParser.CheckMode(diag, p, Kind(p));
        CheckHeaderRuleCount(p, p.RequestRules, "http-request");
        CheckHeaderRuleCount(p, p.ResponseRules, "http-response");
        // HAProxy accepts it with "Layer 7 hash not possible for backend 'X' (needs 'mode http'). Falling back to round
        // robin." and balances round robin: so does this model, with the warning at the balance line (perhaps a defaults
        // section's, which a tcp frontend inherits harmlessly: a frontend does not balance).
        if (p.IsBackend && p.Mode != ProxyMode.Http && p.Balance is BalanceAlgorithm.Uri or BalanceAlgorithm.UrlParam or BalanceAlgorithm.Header
            && p.BalanceSource is { } balance)
        {
            diag.Warning(balance.Line, $"'{balance.Keyword}' needs 'mode http' ({Kind(p)} '{p.Name}' is in tcp mode): falling back to round robin");
            p.Balance = BalanceAlgorithm.RoundRobin;
        }
        foreach (var rule in p.UseBackends)
        {
            if (rule.NameFormat is not null) continue;   // 4.2: a log-format name "may not be checked at configuration time"
            var target = proxies.FirstOrDefault(q => q.Name == rule.Backend && q.IsBackend);
            if (target is null)
                diag.Error(rule.Location, $"'use_backend': no backend named {ConfigDiagnostics.Quote(rule.Backend)} (used by {Kind(p)} '{p.Name}')");
            else if (target.Mode != p.Mode)
                diag.Error(rule.Location, $"'use_backend': {Kind(p)} '{p.Name}' is in {Mode(p.Mode)} mode but backend '{target.Name}' is in {Mode(target.Mode)} mode");
        }
    }

    private static string Mode(ProxyMode m) => m == ProxyMode.Http ? "http" : "tcp";

    /// <summary>
    /// HAProxy warns ("missing timeouts for proxy") when a frontend lacks `timeout client` or a backend
    /// `timeout connect` / `timeout server`: without them idle or dead peers hold connections forever.
    /// </summary>
    private void WarnMissingTimeouts(ProxyDraft p)
    {
        var missing = new List<string>();
        var t = p.BuildTimeouts();
        if (p.IsFrontend && t.Client is null) missing.Add("'timeout client'");
        if (p.IsBackend && t.Connect is null) missing.Add("'timeout connect'");
        if (p.IsBackend && t.Server is null) missing.Add("'timeout server'");
        if (missing.Count > 0)
            diag.Warning(p.Location, $"'{Kind(p)}' '{p.Name}': missing {string.Join(", ", missing)}; connections may then wait forever");
    }

    /// <summary>A cpu-map for a process beyond `nbproc` is harmless but certainly a mistake.</summary>
    private void CheckCpuMaps(GlobalSettings global)
    {
        if (global.NbProc is not { } nbProc) return;
        foreach (var map in global.CpuMaps)
            if (map.FirstProcess > nbProc && map.LastProcess != GlobalSectionParser.MaxProcesses)
                diag.Warning(map.Location, $"'cpu-map': process {map.FirstProcess} is above 'nbproc {nbProc}' and will never run");
    }
}

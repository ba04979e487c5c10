namespace Proxy.Shared.Config;

/// <summary>
/// Proxy keywords, options and timeouts that real configurations carry (doc/configuration.txt 4.2) beyond the ones
/// <see cref="ProxySectionParser"/> implements itself. Each one takes effect, or is accepted with a warning at
/// FILE:LINE that says why it has no effect here; both lists are tables, so the README's table is generated from them.
/// Where a keyword may appear follows HAProxy's matrix (4.1): outside it, the usual "no effect in ..." warning.
/// </summary>
internal sealed class ProxyExtrasParser(ConfigDiagnostics diag, ServerLineParser servers)
{
    private const ProxyCapabilities D = ProxyCapabilities.Defaults;
    private const ProxyCapabilities F = ProxyCapabilities.Frontend;
    private const ProxyCapabilities B = ProxyCapabilities.Backend;

    /// <summary>Keywords: where each may appear (4.1), and what it does here (null: accepted with the warning in <see cref="NoEffect"/>).</summary>
    public static readonly Dictionary<string, (ProxyCapabilities Sections, string? Effect)> Keywords = new(StringComparer.Ordinal)
    {
        ["enabled"] = (D | F | B, "the default: the proxy runs"),
        ["disabled"] = (D | F | B, "the proxy does not run: a frontend listens nowhere, a backend has no server (503)"),
        ["dispatch"] = (B, "the backend's one server (`dispatch ADDRESS:PORT` is `server dispatch ADDRESS:PORT`)"),
        ["backlog"] = (D | F, "the listen(2) queue of the frontend's binds that set no `backlog` of their own"),
        ["fullconn"] = (D | B, "the backend load at which servers reach their `maxconn` (with `minconn`: a dynamic limit); unset: 10% of the maxconn of the frontends that reach the backend"),
        ["id"] = (F | B, null),
        ["description"] = (F | B, null),
        ["source"] = (D | B, null),
        ["retry-on"] = (D | B, null),
        ["http-send-name-header"] = (B, null),
        ["max-keep-alive-queue"] = (D | B, null),
        ["load-server-state-from-file"] = (D | B, null),
        ["server-state-file-name"] = (D | B, null),
        ["log-tag"] = (D | F | B, "the syslog tag of the frontend's traffic log lines (a backend's changes nothing: it logs no traffic here)"),
        ["email-alert"] = (D | F | B, null),
    };

    /// <summary>`option NAME`s: where each may appear, and what it does here (null: the warning in <see cref="NoEffect"/>).</summary>
    public static readonly Dictionary<string, (ProxyCapabilities Sections, string? Effect)> Options = new(StringComparer.Ordinal)
    {
        ["tcpka"] = (D | F | B, "SO_KEEPALIVE on client and server connections (the kernel's probe timing)"),
        ["clitcpka"] = (D | F, "SO_KEEPALIVE on client connections (the kernel's probe timing)"),
        ["srvtcpka"] = (D | B, "SO_KEEPALIVE on server connections (the kernel's probe timing)"),
        ["dontlog-normal"] = (D | F, null),
        ["log-separate-errors"] = (D | F, null),
        ["logasap"] = (D | F, null),
        ["nolinger"] = (D | F | B, null),
        ["tcp-smart-accept"] = (D | F, "the kernel does not acknowledge a client's first data at once (TCP_QUICKACK off on the listener): the answer carries the ACK; on by default in `mode http`, `no option tcp-smart-accept` turns it off"),
        ["tcp-smart-connect"] = (D | B, null),
        ["independent-streams"] = (D | F | B, null),
        ["prefer-last-server"] = (D | B, null),
        ["log-health-checks"] = (D | B, "each check result that moves a server's health is logged (`Health check for server BE/SRV succeeded|failed, ..., status: N/M UP|DOWN.`)"),
        ["http-buffer-request"] = (D | F | B, "the request body is waited for (whole, until the buffer is full, or `timeout http-request`: 408) before the proxy's http-request rules run and a server is chosen; `req.body` then sees it"),
        ["abortonclose"] = (D | B, "a request whose client closed (FIN or reset) is dropped while it waits in the queue (CQ) or for its server connection (CC), never sent"),
    };

    /// <summary>`timeout KIND`s accepted with a warning, and where each may appear.</summary>
    public static readonly Dictionary<string, ProxyCapabilities> Timeouts = new(StringComparer.Ordinal)
    {
        ["client-fin"] = D | F,
        ["server-fin"] = D | B,
    };

    /// <summary>Why each keyword, option or timeout without an effect here has none (the warning's text).</summary>
    public static readonly Dictionary<string, string> NoEffect = new(StringComparer.Ordinal)
    {
        ["id"] = "proxies are numbered in the order of the file on the stats board",
        ["description"] = "only the stats page shows a proxy's description, and the page here does not show it yet",
        ["source"] = "connections to servers leave from the address the kernel picks",
        ["retry-on"] = "a connection is retried only when it fails to open (`retry-on conn-failure`, HAProxy's default)",
        ["http-send-name-header"] = "no header is added with the server's name",
        ["max-keep-alive-queue"] = "a request never waits in a queue for a kept-alive server connection here",
        ["load-server-state-from-file"] = "server states are not loaded from a file: servers start as their configuration says",
        ["server-state-file-name"] = "server states are not loaded from a file: servers start as their configuration says",
        ["email-alert"] = "no mail is sent here: server state changes are only logged",
        ["option dontlog-normal"] = "every connection is logged, not only those with an error",
        ["option log-separate-errors"] = "errors are logged at the same level as other lines",
        ["option logasap"] = "a line is logged when the connection ends, with its full byte counts",
        ["option nolinger"] = "connections are closed with the kernel's default linger",
        ["option tcp-smart-connect"] = "server connections send their first data after the handshake's last ACK (no TCP_QUICKACK delay)",
        ["option independent-streams"] = "a timeout here is reset by traffic in either direction",
        ["option prefer-last-server"] = "each request is balanced on its own (an idle connection to its server is reused)",
        ["timeout client-fin"] = "a half-closed client connection is timed by `timeout client`",
        ["timeout server-fin"] = "a half-closed server connection is timed by `timeout server`",
    };

    /// <summary>`server`/`default-server` options accepted with a warning (ServerLineParser), and why.</summary>
    public static readonly Dictionary<string, string> ServerOptionsWithoutEffect = new(StringComparer.Ordinal)
    {
        ["id"] = "servers are numbered in the order of the file on the stats board",
        ["maxqueue"] = "no request waits in a server's own queue here: one for a full server goes at once to another server or to the backend's queue, as when `maxqueue` is reached",
    };

    /// <summary>Parses a keyword line of the table; false when <paramref name="line"/>'s keyword is not one of them.</summary>
    public bool TryParse(ProxyDraft proxy, ConfigLine line)
    {
        if (!Keywords.TryGetValue(line.Keyword, out var entry)) return false;
        var w = line.Words;
        int n = line.Number;
        if (!ProxySectionParser.Allows(proxy, entry.Sections))
        {
            ProxySectionParser.ReportMisplaced(diag, proxy, n, line.Keyword, entry.Sections);
            return true;
        }
        switch (line.Keyword)
        {
            case "enabled":
                if (LineChecks.Exactly(diag, line, 0, "enabled")) proxy.Disabled = false;
                return true;
            case "disabled":
                if (LineChecks.Exactly(diag, line, 0, "disabled")) proxy.Disabled = true;
                return true;
            case "dispatch":
                // HAProxy: a dispatch address is the server connections go to when the backend has none.
                if (LineChecks.Exactly(diag, line, 1, "dispatch ADDRESS:PORT"))
                    servers.ParseServer(proxy, line with { Words = ["server", "dispatch", w[1]] });
                return true;
            case "retry-on":
                if (w.Count < 2)
                {
                    diag.Error(n, "'retry-on': missing argument, expected 'retry-on KEYWORD...'");
                    return true;
                }
                // `retry-on conn-failure` alone is what happens here anyway; anything more asks for what is not done.
                if (w.Count == 2 && w[1] is "conn-failure" or "none") return true;
                break;
            case "backlog":
                // 4.2 "backlog": the listen(2) queue of the frontend's binds that set none themselves (ListenerSet).
                if (LineChecks.Exactly(diag, line, 1, "backlog NUMBER")
                    && LineChecks.TryInt(diag, n, "backlog", w[1], 1, int.MaxValue, out int backlog))
                    proxy.Backlog = backlog;
                return true;
            case "fullconn":
                // 4.2 "fullconn": servers with `minconn` below `maxconn` scale between the two up to this backend load.
                if (LineChecks.Exactly(diag, line, 1, "fullconn NUMBER")
                    && LineChecks.TryInt(diag, n, "fullconn", w[1], 0, int.MaxValue, out int fullConn))
                    proxy.FullConn = fullConn;
                return true;
            case "id" or "max-keep-alive-queue":
                if (!LineChecks.Exactly(diag, line, 1, $"{line.Keyword} NUMBER")
                    || !LineChecks.TryInt(diag, n, line.Keyword, w[1], 0, int.MaxValue, out _)) return true;
                break;
            case "source":
                if (w.Count < 2)
                {
                    diag.Error(n, "'source': missing argument, expected 'source ADDRESS[:PORT] [usesrc ...]'");
                    return true;
                }
                // `source 0.0.0.0` (or `::`) with nothing after it is the kernel's choice: the default, so it holds here.
                if (w.Count == 2 && w[1] is "0.0.0.0" or "::" or "*") return true;
                break;
            case "log-tag":
                // 4.2 "log-tag": the tag of the proxy's log lines (a frontend's traffic logs here; a backend logs none).
                if (LineChecks.Exactly(diag, line, 1, "log-tag NAME")) proxy.LogTag = w[1];
                return true;
            case "email-alert":
                // 4.2 "email-alert from|level|mailers|myhostname|to VALUE": checked as HAProxy does, then the warning.
                if (w.Count != 3 || w[1] is not ("from" or "level" or "mailers" or "myhostname" or "to"))
                {
                    diag.Error(n, "'email-alert': expected 'email-alert from|level|mailers|myhostname|to VALUE'");
                    return true;
                }
                break;
            case "description" or "load-server-state-from-file" or "server-state-file-name":
                if (w.Count < 2)
                {
                    diag.Error(n, $"'{line.Keyword}': missing argument");
                    return true;
                }
                if (line.Keyword == "load-server-state-from-file" && w[1] == "none") return true;
                break;
        }
        diag.Warning(n, $"'{line.Keyword}' has no effect here: {NoEffect[line.Keyword]}");
        return true;
    }

    /// <summary>`[no] option NAME` of the table; false when it is not one of them.</summary>
    public bool TryParseOption(ProxyDraft proxy, ConfigLine line, string name, bool negated, int at)
    {
        if (!Options.TryGetValue(name, out var entry)) return false;
        var keyword = (negated ? "no option " : "option ") + name;
        if (!ProxySectionParser.Allows(proxy, entry.Sections))
        {
            ProxySectionParser.ReportMisplaced(diag, proxy, line.Number, keyword, entry.Sections);
            return true;
        }
        if (line.Words.Count > at + 1)
        {
            diag.Error(line.Number, $"'{keyword}' takes no argument, got {ConfigDiagnostics.Quote(line.Words[at + 1])}");
            return true;
        }
        switch (name)
        {
            // `option tcpka` sets both sides; in a frontend or backend only its own side applies (HAProxy 4.2).
            case "tcpka":
                if (proxy.IsFrontend || proxy.Capabilities == ProxyCapabilities.Defaults) proxy.ClientTcpKeepAlive = !negated;
                if (proxy.IsBackend || proxy.Capabilities == ProxyCapabilities.Defaults) proxy.ServerTcpKeepAlive = !negated;
                return true;
            case "clitcpka":
                proxy.ClientTcpKeepAlive = !negated;
                return true;
            case "tcp-smart-accept":
                // Explicit either way; unset, `mode http` turns it on (HAProxy's cfgparse: PR_O2_SMARTACC for HTTP proxies).
                proxy.SmartAccept = !negated;
                return true;
            case "srvtcpka":
                proxy.ServerTcpKeepAlive = !negated;
                return true;
            case "log-health-checks":
                proxy.LogHealthChecks = !negated;
                return true;
            case "http-buffer-request":
                // HttpSession.BufferRequestBodyAsync: in a frontend before its rules, in a backend after use_backend (4.2).
                proxy.BufferRequest = !negated;
                if (!negated && proxy.Capabilities != ProxyCapabilities.Defaults) proxy.FirstHttpOnlyKeyword ??= (line.Number, keyword);
                return true;
            case "abortonclose":
                // HttpSession.WatchClientClose: the client's close is looked for while the request is queued or connecting.
                proxy.AbortOnClose = !negated;
                return true;
        }
        // `no option X` asks for what happens here anyway.
        if (!negated)
            diag.Warning(line.Number, $"'{keyword}' has no effect here: {NoEffect["option " + name]}");
        return true;
    }

    /// <summary>`timeout client-fin|server-fin|tarpit TIME`; false when the kind is not one of them.</summary>
    public bool TryParseTimeout(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count < 2 || !Timeouts.TryGetValue(w[1], out var sections)) return false;
        var keyword = "timeout " + w[1];
        if (!ProxySectionParser.Allows(proxy, sections))
            ProxySectionParser.ReportMisplaced(diag, proxy, line.Number, keyword, sections);
        else if (LineChecks.Exactly(diag, line, 1, keyword + " TIME", keywordWords: 2)
                 && LineChecks.TryTime(diag, line.Number, keyword, w[2], out _))
            diag.Warning(line.Number, $"'{keyword}' has no effect here: {NoEffect[keyword]}");
        return true;
    }
}

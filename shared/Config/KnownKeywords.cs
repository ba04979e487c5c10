namespace Proxy.Shared.Config;

/// <summary>
/// Keywords that HAProxy accepts (doc/configuration.txt sections 3 and 4) but this proxy does not implement
/// yet. They are listed so that the error says "'X' is not supported yet" rather than "unknown keyword":
/// the author wrote valid HAProxy, and nothing is ever silently ignored.
/// </summary>
internal static class KnownKeywords
{
    /// <summary>Section keywords other than global, defaults, frontend, backend, listen.</summary>
    public static readonly HashSet<string> UnsupportedSections =
    [
        "program", "ring", "cache", "fcgi-app",
        "crt-store", "traces", "log-forward", "acme", "namespace_list",
    ];

    /// <summary>Global keywords (configuration.txt section 3).</summary>
    public static readonly HashSet<string> UnsupportedGlobal =
    [
        "thread-groups", "thread-group", "ca-base", "crt-base",
        
        "lua-load", "lua-load-per-thread", "lua-prepend-path", 
        "h1-case-adjust", "h1-case-adjust-file", "localpeer", "numa-cpu-mapping", "busy-polling", "max-spread-checks",
        "maxsslconn", "maxsslrate", 
        "expose-experimental-directives", "set-dumpable", "external-check", "unix-bind", 
        "server-state-base", "noepoll", "nopoll", "nokqueue", "noevports", "nogetaddrinfo",
        "profiling.tasks", "profiling.memory", "debug", "strict-limits", "issuers-chain-path",
        "cluster-secret", "httpclient.resolvers.id", "hard-stop-after-grace", "grace", "close-spread-time",
        "fd-hard-limit", "log-format", "stats", "limited-quic", "anonkey", "ocsp-update.mode",
        "deviceatlas-json-file", "51degrees-data-file", "wurfl-data-file", "harden.reject-privileged-ports.tcp",
    ];

    /// <summary>Proxy keywords (configuration.txt section 4.1 table).</summary>
    public static readonly HashSet<string> UnsupportedProxy =
    [
        "capture",
        "rate-limit", "hash-key", "log-format",
        "error-log-format", "log-steps", "unique-id-format", "unique-id-header",
        "bind-process",
        "filter", "max-session-srv-conns",
        "grace", "http-error", "guid", "external-check", "clitimeout", "contimeout", "srvtimeout",
        "reqadd", "rspadd", "reqrep", "rsprep", "reqdel", "rspdel", "block", "transparent", "http-restrict-req-hdr-names",
        "use-fcgi-app", "external-check", "quic-initial",
    ];

    /// <summary>`option` names (configuration.txt section 4.2, "option ...").</summary>
    public static readonly HashSet<string> UnsupportedOptions =
    [
        "forwarded",
        "http-pretend-keepalive",
        "http-no-delay", "http-use-proxy-header", "http-use-htx", "h1-case-adjust-bogus-client",
        "h1-case-adjust-bogus-server", "http-restrict-req-hdr-names",
        "spop-check", "external-check", 
        "contstats", "checkcache", 
        "socket-stats",
        "transparent", "accept-invalid-http-request", "accept-invalid-http-response",
        "accept-unsafe-violations-in-http-request", "accept-unsafe-violations-in-http-response",
        "disable-h2-upgrade", "idle-close-on-response", "http_proxy", "assume-rfc6587-ntf",
        "dont-parse-log", "host-header",
    ];

    /// <summary>`bind` options (configuration.txt section 5.1); `accept-proxy` is implemented (ProxySectionParser), the others not yet.</summary>
    public static readonly HashSet<string> BindOptions =
    [
        "accept-netscaler-cip", "accept-proxy", "allow-0rtt", "alpn", "backlog", "ca-file", "ca-ignore-err",
        "ca-sign-file", "ca-sign-pass", "ca-verify-file", "ciphers", "ciphersuites", "crl-file", "crt", "crt-ignore-err",
        "crt-list", "curves", "defer-accept", "expose-fd", "force-sslv3", "force-tlsv10", "force-tlsv11", "force-tlsv12",
        "force-tlsv13", "generate-certificates", "gid", "group", "guid-prefix", "id", "idle-ping", "interface", "label",
        "level", "maxconn", "mode", "mss", "name", "namespace", "nbconn", "nice", "no-ca-names", "no-alpn", "no-sslv3",
        "no-tls-tickets", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "npn", "prefer-client-ciphers", "proto",
        "quic-cc-algo", "quic-force-retry", "severity-output", "shards", "sigalgs", "ssl", "ssl-max-ver", "ssl-min-ver",
        "strict-sni", "tcp-ut", "tfo", "thread", "tls-ticket-keys", "transparent", "uid", "user", "v4v6", "v6only",
        "verify", "process",
    ];

    /// <summary>`server` / `default-server` options (configuration.txt section 5.2) not implemented yet.</summary>
    public static readonly HashSet<string> UnsupportedServerOptions =
    [
        "allow-0rtt", "alpn", "ca-file",
        "check-alpn", "check-proto", "check-ssl", "check-sni", "check-via-socks4", "ciphers",
        "ciphersuites", "crl-file", "crt", "force-sslv3", "force-tlsv10", "force-tlsv11", "force-tlsv12", "force-tlsv13",
        "log-proto",
        "max-reuse", "namespace", "no-check", "no-check-ssl",
        "no-ssl", "no-ssl-reuse", "no-sslv3", "no-tls-tickets", "no-tlsv10",
        "no-tlsv11", "no-tlsv12", "no-tlsv13", "no-verifyhost", "no-tfo", "npn",
        "pool-low-conn", "pool-max-conn", "pool-purge-delay", "proto",
        "redir",
        "set-proxy-v2-tlv-fmt", "sni", "source", "ssl",
        "ssl-max-ver", "ssl-min-ver", "ssl-reuse", "stick", "socks4", "tcp-ut", "tfo", "verify", "verifyhost",
        "ws", "curves", "sigalgs", "client-sigalgs", "shard", "hash-key", "guid", "strict-maxconn", "no-backup",
        "enabled", "idle-ping",
    ];

    /// <summary>Whether <paramref name="keyword"/> is a HAProxy global keyword that this proxy does not implement.</summary>
    public static bool IsUnsupportedGlobal(string keyword) =>
        UnsupportedGlobal.Contains(keyword) || keyword.StartsWith("tune.", StringComparison.Ordinal)
        || keyword.StartsWith("ssl-", StringComparison.Ordinal) || keyword.StartsWith("quic-", StringComparison.Ordinal)
        || keyword.StartsWith("httpclient.", StringComparison.Ordinal) || keyword.StartsWith("lua-", StringComparison.Ordinal)
        || keyword.StartsWith("ocsp-update.", StringComparison.Ordinal);
}

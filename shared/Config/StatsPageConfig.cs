namespace Proxy.Shared.Config;

/// <summary>
/// A proxy's statistics page (doc/configuration.txt 4.2 "stats enable", "stats uri", "stats auth"...): requests whose
/// URI starts with <see cref="Uri"/> are answered by the worker itself from the stats board, never forwarded. In a
/// frontend (or listen) every request is tested; in a backend, the requests that reach it (HAProxy checks the
/// frontend's then the backend's `stats` settings, each after that proxy's `http-request` rules).
/// </summary>
/// <param name="Uri">`stats uri PREFIX`: matched as a prefix of the request target (default `/haproxy?stats`).</param>
/// <param name="Realm">`stats realm REALM`: the Basic realm of the 401 (default `HAProxy Statistics`).</param>
/// <param name="Users">`stats auth USER:PASSWORD` lines; empty: no authentication.</param>
/// <param name="Refresh">`stats refresh DELAY`: the page's `Refresh` header; null: none.</param>
/// <param name="Admin">`stats admin if|unless COND`: when it holds, the page offers (and accepts) server actions.</param>
/// <param name="Scope">`stats scope NAME|.` lines (`.` already replaced by the proxy's name); empty: every proxy.</param>
public sealed record StatsPageConfig(
    string Uri,
    string Realm,
    IReadOnlyList<StatsUser> Users,
    TimeSpan? Refresh,
    ConditionConfig? Admin,
    IReadOnlyList<string> Scope)
{
    /// <summary>HAProxy's STATS_DEFAULT_URI.</summary>
    public const string DefaultUri = "/haproxy?stats";

    /// <summary>HAProxy's STATS_DEFAULT_REALM.</summary>
    public const string DefaultRealm = "HAProxy Statistics";

    /// <summary>`stats hide-version`: the version and the release date are left out of the page.</summary>
    public bool HideVersion { get; init; }

    /// <summary>`stats show-legends`: the info block explains the colours and the columns.</summary>
    public bool ShowLegends { get; init; }

    /// <summary>`stats show-node [NAME]`: the node's name in the page title; "": the global `node`; null: not shown.</summary>
    public string? ShowNode { get; init; }

    /// <summary>`stats show-desc [DESCRIPTION]`: a description under the title; "": the global `description`; null: not shown.</summary>
    public string? ShowDesc { get; init; }
}

/// <summary>One `stats auth USER:PASSWORD` line (the password in clear, as HAProxy takes it there).</summary>
public sealed record StatsUser(string User, string Password);

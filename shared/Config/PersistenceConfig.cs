namespace Proxy.Shared.Config;

// Server persistence without stick tables (doc/configuration.txt 4.2 "cookie", "force-persist", "ignore-persist",
// "use-server", "option persist"): the model the worker's Persistence folder runs.

/// <summary>`cookie NAME insert|rewrite|prefix`: how the proxy handles the persistence cookie (none of them: passive).</summary>
public enum CookieMode { Passive, Insert, Rewrite, Prefix }

/// <summary>
/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve] [httponly] [secure] [domain D]...
/// [maxidle T] [maxlife T] [attr V]...` (4.2 "cookie"). <see cref="MaxIdleSeconds"/> and <see cref="MaxLifeSeconds"/>
/// are 0 when unset; <see cref="Domains"/> and <see cref="Attributes"/> are emitted in order on an inserted cookie.
/// </summary>
public sealed record CookiePersistenceConfig(string Name, CookieMode Mode)
{
    public bool Indirect { get; init; }
    public bool NoCache { get; init; }
    public bool PostOnly { get; init; }
    public bool Preserve { get; init; }
    public bool HttpOnly { get; init; }
    public bool Secure { get; init; }
    public IReadOnlyList<string> Domains { get; init; } = [];
    public IReadOnlyList<string> Attributes { get; init; } = [];
    public int MaxIdleSeconds { get; init; }
    public int MaxLifeSeconds { get; init; }
    /// <summary>`dynamic`: a server without `cookie VALUE` gets one from `dynamic-cookie-key` and its address (4.2).</summary>
    public bool Dynamic { get; init; }
}

/// <summary>`force-persist if COND` (<see cref="Force"/>) or `ignore-persist if COND` (4.2): the first that holds decides.</summary>
public sealed record PersistRule(bool Force, ConditionConfig Condition, SourceLocation Location);

/// <summary>`use-server SERVER [if|unless COND]` (4.2): the first that holds names the request's server.</summary>
public sealed record UseServerRule(string Server, ConditionConfig? Condition, SourceLocation Location);

/// <summary>A backend's persistence settings; <see cref="None"/> when it has none.</summary>
public sealed record PersistenceSettings(CookiePersistenceConfig? Cookie, bool Persist, IReadOnlyList<PersistRule> PersistRules,
    IReadOnlyList<UseServerRule> UseServers)
{
    public static PersistenceSettings None { get; } = new(null, false, [], []);

    /// <summary>`dynamic-cookie-key KEY` (4.2): the secret of `cookie ... dynamic`; null: none (servers then get no dynamic cookie).</summary>
    public string? DynamicCookieKey { get; init; }

    /// <summary>Whether anything here can choose a request's server before the balancer does.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsActive => Cookie is not null || UseServers.Count > 0;
}

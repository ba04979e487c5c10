using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Persistence;

/// <summary>
/// A backend's persistence settings, compiled once (doc/configuration.txt 4.2 "cookie", "force-persist",
/// "ignore-persist", "use-server", "option persist"): the cookie name and flags as bytes, each server's cookie value,
/// the rules' conditions and servers, and the attributes an inserted Set-Cookie carries after its value. A request's
/// use of them is <see cref="RequestPersistence"/>.
/// </summary>
internal sealed class BackendPersistence
{
    private readonly (bool Force, CompiledCondition Condition)[] _persistRules;
    private readonly (CompiledCondition? Condition, ServerRuntime Server)[] _useServers;

    private BackendPersistence(BackendRuntime be, PersistenceSettings settings)
    {
        Settings = settings;
        Servers = be.Servers;
        Cookie = settings.Cookie;
        Persist = settings.Persist;
        _persistRules = new (bool, CompiledCondition)[settings.PersistRules.Count];
        for (int i = 0; i < _persistRules.Length; i++)
            _persistRules[i] = (settings.PersistRules[i].Force, new CompiledCondition(settings.PersistRules[i].Condition));
        var useServers = new List<(CompiledCondition?, ServerRuntime)>();
        foreach (var rule in settings.UseServers)
            foreach (var s in be.Servers)
                if (s.Name == rule.Server) useServers.Add((rule.Condition is { } c ? new CompiledCondition(c) : null, s));
        _useServers = useServers.ToArray();
        ServerCookies = new byte[]?[be.Servers.Length];
        for (int i = 0; i < be.Servers.Length; i++)
            if (be.Servers[i].Config.Cookie is { } value) ServerCookies[i] = Encoding.ASCII.GetBytes(value);
            else if (settings.Cookie is { Dynamic: true } && settings.DynamicCookieKey is { } key)
                ServerCookies[i] = DynamicCookie.For(key, be.Servers[i].EndPoint);
        if (Cookie is { } c2)
        {
            Name = Encoding.ASCII.GetBytes(c2.Name);
            // What follows the value on an inserted cookie, in HAProxy's order: path, domains, HttpOnly, Secure, attrs.
            var sb = new StringBuilder("; path=/");
            foreach (var d in c2.Domains) sb.Append("; domain=").Append(d);
            if (c2.HttpOnly) sb.Append("; HttpOnly");
            if (c2.Secure) sb.Append("; Secure");
            foreach (var a in c2.Attributes) sb.Append("; ").Append(a);
            Attributes = Encoding.ASCII.GetBytes(sb.ToString());
        }
    }

    /// <summary>The compiled settings of <paramref name="be"/>, or null when it has none.</summary>
    public static BackendPersistence? Create(BackendRuntime be)
    {
        var settings = be.Config.Persistence;
        if (settings.Cookie is null && settings.UseServers.Count == 0) return null;   // rules alone change nothing
        return new BackendPersistence(be, settings);
    }

    public PersistenceSettings Settings { get; }
    public ServerRuntime[] Servers { get; }
    public CookiePersistenceConfig? Cookie { get; }
    /// <summary>The cookie name (empty without `cookie`).</summary>
    public byte[] Name { get; } = [];
    /// <summary>`; path=/[; domain=D]...[; HttpOnly][; Secure][; ATTR]...` of an inserted cookie.</summary>
    public byte[] Attributes { get; } = [];
    /// <summary>`option persist`: a cookie or `use-server` naming a down server still sends the request there.</summary>
    public bool Persist { get; }
    /// <summary>Each server's `cookie` value by server index; null: none.</summary>
    public byte[]?[] ServerCookies { get; }

    /// <summary>`force-persist` / `ignore-persist`: the first rule whose condition holds; 1 force, -1 ignore, 0 none.</summary>
    public int EvaluatePersistRules(SampleContext facts)
    {
        foreach (var (force, condition) in _persistRules)
            if (condition.Evaluate(facts)) return force ? 1 : -1;
        return 0;
    }

    /// <summary>
    /// `use-server` (4.2): the server of the first rule whose condition holds and that may take the request: up, or
    /// any with <paramref name="force"/> (`option persist` or `force-persist`); a rule naming a down server is
    /// skipped so a later one may apply. Null when none.
    /// </summary>
    public ServerRuntime? EvaluateUseServer(SampleContext facts, bool force)
    {
        foreach (var (condition, server) in _useServers)
        {
            if (condition is not null && !condition.Evaluate(facts)) continue;
            if (IsRunning(server) || force) return server;
        }
        return null;
    }

    /// <summary>HAProxy's "not SRV_ST_STOPPED": up by its checks and not in maintenance (a draining server keeps its clients).</summary>
    public static bool IsRunning(ServerRuntime s) => s.IsUp && s.AdminState != ServerAdminState.Maint;
}

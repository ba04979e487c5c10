using Proxy.Shared.Config;

namespace Proxy.Shared.Stats;

/// <summary>The object kinds of HAProxy's `show stat`; the values are its `type` column (0=frontend, 1=backend, 2=server, 3=listener).</summary>
public enum StatObjectKind { Frontend = 0, Backend = 1, Server = 2, Listener = 3 }

/// <summary>The `mode` of an object's proxy (`show stat` mode column); HAProxy shows the HTTP counters in mode http only.</summary>
public enum StatProxyMode { Unknown = 0, Tcp = 1, Http = 2 }

/// <summary>
/// One object on the board, named as `show stat` names it: <see cref="ProxyName"/> is pxname,
/// <see cref="ServiceName"/> is svname (FRONTEND, BACKEND, a server or a listener name).
/// <see cref="Key"/> ("pxname/svname") is the stable name that carries totals across reloads.
/// </summary>
public readonly record struct StatObjectDescriptor(StatObjectKind Kind, string ProxyName, string ServiceName)
{
    public string Key => $"{ProxyName}/{ServiceName}";

    /// <summary>Its proxy's mode; Unknown shows every field as in mode http.</summary>
    public StatProxyMode Mode { get; init; }

    public static StatObjectDescriptor Frontend(string name, StatProxyMode mode = StatProxyMode.Unknown) =>
        new(StatObjectKind.Frontend, name, "FRONTEND") { Mode = mode };

    public static StatObjectDescriptor Backend(string name, StatProxyMode mode = StatProxyMode.Unknown) =>
        new(StatObjectKind.Backend, name, "BACKEND") { Mode = mode };

    public static StatObjectDescriptor Server(string backend, string server, StatProxyMode mode = StatProxyMode.Unknown) =>
        new(StatObjectKind.Server, backend, server) { Mode = mode };

    /// <summary>A listener of a frontend, named by its bind key (e.g. "0.0.0.0:80"), as HAProxy's `option socket-stats` does.</summary>
    public static StatObjectDescriptor Listener(string frontend, string bindKey, StatProxyMode mode = StatProxyMode.Unknown) =>
        new(StatObjectKind.Listener, frontend, bindKey) { Mode = mode };

    public override string ToString() => Key;
}

/// <summary>Builds the board's object list from a configuration.</summary>
public static class StatObjects
{
    /// <summary>
    /// Every frontend (then its listeners) and every backend (then its servers), in configuration order,
    /// which is also the order `show stat` prints them in.
    /// </summary>
    public static IReadOnlyList<StatObjectDescriptor> FromConfig(ProxyConfig config)
    {
        var list = new List<StatObjectDescriptor>();
        foreach (var fe in config.Frontends)
        {
            var mode = ModeOf(fe.Mode);
            list.Add(StatObjectDescriptor.Frontend(fe.Name, mode));
            foreach (var bind in fe.Binds)
                list.Add(StatObjectDescriptor.Listener(fe.Name, bind.Key, mode));
        }
        foreach (var be in config.Backends)
        {
            var mode = ModeOf(be.Mode);
            list.Add(StatObjectDescriptor.Backend(be.Name, mode));
            foreach (var srv in be.Servers)
                list.Add(StatObjectDescriptor.Server(be.Name, srv.Name, mode));
        }
        return list;
    }

    private static StatProxyMode ModeOf(ProxyMode mode) => mode == ProxyMode.Http ? StatProxyMode.Http : StatProxyMode.Tcp;
}

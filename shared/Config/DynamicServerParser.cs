namespace Proxy.Shared.Config;

/// <summary>
/// The runtime API's `add server BACKEND/NAME ADDRESS[:PORT] [options]` (doc/management.txt "add server"): the same
/// options as a `server` line (ServerLineParser), with HAProxy 2.6's restrictions: no `default-server` settings are
/// reused, the name must be new in the backend, and the backend must balance with a dynamic algorithm. Answers are
/// HAProxy's words (checked against Debian's 2.6.12).
/// </summary>
public static class DynamicServerParser
{
    /// <summary>Where a dynamic server's problems and its <see cref="ServerConfig.Location"/> point.</summary>
    public const string Origin = "stats socket command";

    /// <summary>
    /// Parses <paramref name="args"/> (the address, then options) into a server of <paramref name="backend"/>; the
    /// server, or HAProxy's error line.
    /// </summary>
    public static (ServerConfig? Server, string? Error) Parse(BackendConfig backend, string name, IReadOnlyList<string> args)
    {
        if (args.Count == 0) return (null, "'server' expects <name> and <addr>[:<port>] as arguments.");
        if (!IsDynamic(backend)) return (null, "Backend must use a dynamic load balancing to support dynamic servers.");
        foreach (var s in backend.Servers)
            if (s.Name == name) return (null, "Already exists a server with the same name in backend.");
        var diag = new ConfigDiagnostics(Origin);
        // A fresh draft: HAProxy applies no `default-server` line to a dynamic server.
        var draft = new ProxyDraft { Name = backend.Name, Capabilities = ProxyCapabilities.Backend, Location = backend.Location };
        var words = new List<string>(args.Count + 2) { "server", name };
        words.AddRange(args);
        new ServerLineParser(diag, AddressParser.SystemResolver).ParseServer(draft, new ConfigLine(1, words, false));
        if (diag.HasErrors) return (null, diag.Errors[0].Message);
        return draft.Servers.Count == 1 ? (draft.Servers[0], null) : (null, "'server' expects <name> and <addr>[:<port>] as arguments.");
    }

    /// <summary>
    /// HAProxy's dynamic algorithms (BE_LB_PROP_DYN): every one but `static-rr` and the map-based hashes, whose server
    /// tables are built once at start.
    /// </summary>
    public static bool IsDynamic(BackendConfig backend) => backend.Balance switch
    {
        BalanceAlgorithm.StaticRoundRobin => false,
        BalanceAlgorithm.Source or BalanceAlgorithm.Uri or BalanceAlgorithm.UrlParam or BalanceAlgorithm.Header
            => backend.BalanceOptions.HashMethod == HashMethod.Consistent,
        _ => true,
    };
}

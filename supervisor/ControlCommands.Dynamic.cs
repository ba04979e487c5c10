using Proxy.Shared.Config;
using Proxy.Shared.Stats;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Supervisor;

// `add server` and `del server` (doc/management.txt 9.3): dynamic servers. Each change starts a new generation on the
// changed model (Supervisor.ChangeServersAsync), so every worker and the board's rows follow it; a reload reads the
// file again and loses them, as HAProxy does. Answers are HAProxy 2.6's (checked against Debian's 2.6.12).
public sealed partial class ControlCommands
{
    /// <summary>`add server BE/SRV ADDR[:PORT] [options]`: the server starts in maintenance; `enable server` brings it up.</summary>
    private async Task<string> AddServerAsync(string[] words, CliSession session)
    {
        if (words.Length < 3 || Split(words[2]) is not var (backend, server)) return "Require 'backend/server'.\n";
        string[] args = words[3..];
        string? error = await supervisor.ChangeServersAsync(config =>
        {
            var be = config.FindBackend(backend);
            if (be is null) return (null, "No such backend.");
            var (added, problem) = DynamicServerParser.Parse(be, server, args);
            if (added is null) return (null, problem);
            // HAProxy 2.6 creates a dynamic server in maintenance: `enable server` or `set server ... state ready` puts it
            // in the farm. Kept as the operator's setting (not `disabled` in the model), so its checks can run.
            var next = WithServers(config, be, [.. be.Servers, added]);
            var (_, settingError) = supervisor.Servers.Set(next, $"{backend}/{server}", "maint", null);
            return settingError is null ? (next, null) : (null, settingError);
        });
        return (error ?? "New server registered.") + "\n";
    }

    /// <summary>`del server BE/SRV`: only a server in maintenance with no connection and nothing queued.</summary>
    private async Task<string> DelServerAsync(string[] words, CliSession session)
    {
        if (words.Length < 3 || Split(words[2]) is not var (backend, server)) return "Require 'backend/server'.\n";
        string target = $"{backend}/{server}";
        string? error = await supervisor.ChangeServersAsync(config =>
        {
            var be = config.FindBackend(backend);
            var sc = ServerSettings.Configured(config, target);
            if (be is null || sc is null) return (null, "No such server.");
            string state = supervisor.Servers.Get(target)?.State ?? (sc.Disabled ? "maint" : "ready");
            if (state != "maint") return (null, "Only servers in maintenance mode can be deleted.");
            // Every worker's connections to it, draining generations' included (the board's live rows).
            var row = supervisor.Board.Snapshot().Total(target);
            if (row[StatField.Scur] > 0 || row[StatField.Qcur] > 0)
                return (null, "Server still has connections attached to it, cannot remove it.");
            var rest = new List<ServerConfig>(be.Servers.Count);
            foreach (var s in be.Servers)
                if (s.Name != server) rest.Add(s);
            return (WithServers(config, be, rest), null);
        });
        return (error ?? "Server deleted.") + "\n";
    }

    private static (string Backend, string Server)? Split(string target)
    {
        int slash = target.IndexOf('/');
        return slash <= 0 || slash == target.Length - 1 ? null : (target[..slash], target[(slash + 1)..]);
    }

    private static ProxyConfig WithServers(ProxyConfig config, BackendConfig backend, IReadOnlyList<ServerConfig> servers)
    {
        var backends = new List<BackendConfig>(config.Backends.Count);
        foreach (var b in config.Backends) backends.Add(b == backend ? b with { Servers = servers } : b);
        return config with { Backends = backends };
    }
}

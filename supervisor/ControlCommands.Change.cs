using System.Globalization;
using System.Net;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Supervisor;

// The commands that change the running proxy: every worker of the current generation obeys, and a worker started
// later (respawn, reload) gets the same settings (Supervisor.SetServerAsync and ServerSettings).
public sealed partial class ControlCommands
{
    private const string SetServerUsage =
        "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n";

    /// <summary>`clear counters` (operator: the maxima) and `clear counters all` (admin: every counter), on the board.</summary>
    private Task<string> ClearCounters(string[] words, CliSession session)
    {
        bool all = words.Length > 2 && words[2] == "all";
        if (all && session.Level < CliLevel.Admin) return Task.FromResult("Permission denied\n");
        supervisor.Board.ClearCounters(all);
        return Task.FromResult("");
    }

    private async Task<string> ServerStateAsync(string[] words, int targetAt, string state) =>
        words.Length <= targetAt ? "Require 'backend/server'.\n" : Reply(await supervisor.SetServerAsync(words[targetAt], state, null));

    /// <summary>`set server BE/SRV state|weight|addr|check-port|health|agent ...`, HAProxy 2.6's forms and answers.</summary>
    private async Task<string> SetServerAsync(string[] words, CliSession session)
    {
        if (words.Length < 4) return words.Length < 3 ? "Require 'backend/server'.\n" : SetServerUsage;
        string target = words[2];
        var configured = ServerSettings.Configured(supervisor.Config, target);
        if (configured is null) return "No such server.\n";
        string? value = words.Length > 4 ? words[4] : null;
        switch (words[3])
        {
            case "state":
                return value is "ready" or "drain" or "maint"
                    ? Reply(await supervisor.SetServerAsync(target, value, null))
                    : "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
            case "weight":
                return value is null ? "Require <weight>.\n" : await SetWeightAsync(target, value);
            case "addr":
                return await SetAddressAsync(target, configured.EndPoint, words);
            case "check-port":
                if (!configured.Check) return "health checks are not enabled on this server\n";
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
                    return "'set server <srv> check-port' expects an integer as argument.\n";
                return Reply(await supervisor.SetServerAsync(target, null, null, checkPort: port));
            case "health":
                // HAProxy forces the health state now; the next check result applies again (its checker keeps running).
                // `stopping` is NOLB, the state `http-check disable-on-404` gives (no new load-balanced traffic).
                if (value is "up" or "down" or "stopping")
                {
                    await supervisor.ForceHealthAsync(target, value == "stopping" ? "nolb" : value);
                    return "";
                }
                return "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n";
            case "agent":
                if (!configured.CheckSettings.Agent.Enabled) return "agent checks are not enabled on this server.\n";
                if (value is not ("up" or "down")) return "'set server <srv> agent' expects 'up' or 'down'.\n";
                await supervisor.ControlChecksAsync(target, "agent-" + value);
                return "";
            case "agent-addr" or "agent-port" or "agent-send":
                return await SetAgentTargetAsync(target, configured, words);
            case "check-addr" or "fqdn" or "ssl":
                return $"'set server <srv> {words[3]}' is not supported by this proxy yet (see README, runtime API).\n";
            default:
                return SetServerUsage;
        }
    }

    /// <summary>
    /// `enable|disable health|agent BE/SRV` (management.txt): the checking worker pauses or resumes the check;
    /// `enable agent` on a server without `agent-check` is refused as HAProxy 2.6 does.
    /// </summary>
    private async Task<string> CheckControlAsync(string[] words, string action)
    {
        if (words.Length < 3) return "Require 'backend/server'.\n";
        var configured = ServerSettings.Configured(supervisor.Config, words[2]);
        if (configured is null) return "No such server.\n";
        if (action == "enable-agent" && !configured.CheckSettings.Agent.Enabled)
            return "Agent was not configured on this server, cannot enable.\n";
        await supervisor.ControlChecksAsync(words[2], action);
        return "";
    }

    /// <summary>`shutdown sessions server BE/SRV`: every worker closes its sessions on the server (logged 'K').</summary>
    private async Task<string> ShutdownServerSessionsAsync(string[] words, CliSession session)
    {
        if (words.Length < 4) return "Require 'backend/server'.\n";
        if (ServerSettings.Configured(supervisor.Config, words[3]) is null) return "No such server.\n";
        await supervisor.ShutdownServerSessionsAsync(words[3]);
        return "";
    }

    /// <summary>`set server BE/SRV addr A [port P]`: HAProxy's answer names what changed, "by 'stats socket command'".</summary>
    private async Task<string> SetAddressAsync(string target, IPEndPoint configured, string[] words)
    {
        if (words.Length < 5) return "Require <addr>.\n";
        if (!IPAddress.TryParse(words[4], out var address)) return $"Invalid addr '{words[4]}' by 'stats socket command'\n";
        var current = supervisor.Servers.Get(target)?.Address ?? configured;
        int port = current.Port;
        if (words.Length > 5)
        {
            if (words[5] != "port" || words.Length < 7) return "Require <port>.\n";
            if (!int.TryParse(words[6], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                return $"Invalid port '{words[6]}' by 'stats socket command'\n";
        }
        var next = new IPEndPoint(address, port);
        if (next.Equals(current)) return "no need to change the addr by 'stats socket command'\n";
        if (await supervisor.SetServerAsync(target, null, null, address: next) is { } error) return error + "\n";
        string answer = address.Equals(current.Address) ? "" : $"IP changed from '{current.Address}' to '{address}'";
        if (port != current.Port) answer += (answer.Length > 0 ? ", " : "") + $"port changed from '{current.Port}' to '{port}'";
        return answer + " by 'stats socket command'\n";
    }

    /// <summary>
    /// `set server BE/SRV agent-addr A [port P] | agent-port P | agent-send STRING` (management.txt 9.3), with HAProxy
    /// 2.6's answers (cli_parse_set_server, srv_update_agent_addr_port): the checking worker's agent check connects to
    /// the new address or port and sends the new string from its next check; kept as `set server` is.
    /// </summary>
    private async Task<string> SetAgentTargetAsync(string target, Proxy.Shared.Config.ServerConfig configured, string[] words)
    {
        string? value = words.Length > 4 ? words[4] : null;
        bool enabled = configured.CheckSettings.Agent.Enabled;
        if (words[3] == "agent-send")
        {
            if (!enabled) return "agent checks are not enabled on this server.\n";
            return Reply(await supervisor.SetServerAsync(target, null, null, agent: new(null, null, value ?? "")));
        }
        if (string.IsNullOrEmpty(value))
            return words[3] == "agent-addr"
                ? "set server <b>/<s> agent-addr requires an address and optionally a port.\n"
                : "set server <b>/<s> agent-port requires a port.\n";
        string? addressText = words[3] == "agent-addr" ? value : null;
        string? portText = words[3] == "agent-port" ? value : words.Length > 6 && words[5] == "port" ? words[6] : null;
        // srv_update_agent_addr_port(): its warnings end without a newline (cli_msg), as here.
        if (!enabled) return "agent checks are not enabled on this server";
        System.Net.IPAddress? address = null;
        if (addressText is not null && !System.Net.IPAddress.TryParse(addressText, out address)) return $"invalid addr '{addressText}'";
        int? port = null;
        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int p)) return "provided port is not an integer";
            if (p is < 0 or > 65535) return "provided port is invalid";
            port = p;
        }
        return Reply(await supervisor.SetServerAsync(target, null, null, agent: new(address, port, null)));
    }

    /// <summary>
    /// `set maxconn server BE/SRV N` (management.txt 9.3), with HAProxy 2.6's answers (server_parse_maxconn_change_request):
    /// every worker takes it (a `server` message); a static limit (minconn = maxconn) moves both, as HAProxy.
    /// </summary>
    private async Task<string> SetServerMaxConnAsync(string[] words, CliSession session)
    {
        if (words.Length < 4) return "Require 'backend/server'.\n";
        string target = words[3];
        if (ServerSettings.Configured(supervisor.Config, target) is null)
            return Reply(supervisor.Servers.Set(supervisor.Config, target, null, null).Error);   // HAProxy's "No such ..." answers
        if (words.Length < 5 || words[4].Length == 0) return "Require <maxconn>.\n";
        string text = words[4];
        int digits = text.StartsWith('-') || text.StartsWith('+') ? 1 : 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
        if (digits == 0 || (digits == 1 && !char.IsAsciiDigit(text[0]))) return "maxconn string empty or preceded by garbage\n";
        if (digits < text.Length) return "Trailing garbage in maxconn string\n";
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)) return "Value out of range.\n";
        return Reply(await supervisor.SetServerAsync(target, null, null, maxConn: value));
    }

    private async Task<string> SetWeightAsync(string target, string weight)
    {
        if (ServerSettings.ParseWeight(weight, supervisor.Config, target) is not { } w)
            return "Invalid weight: it must be a number between 0 and 256, or a percentage.\n";
        if (w is < 0 or > 256) return "Absolute weight can only be between 0 and 256 inclusive.\n";
        return Reply(await supervisor.SetServerAsync(target, null, w));
    }

    /// <summary>
    /// `set rate-limit http-compression global KB` (kB/s) and `set rate-limit connections|sessions global N` (per second,
    /// over the instance: each worker takes its share, AcceptRateLimit); `ssl-sessions` has no limiter here yet.
    /// </summary>
    private async Task<string> SetRateLimitAsync(string[] words, CliSession session)
    {
        switch (words)
        {
            case [_, _, "http-compression", "global", var kb]:
                if (!long.TryParse(kb, NumberStyles.None, CultureInfo.InvariantCulture, out long kbps) || kbps > int.MaxValue / 1024)
                    return "Value out of range.\n";
                await supervisor.SetCompressionRateAsync(kbps * 1024);
                return "";
            case [_, _, "connections" or "sessions", "global", var text]:
            {
                // HAProxy reads the value with atoi(): what is not a number is 0, which lifts the limit.
                long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long rate);
                if (rate > int.MaxValue) return "Value out of range.\n";
                string key = $"{Proxy.Shared.Control.WorkerMessages.RateLimit} {words[2]}";
                await supervisor.ApplyRuntimeSettingAsync(key, $"{key} {rate}");
                return "";
            }
            case [_, _, "connections" or "sessions", "global"]:
                return "Expects an integer value.\n";
            case [_, _, "ssl-sessions", "global", _]:
                return "'set rate-limit ssl-sessions global' is not supported by this proxy yet (no `maxsslrate` limiter).\n";
            default:
                return "'set rate-limit' only supports :\n" +
                       "   - 'connections global' to set the per-process maximum connection rate\n" +
                       "   - 'sessions global' to set the per-process maximum session rate\n" +
                       "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n" +
                       "   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n";
        }
    }

    /// <summary>
    /// `set maxconn global N` (1 to the configured `maxconn`: HAProxy's range, the workers' tables are sized by it) and
    /// `set maxconn frontend NAME N`, for a frontend whose `maxconn` is in the config (below the global one): only
    /// then do the workers keep its count, so a limit can be moved but not created at run time here.
    /// </summary>
    private async Task<string> SetMaxConnAsync(string[] words, CliSession session)
    {
        var config = supervisor.Config;
        bool global = words[2] == "global";
        string? frontend = global ? null : words.Length > 3 ? words[3] : null;
        string? text = global ? (words.Length > 3 ? words[3] : null) : (words.Length > 4 ? words[4] : null);
        if (!global)
        {
            if (frontend is null) return "A frontend name is expected.\n";
            var fe = config.Frontends.FirstOrDefault(f => f.Name == frontend);
            if (fe is null) return "No such frontend.\n";
            if (fe.MaxConn <= 0 || fe.MaxConn >= config.Global.MaxConn)
                return "'set maxconn frontend' needs a `maxconn` below the global one on this frontend in the config (only then is its count kept here).\n";
        }
        if (text is null) return "Expects an integer value.\n";
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1 || value > config.Global.MaxConn)
            return "Value out of range.\n";
        string key = global ? "maxconn global" : $"maxconn frontend {frontend}";
        await supervisor.ApplyRuntimeSettingAsync(key, $"{Proxy.Shared.Control.WorkerMessages.MaxConn} {key[8..]} {value}");
        return "";
    }

    /// <summary>
    /// `disable|enable frontend NAME`: every worker stops (resumes) accepting on the frontend's listeners; new
    /// connections wait in the backlog meanwhile (HAProxy releases the port). Kept for workers started later.
    /// </summary>
    private async Task<string> FrontendAsync(string[] words, bool pause)
    {
        if (words.Length < 3) return "A frontend name is expected.\n";
        string name = words[2];
        if (!supervisor.Config.Frontends.Any(f => f.Name == name)) return "No such frontend.\n";
        string key = $"{Proxy.Shared.Control.WorkerMessages.Frontend} {name}";
        bool paused = supervisor.RuntimeSetting(key)?.EndsWith(" disable", StringComparison.Ordinal) == true;
        if (paused == pause) return pause ? "All sockets are already disabled.\n" : "All sockets are already enabled.\n";
        await supervisor.ApplyRuntimeSettingAsync(key, $"{key} {(pause ? "disable" : "enable")}");
        return "";
    }

    private static string Reply(string? error) => error is null ? "" : error + "\n";
}

using System.Globalization;
using System.Net;

namespace Proxy.Shared.Control;

/// <summary>
/// What an operator set on one server at run time (HAProxy runtime API: `set server BE/SRV state|weight|addr|check-port`,
/// `set weight BE/SRV N`, `disable/enable server`). The supervisor keeps these, sends them to every worker
/// (the `server` channel message), gives them to new workers in <see cref="WorkerInit"/>, and keeps them
/// across a reload for the servers that still exist.
/// </summary>
/// <param name="State">`ready`, `drain` or `maint`; null leaves the configured state.</param>
/// <param name="Weight">0-256; null leaves the configured weight.</param>
public sealed record ServerOverride(string Backend, string Server, string? State, int? Weight)
{
    /// <summary>`set server ... addr A [port P]`: where connections go instead of the `server` line's address.</summary>
    public IPEndPoint? Address { get; init; }

    /// <summary>`set server ... check-port P`: the health check's port.</summary>
    public int? CheckPort { get; init; }

    /// <summary>`set maxconn server BE/SRV N`, or an agent's `maxconn:N`: the server's maxconn (0: no limit).</summary>
    public int? MaxConn { get; init; }

    /// <summary>`set server ... agent-addr A [port P]`: where the agent check connects instead of `agent-addr`/the server's address.</summary>
    public IPAddress? AgentAddress { get; init; }

    /// <summary>`set server ... agent-port P` (or agent-addr's `port P`): the agent check's port.</summary>
    public int? AgentPort { get; init; }

    /// <summary>`set server ... agent-send STRING`: what the agent check sends (empty: nothing).</summary>
    public string? AgentSend { get; init; }

    public string Key => $"{Backend}/{Server}";

    /// <summary>
    /// The channel line: `VERB BACKEND SERVER STATE|- WEIGHT|- ADDRESS|- CHECKPORT|- MAXCONN|- AGENTADDR|- AGENTPORT|-
    /// AGENTSEND|-`; the verb is `server` from the supervisor to a worker, `set-server` from a worker (stats page,
    /// agent check) to the supervisor. AGENTSEND is `=` and the string percent-escaped (it may hold spaces, even `-`).
    /// </summary>
    public string ToMessage(string verb = WorkerMessages.Server) =>
        $"{verb} {Backend} {Server} {State ?? "-"} {Text(Weight)} {Address?.ToString() ?? "-"} {Text(CheckPort)} {Text(MaxConn)}" +
        $" {AgentAddress?.ToString() ?? "-"} {Text(AgentPort)} {(AgentSend is { } send ? "=" + Uri.EscapeDataString(send) : "-")}";

    private static string Text(int? n) => n is { } v ? v.ToString(CultureInfo.InvariantCulture) : "-";

    private static int? Number(string word) =>
        word != "-" && int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;

    /// <summary>Parses <see cref="ToMessage"/>'s output (and the older 5-word form); null when the line is not one.</summary>
    public static ServerOverride? FromMessage(string line, string verb = WorkerMessages.Server)
    {
        var w = line.Split(' ');
        if (w.Length is not (5 or 7 or 8 or 11) || w[0] != verb) return null;
        IPEndPoint? address = null;
        if (w.Length >= 7 && w[5] != "-" && !IPEndPoint.TryParse(w[5], out address)) return null;
        IPAddress? agentAddress = null;
        if (w.Length == 11 && w[8] != "-" && !IPAddress.TryParse(w[8], out agentAddress)) return null;
        if (w.Length == 11 && w[10] != "-" && !w[10].StartsWith('=')) return null;
        return new ServerOverride(w[1], w[2], w[3] == "-" ? null : w[3], Number(w[4]))
        {
            Address = address,
            CheckPort = w.Length >= 7 ? Number(w[6]) : null,
            MaxConn = w.Length >= 8 ? Number(w[7]) : null,
            AgentAddress = agentAddress,
            AgentPort = w.Length == 11 ? Number(w[9]) : null,
            AgentSend = w.Length == 11 && w[10] != "-" ? Uri.UnescapeDataString(w[10][1..]) : null,
        };
    }
}

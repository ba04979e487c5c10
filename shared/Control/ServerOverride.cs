namespace Proxy.Shared.Control;

/// <summary>
/// What an operator set on one server at run time (HAProxy runtime API: `set server BE/SRV state ...`,
/// `set weight BE/SRV N`, `disable/enable server`). The supervisor keeps these, sends them to every worker
/// (the `server` channel message), gives them to new workers in <see cref="WorkerInit"/>, and keeps them
/// across a reload for the servers that still exist.
/// </summary>
/// <param name="State">`ready`, `drain` or `maint`; null leaves the configured state.</param>
/// <param name="Weight">0-256; null leaves the configured weight.</param>
public sealed record ServerOverride(string Backend, string Server, string? State, int? Weight)
{
    public string Key => $"{Backend}/{Server}";

    /// <summary>The channel line: `server BACKEND SERVER STATE|- WEIGHT|-`.</summary>
    public string ToMessage(string verb = WorkerMessages.Server) => $"{verb} {Backend} {Server} {State ?? "-"} {(Weight is { } w ? w.ToString() : "-")}";

    /// <summary>Parses <see cref="ToMessage"/>'s output; null when the line is not one.</summary>
    public static ServerOverride? FromMessage(string line, string verb = WorkerMessages.Server)
    {
        var w = line.Split(' ');
        if (w.Length != 5 || w[0] != verb) return null;
        int? weight = w[4] == "-" ? null : int.TryParse(w[4], out int n) ? n : null;
        return new ServerOverride(w[1], w[2], w[3] == "-" ? null : w[3], weight);
    }
}

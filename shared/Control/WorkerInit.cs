using System.Text.Json.Serialization;

namespace Proxy.Shared.Control;

/// <summary>
/// What the supervisor tells a new worker, right after passing its listening sockets by SCM_RIGHTS.
/// The worker counts into slot BoardSlot of the stats board at BoardPath. Only the worker with
/// RunsHealthChecks probes the servers; DownServers (`backend/server`) is the health known so far.
/// The config travels as text (the very text the supervisor checked), so a file edited meanwhile
/// cannot make one worker differ from the others.
/// </summary>
public sealed record WorkerInit(
    int Slot,
    int Generation,
    int[] Cpus,
    string ConfigPath,
    string ConfigText,
    ListenerRef[] Listeners,
    string BoardPath,
    int BoardSlot,
    ServerOverride[] ServerOverrides,
    bool RunsHealthChecks,
    string[] DownServers)
{
    /// <summary>How many worker slots run this generation: each worker takes that share of a server's `maxconn`.</summary>
    public int Workers { get; init; } = 1;
}

/// <summary>The listener behind the descriptor at the same index: its frontend and its bind address key.</summary>
public sealed record ListenerRef(string Frontend, string Bind);

[JsonSerializable(typeof(WorkerInit))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ControlJsonContext : JsonSerializerContext;

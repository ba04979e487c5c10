using System.Text.Json.Serialization;
using Proxy.Shared.Config;

namespace Proxy.Shared.Control;

/// <summary>
/// What the supervisor tells a new worker, right after passing its listening sockets by SCM_RIGHTS.
/// The worker counts into slot BoardSlot of the stats board at BoardPath. Only the worker with
/// RunsHealthChecks probes the servers; DownServers (`backend/server`) is the health known so far.
/// The config travels as the model the supervisor parsed, checked and resolved (host names, errorfiles, return
/// files): a worker never opens the config file nor asks DNS, so a file edited or a name changed meanwhile cannot
/// make one worker differ from the others, and a respawned worker gets its generation's model.
/// </summary>
public sealed record WorkerInit(
    int Slot,
    int Generation,
    int[] Cpus,
    ProxyConfig Config,
    ListenerRef[] Listeners,
    string BoardPath,
    int BoardSlot,
    ServerOverride[] ServerOverrides,
    bool RunsHealthChecks,
    string[] DownServers)
{
    /// <summary>How many worker slots run this generation (the rows of the counts file).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>
    /// The generation's counts file (Proxy.Shared.Limits.SharedCounts), where global, frontend and server `maxconn`
    /// are counted instance-wide; the worker counts in row <see cref="Slot"/>. Null: limits hold per worker.
    /// </summary>
    public string? CountsPath { get; init; }

    /// <summary>`set rate-limit http-compression global` in force for this generation (bytes/s); null: `maxcomprate`.</summary>
    public long? CompressionRate { get; init; }

    /// <summary>Runtime API settings of this generation other than servers' (`maxconn ...` lines), applied in order at start.</summary>
    public string[] RuntimeMessages { get; init; } = [];

    /// <summary>`backend/server` of servers in NOLB (`http-check disable-on-404` saw a 404), known so far.</summary>
    public string[] NolbServers { get; init; } = [];

    /// <summary>
    /// The instance's TLS session ticket keys for this generation (Proxy.Supervisor.TicketKeyRing, HAProxy's 80-byte
    /// layout, the encrypting one in the middle): the same in every worker, so a client resumes on any of them.
    /// </summary>
    public byte[][] TicketKeys { get; init; } = [];
}

/// <summary>The listener behind the descriptor at the same index: its frontend and its bind address key.</summary>
public sealed record ListenerRef(string Frontend, string Bind);

// IncludeFields: the model holds value tuples (http-check headers and status ranges), whose elements are fields.
[JsonSerializable(typeof(WorkerInit))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, IncludeFields = true,
    Converters = [typeof(IPEndPointJsonConverter), typeof(IPAddressJsonConverter), typeof(IPNetworkJsonConverter), typeof(RegexJsonConverter)])]
internal sealed partial class ControlJsonContext : JsonSerializerContext;

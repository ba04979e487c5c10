using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Proxy.Shared.Control;

/// <summary>
/// The private link between the supervisor and one worker: one end of a socketpair the worker inherits (its
/// descriptor number follows <see cref="FdArgument"/> on the worker's command line), reachable by no other process.
/// Sequence: the supervisor sends the listening sockets (one marker byte with SCM_RIGHTS), then a length-prefixed
/// JSON <see cref="WorkerInit"/>; after that both sides exchange newline-terminated text messages
/// (<see cref="WorkerMessages"/>).
/// The link doubles as a liveness signal: when either process dies, the other reads end-of-file.
/// </summary>
public static class WorkerChannel
{
    /// <summary>The worker's command-line option naming its inherited end of the channel.</summary>
    public const string FdArgument = "--channel-fd";

    public static async Task SendInitAsync(Socket socket, WorkerInit init, CancellationToken ct)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(init, ControlJsonContext.Default.WorkerInit);
        byte[] frame = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, json.Length);
        json.CopyTo(frame, 4);
        await SendAllAsync(socket, frame, ct);
    }

    public static WorkerInit ReceiveInit(Socket socket)
    {
        Span<byte> len = stackalloc byte[4];
        ReceiveExactly(socket, len);
        int size = BinaryPrimitives.ReadInt32LittleEndian(len);
        if (size <= 0 || size > 64 * 1024 * 1024) throw new IOException($"invalid init frame length {size}");
        byte[] json = new byte[size];
        ReceiveExactly(socket, json);
        return JsonSerializer.Deserialize(json, ControlJsonContext.Default.WorkerInit)
            ?? throw new IOException("empty init frame");
    }

    public static async Task SendLineAsync(Socket socket, string line, CancellationToken ct)
    {
        await SendAllAsync(socket, Encoding.UTF8.GetBytes(line + "\n"), ct);
    }

    private static async Task SendAllAsync(Socket socket, byte[] data, CancellationToken ct)
    {
        int sent = 0;
        while (sent < data.Length)
            sent += await socket.SendAsync(data.AsMemory(sent), SocketFlags.None, ct);
    }

    private static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = socket.Receive(buffer[got..]);
            if (n == 0) throw new IOException("channel closed");
            got += n;
        }
    }
}

/// <summary>The text messages of the worker channel, in one place so both sides spell them alike.</summary>
public static class WorkerMessages
{
    // worker -> supervisor
    public const string Ready = "ready";               // listeners adopted, accepting
    public const string Status = "status";             // `status CURRENT TOTAL`: connections now and since start
    public const string Drained = "drained";           // no connection left; exiting
    public const string Health = "health";             // `health BACKEND SERVER up|down`: a check changed a state (both ways)
    // `observe BACKEND SERVER EVENT`: `error-limit` passive errors seen by a worker (worker -> supervisor -> checking worker)
    public const string Observe = "observe";
    // `set-server BACKEND SERVER STATE|- WEIGHT|-`: a `stats admin` form asks the supervisor for a ServerOverride for every worker
    public const string SetServer = "set-server";

    // supervisor -> worker
    public const string Drain = "drain";               // `drain MILLISECONDS`: stop accepting, finish, exit by then
    public const string Server = "server";             // a ServerOverride to apply (see ServerOverride.ToMessage)
    // `comprate BYTES_PER_SECOND`: `set rate-limit http-compression global`, the instance's limit (each worker takes its share)
    public const string CompressionRate = "comprate";
    // `maxconn global N` or `maxconn frontend NAME N`: the runtime API's `set maxconn` (kept by the supervisor for new workers)
    public const string MaxConn = "maxconn";
    // `frontend NAME disable|enable`: the runtime API's `disable|enable frontend` (kept like `maxconn` for new workers)
    public const string Frontend = "frontend";
    // `show-sess ID`: the runtime API's `show sess`; the worker answers `sess ID LINE` per session, then `sess-end ID`
    public const string ShowSess = "show-sess";
    public const string Sess = "sess";                 // worker -> supervisor: one `show sess` (or `show errors`) line
    // `show-errors ID`: the runtime API's `show errors`; the worker answers like `show-sess` (ProxyEngine.DescribeErrors)
    public const string ShowErrors = "show-errors";
    // `check-control BACKEND SERVER ACTION`: `enable|disable health|agent`, `set server ... agent up|down` (to the checking worker)
    public const string CheckControl = "check-control";
    // `shutdown-sessions BACKEND SERVER`: `shutdown sessions server` (every worker closes its sessions on the server)
    public const string ShutdownSessions = "shutdown-sessions";
    public const string SessEnd = "sess-end";          // worker -> supervisor: the last of them
    // `sync ID`: the worker answers `sess-end ID` once every message sent before it is applied (its channel is read in order)
    public const string Sync = "sync";
    // `ratelimit connections|sessions N`: `set rate-limit ... global` (the instance's rate; kept like `maxconn` for new workers)
    public const string RateLimit = "ratelimit";
}

using System.Net;
using Proxy.Worker.Http;

namespace Proxy.Worker.Runtime;

/// <summary>
/// The last invalid request head of a frontend, or response head of a backend, kept for the runtime API's
/// `show errors` (doc/management.txt 9.3), as HAProxy keeps `px->invalid_req` / `invalid_rep`. Made only on the error
/// path and published whole (an immutable object swapped in), so the request path never pays or locks for it.
/// </summary>
internal sealed class ErrorSnapshot
{
    /// <summary>How many head bytes are kept: HAProxy keeps the buffer (tune.bufsize); a head's start is what matters.</summary>
    public const int MaxBytes = 1024;
    private static int s_events;

    private ErrorSnapshot(byte[] bytes, int position, IPEndPoint? source, string? otherProxy, string? server)
    {
        UnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        EventId = Interlocked.Increment(ref s_events);
        Bytes = bytes;
        Position = position;
        Source = source;
        OtherProxy = otherProxy;
        Server = server;
    }

    /// <summary>This worker's count of captured events (HAProxy's error_snapshot_id).</summary>
    public static int Events => Volatile.Read(ref s_events);

    public long UnixMs { get; }
    public int EventId { get; }
    /// <summary>The head's first bytes (at most <see cref="MaxBytes"/>) up to and including the refused line.</summary>
    public byte[] Bytes { get; }
    public int Position { get; }
    public IPEndPoint? Source { get; }
    /// <summary>For a response: the frontend it was for; for a request: none (a refused head is never routed).</summary>
    public string? OtherProxy { get; }
    public string? Server { get; }

    /// <summary>A copy of <paramref name="head"/>'s bytes and where its parser refused it.</summary>
    public static ErrorSnapshot Capture(HttpHead head, IPEndPoint? source, string? otherProxy, string? server)
    {
        int length = head.Length;
        var bytes = head.Buffer.AsSpan(0, Math.Min(length, MaxBytes)).ToArray();
        return new ErrorSnapshot(bytes, Math.Min(head.ErrorOffset, length), source, otherProxy, server);
    }
}

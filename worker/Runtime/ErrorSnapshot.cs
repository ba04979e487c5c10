using System.Buffers;
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
        EventId = Interlocked.Increment(ref s_events) - 1;   // HAProxy numbers events from #0 (error_snapshot_id++)
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
    /// <summary>The head's first bytes (at most <see cref="MaxBytes"/>) and what followed them in the input buffer.</summary>
    public byte[] Bytes { get; }
    public int Position { get; }
    public IPEndPoint? Source { get; }
    /// <summary>For a response: the frontend it was for; for a request: none (a refused head is never routed).</summary>
    public string? OtherProxy { get; }
    public string? Server { get; }

    /// <summary>
    /// A copy of <paramref name="head"/>'s bytes, then of the <paramref name="rest"/> received after the refused line (as
    /// HAProxy copies its whole input buffer), and where the parser refused it.
    /// </summary>
    public static ErrorSnapshot Capture(HttpHead head, ReadOnlySequence<byte> rest, IPEndPoint? source, string? otherProxy, string? server)
    {
        int length = Math.Min(head.Length, MaxBytes);
        int more = (int)Math.Min(rest.Length, MaxBytes - length);
        var bytes = new byte[length + more];
        head.Buffer.AsSpan(0, length).CopyTo(bytes);
        rest.Slice(0, more).CopyTo(bytes.AsSpan(length));
        return new ErrorSnapshot(bytes, Math.Min(head.ErrorOffset, head.Length), source, otherProxy, server);
    }
}

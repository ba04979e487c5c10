using System.Buffers.Binary;
using System.Net.Sockets;
using Proxy.Shared.Config;

namespace Proxy.Supervisor.Dns;

/// <summary>
/// The counters of one name server that `show resolvers` prints (doc/management.txt "show resolvers"), under
/// HAProxy's names. Only the resolver's task writes them; the control socket reads them.
/// </summary>
public sealed class NameserverCounters
{
    public long Sent, SndError, Valid, Update, Cname, CnameError, AnyErr, Nx, Timeout, Refused, Other, Invalid, TooBig, Truncated, Outdated;
}

/// <summary>
/// Sends queries to one `nameserver` and waits for the answer, over UDP (a datagram per query, RFC 1035 4.2.1) or
/// TCP (`tcp@`: a two-byte length before each message, RFC 1035 4.2.2). All I/O is asynchronous, on its own socket
/// per query, so a slow name server never holds the supervisor's control loop.
/// </summary>
/// <param name="counters">The counters to go on with (the same name server before a reload); null: new ones.</param>
public sealed class NameserverClient(NameserverConfig config, NameserverCounters? counters = null)
{
    public NameserverConfig Config { get; } = config;
    public NameserverCounters Counters { get; } = counters ?? new();

    /// <summary>One query; null when no valid answer came within <paramref name="timeout"/> (counted as timeout, snd_error or invalid).</summary>
    public async Task<DnsResponse?> QueryAsync(string name, DnsType type, int payloadSize, TimeSpan timeout, CancellationToken stop)
    {
        ushort id = (ushort)Random.Shared.Next(0, 65536);
        byte[] query;
        try
        {
            query = DnsMessage.BuildQuery(id, name, type, payloadSize);
        }
        catch (ArgumentException)
        {
            Interlocked.Increment(ref Counters.SndError);
            return null;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        cts.CancelAfter(timeout);
        using var socket = new Socket(Config.EndPoint.AddressFamily, Config.Tcp ? SocketType.Stream : SocketType.Dgram,
            Config.Tcp ? ProtocolType.Tcp : ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(Config.EndPoint, cts.Token).ConfigureAwait(false);
            Interlocked.Increment(ref Counters.Sent);
            var response = Config.Tcp
                ? await ExchangeTcpAsync(socket, query, cts.Token).ConfigureAwait(false)
                : await ExchangeUdpAsync(socket, query, Math.Max(payloadSize, 512), id, cts.Token).ConfigureAwait(false);
            if (response is null || response.Id != id)
            {
                Interlocked.Increment(ref Counters.Invalid);
                return null;
            }
            if (response.Truncated) Interlocked.Increment(ref Counters.Truncated);
            return response;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref Counters.Timeout);
            return null;
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref Counters.SndError);
            return null;
        }
    }

    private static async Task<DnsResponse?> ExchangeUdpAsync(Socket socket, byte[] query, int payloadSize, ushort id, CancellationToken ct)
    {
        await socket.SendAsync(query, SocketFlags.None, ct).ConfigureAwait(false);
        var buffer = new byte[payloadSize];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            var response = DnsMessage.Parse(buffer.AsSpan(0, n));
            // A late answer to an earlier query on a reused port is not this one: keep waiting (RFC 5452 9.1).
            if (response is null || response.Id == id) return response;
        }
    }

    private static async Task<DnsResponse?> ExchangeTcpAsync(Socket socket, byte[] query, CancellationToken ct)
    {
        var framed = new byte[query.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None, ct).ConfigureAwait(false);
        var head = new byte[2];
        if (!await ReadExactlyAsync(socket, head, ct).ConfigureAwait(false)) return null;
        var body = new byte[BinaryPrimitives.ReadUInt16BigEndian(head)];
        if (!await ReadExactlyAsync(socket, body, ct).ConfigureAwait(false)) return null;
        return DnsMessage.Parse(body);
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0) return false;
            buffer = buffer[n..];
        }
        return true;
    }
}

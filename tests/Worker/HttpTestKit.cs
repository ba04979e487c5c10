using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Tests.Worker;

/// <summary>One HTTP/1.1 message as read by the test helpers (body de-chunked).</summary>
internal sealed record HttpMessage(string StartLine, List<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public int Status => int.Parse(StartLine.Split(' ')[1]);
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
    public int Count(string name) => Headers.Count(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
    public string BodyText => Encoding.ASCII.GetString(Body);
}

/// <summary>Reads HTTP/1.x messages from a socket with its own buffer (test side, lenient, simple).</summary>
internal sealed class HttpReader(Socket socket)
{
    private readonly byte[] _buf = new byte[1 << 16];
    private int _start, _end;

    public Socket Socket => socket;

    /// <summary>Next message, or null at EOF before any byte. <paramref name="headRequest"/>: a response without body.</summary>
    public async Task<HttpMessage?> ReadAsync(bool isResponse, bool headRequest = false)
    {
        var head = await ReadHeadAsync();
        if (head is null) return null;
        var lines = head.Split("\r\n");
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var l in lines.Skip(1))
        {
            int c = l.IndexOf(':');
            headers.Add(new(l[..c], l[(c + 1)..].Trim()));
        }
        var msg = new HttpMessage(lines[0], headers, []);
        int status = isResponse ? msg.Status : 0;
        if (headRequest || status is >= 100 and < 200 or 204 or 304) return msg;
        var te = msg.Header("Transfer-Encoding");
        var cl = msg.Header("Content-Length");
        if (te is not null && te.Contains("chunked")) return msg with { Body = await ReadChunkedAsync() };
        if (cl is not null) return msg with { Body = await ReadExactAsync(long.Parse(cl)) };
        if (!isResponse) return msg;
        return msg with { Body = await ReadToEndAsync() };
    }

    /// <summary>Bytes until EOF (or a reset).</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        var ms = new MemoryStream();
        ms.Write(_buf, _start, _end - _start);
        _start = _end = 0;
        while (await FillAsync()) { ms.Write(_buf, _start, _end - _start); _start = _end = 0; }
        return ms.ToArray();
    }

    private async Task<string?> ReadHeadAsync()
    {
        while (true)
        {
            int i = _buf.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (i >= 0)
            {
                var s = Encoding.Latin1.GetString(_buf, _start, i);
                _start += i + 4;
                return s;
            }
            if (!await FillAsync()) return null;
        }
    }

    private async Task<byte[]> ReadExactAsync(long n)
    {
        var ms = new MemoryStream();
        while (n > 0)
        {
            if (_start == _end && !await FillAsync()) throw new EndOfStreamException("truncated body");
            int take = (int)Math.Min(n, _end - _start);
            ms.Write(_buf, _start, take);
            _start += take;
            n -= take;
        }
        return ms.ToArray();
    }

    private async Task<string> ReadLineAsync()
    {
        while (true)
        {
            int i = _buf.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (i >= 0)
            {
                var s = Encoding.Latin1.GetString(_buf, _start, i);
                _start += i + 2;
                return s;
            }
            if (!await FillAsync()) throw new EndOfStreamException("truncated chunk line");
        }
    }

    private async Task<byte[]> ReadChunkedAsync()
    {
        var ms = new MemoryStream();
        while (true)
        {
            var line = await ReadLineAsync();
            int semi = line.IndexOf(';');
            long size = Convert.ToInt64(semi < 0 ? line : line[..semi], 16);
            if (size == 0)
            {
                while ((await ReadLineAsync()).Length > 0) { }   // trailers
                return ms.ToArray();
            }
            ms.Write(await ReadExactAsync(size));
            await ReadLineAsync();
        }
    }

    private async Task<bool> FillAsync()
    {
        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_end == _buf.Length)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int n;
        try { n = await socket.ReceiveAsync(_buf.AsMemory(_end), SocketFlags.None); }
        catch (SocketException) { return false; }
        if (n == 0) return false;
        _end += n;
        return true;
    }
}

/// <summary>
/// A small HTTP/1.1 origin on 127.0.0.1: keeps connections alive, records every request it receives, and answers
/// with <c>respond</c> (raw bytes; null closes without answering). Default: 200 with "hello from NAME".
/// </summary>
internal sealed class HttpOrigin : IAsyncDisposable
{
    private readonly TestServer _server;
    private readonly List<(int Connection, HttpMessage Request)> _requests = [];
    private int _connections;

    public HttpOrigin(string name = "o", Func<HttpMessage, byte[]?>? respond = null)
    {
        Name = name;
        respond ??= req => Ok($"hello from {name}", ("X-Origin", name));
        _server = new TestServer(async s =>
        {
            int id = Interlocked.Increment(ref _connections);
            var reader = new HttpReader(s);
            while (true)
            {
                var req = await reader.ReadAsync(isResponse: false);
                if (req is null) return;
                lock (_requests) _requests.Add((id, req));
                var answer = respond(req);
                if (answer is null) return;
                await s.SendAsync(answer, SocketFlags.None);
                if (string.Equals(req.Header("Connection"), "close", StringComparison.OrdinalIgnoreCase)) { s.Shutdown(SocketShutdown.Send); return; }
            }
        });
    }

    public string Name { get; }
    public IPEndPoint EndPoint => _server.EndPoint;
    public int Connections => Volatile.Read(ref _connections);

    public List<(int Connection, HttpMessage Request)> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    public static byte[] Ok(string body, params (string Name, string Value)[] headers) => Response(200, body, headers);

    public static byte[] Response(int status, string body, params (string Name, string Value)[] headers)
    {
        var sb = new StringBuilder($"HTTP/1.1 {status} X\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n");
        foreach (var (n, v) in headers) sb.Append($"{n}: {v}\r\n");
        sb.Append("\r\n").Append(body);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

/// <summary>Config builders for `mode http` engine tests.</summary>
internal static class HttpTestKit
{
    public static Timeouts Timeouts(double connectMs = 1000, double clientMs = 10000, double serverMs = 10000,
        double? httpRequestMs = null, double? keepAliveMs = null, double? tunnelMs = null)
        => new(Ms(connectMs), Ms(clientMs), Ms(serverMs), null, null, Ms(httpRequestMs), Ms(keepAliveMs), Ms(tunnelMs));

    private static TimeSpan? Ms(double? ms) => ms is { } v ? TimeSpan.FromMilliseconds(v) : null;

    public static BackendConfig Backend(string name, IReadOnlyList<ServerConfig> servers, HttpProxySettings? http = null, Timeouts? timeouts = null,
        int retries = 1, BalanceAlgorithm balance = BalanceAlgorithm.RoundRobin)
        => new(name, ProxyMode.Http, balance, servers, timeouts ?? Timeouts(), retries, false, TcpTestKit.Here) { Http = http ?? HttpProxySettings.None };

    public static FrontendConfig Frontend(IPEndPoint bind, string defaultBackend = "be", HttpProxySettings? http = null, Timeouts? timeouts = null)
        => new("fe", ProxyMode.Http, [new BindAddress(bind, null, TcpTestKit.Here)], defaultBackend, 0, timeouts ?? Timeouts(), TcpTestKit.Here)
        { Http = http ?? HttpProxySettings.None };

    /// <summary>A `mode http` config: frontend fe (bind BIND) to backend be holding <paramref name="origins"/> server lines.</summary>
    public static string HttpConfig(string origins, string frontendExtra = "", string backendExtra = "", string defaultsExtra = "") => $"""
        defaults
            mode http
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        {defaultsExtra}
        frontend fe
            bind BIND
        {frontendExtra}
            default_backend be
        backend be
        {backendExtra}
        {origins}
        """;

    public static string Server(string name, HttpOrigin o) => $"    server {name} 127.0.0.1:{o.EndPoint.Port}";

    /// <summary>An engine for <paramref name="configText"/> parsed from HAProxy syntax, `bind` replaced by the test listener.</summary>
    public static EngineHarness StartFromText(string configText, NLog.ILogger? log = null) => EngineHarness.Start(ep =>
    {
        var result = ConfigLoader.Parse(configText.Replace("BIND", $"127.0.0.1:{ep.Port}"), "test.cfg");
        if (!result.IsValid) throw new InvalidOperationException(string.Join("\n", result.Errors));
        return result.Config!;
    }, log);

    /// <summary>Sends <paramref name="text"/> (\n in it stays as written; use \r\n explicitly).</summary>
    public static Task SendAsync(Socket s, string text) => TcpTestKit.SendAllAsync(s, Encoding.Latin1.GetBytes(text));
}

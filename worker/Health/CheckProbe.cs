using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Health;

/// <summary>The result of one probe: HAProxy's check status, the HTTP status (0 if none) and the info text of the log line.</summary>
internal readonly record struct CheckOutcome(CheckStatusCode Status, int Code, string? Info)
{
    public bool Passed => Status is CheckStatusCode.L4Ok or CheckStatusCode.L6Ok or CheckStatusCode.L7Ok or CheckStatusCode.L7Okc;
}

/// <summary>One kind of active check: a connect, an HTTP request (<see cref="CheckProbe"/>) or a tcp-check script (<see cref="TcpCheckProbe"/>).</summary>
internal interface IHealthProbe
{
    /// <summary>Runs the check once; <paramref name="connectTimeout"/> bounds each connect, <paramref name="totalTimeout"/> the whole check.</summary>
    Task<CheckOutcome> RunAsync(TimeSpan connectTimeout, TimeSpan totalTimeout, CancellationToken stop);
}

/// <summary>
/// One active check: a TCP connect (layer 4), then, with `option httpchk`, one HTTP request with `Connection: close`
/// and the response read up to <see cref="MaxResponse"/> bytes, judged by the `http-check expect` rules (default:
/// 2xx or 3xx). Not the request path: it allocates freely and runs once per `inter` per server, in one worker.
/// </summary>
internal sealed class CheckProbe : IHealthProbe
{
    /// <summary>Response bytes kept for `string`/`rstring` rules (HAProxy reads at most one buffer, tune.bufsize).</summary>
    public const int MaxResponse = 16384;

    private readonly IPEndPoint _target;
    private readonly HttpCheckSettings? _http;
    private readonly byte[]? _request;
    private readonly string? _head, _tail;     // the request around X-Haproxy-Server-State (`http-check send-state`)
    private readonly bool _needsBody;

    public CheckProbe(IPEndPoint target, HttpCheckSettings? http)
    {
        _target = target;
        _http = http;
        if (http is null) return;
        var sb = new StringBuilder();
        sb.Append(http.Method).Append(' ').Append(http.Uri).Append(' ').Append(http.Version).Append("\r\n");
        foreach (var (name, value) in http.Headers) sb.Append(name).Append(": ").Append(value).Append("\r\n");
        if (http.Body is { } body) sb.Append("Content-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n");
        _head = sb.ToString();
        _tail = "Connection: close\r\n\r\n" + http.Body;
        _request = Encoding.UTF8.GetBytes(_head + _tail);
        foreach (var e in http.Expects)
            if (e.Match is HttpCheckMatch.String or HttpCheckMatch.RString) _needsBody = true;
    }

    /// <summary>The PROXY header each check starts with (`check-send-proxy`, or the server's `send-proxy*`), or none.</summary>
    public CheckProxyHeader ProxyHeader { get; init; }

    /// <summary>`http-check send-state`: the X-Haproxy-Server-State value of the next check; null: no such header.</summary>
    public Func<string>? ServerState { get; init; }

    /// <summary>The checks' TLS (5.2 `check-ssl`, ServerConfig.CheckTls): a handshake after the connect; null: in clear.</summary>
    public Tls.TlsServerContext? Tls { get; init; }

    /// <summary>The address checked: `addr` and `port` when given, else the server's.</summary>
    public IPEndPoint Target => _target;

    /// <summary>Runs the probe; <paramref name="connectTimeout"/> bounds the connect, <paramref name="totalTimeout"/> the whole check.</summary>
    public async Task<CheckOutcome> RunAsync(TimeSpan connectTimeout, TimeSpan totalTimeout, CancellationToken stop)
    {
        using var total = CancellationTokenSource.CreateLinkedTokenSource(stop);
        total.CancelAfter(totalTimeout);
        using var socket = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (await CheckConnection.ConnectAsync(socket, _target, ProxyHeader, connectTimeout, total.Token, stop).ConfigureAwait(false) is { } failed)
            return failed;
        Stream stream;
        if (Tls is { } tls)
        {
            // HAProxy's layer 6: a failed handshake is L6RSP, one that ran out of time L6TOUT, a completed one alone L6OK.
            try
            {
                stream = await tls.HandshakeCheckAsync(socket, total.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                stop.ThrowIfCancellationRequested();
                return new CheckOutcome(CheckStatusCode.L6Tout, 0, null);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                return new CheckOutcome(CheckStatusCode.L6Rsp, 0, "SSL handshake failure");
            }
        }
        else
        {
            if (_http is null || _request is null) return new CheckOutcome(CheckStatusCode.L4Ok, 0, null);
            stream = new NetworkStream(socket, ownsSocket: false);
        }
        await using var _ = stream.ConfigureAwait(false);
        if (_http is null || _request is null) return new CheckOutcome(CheckStatusCode.L6Ok, 0, null);
        try
        {
            socket.NoDelay = true;
            var request = ServerState is { } state && _http.SendState
                ? Encoding.UTF8.GetBytes($"{_head}X-Haproxy-Server-State: {state()}\r\n{_tail}")
                : _request;
            await stream.WriteAsync(request, total.Token).ConfigureAwait(false);
            var buffer = new byte[MaxResponse];
            int got = 0;
            while (got < buffer.Length)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(got), total.Token).ConfigureAwait(false);
                if (n == 0) break;
                got += n;
                if (IsComplete(buffer.AsSpan(0, got))) break;
            }
            return Judge(buffer.AsSpan(0, got));
        }
        catch (OperationCanceledException)
        {
            stop.ThrowIfCancellationRequested();
            return new CheckOutcome(CheckStatusCode.L7Tout, 0, null);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return new CheckOutcome(CheckStatusCode.L7Rsp, 0, (e.InnerException as SocketException ?? e).Message);
        }
    }

    // Enough read: the status line when no rule reads the body; else the whole body when Content-Length says how long
    // it is (without it, the server's close ends the body: we asked for `Connection: close`).
    private bool IsComplete(ReadOnlySpan<byte> data)
    {
        if (!_needsBody) return data.IndexOf("\r\n"u8) >= 0;
        int end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0) return false;
        var head = Encoding.Latin1.GetString(data[..end]);
        foreach (var line in head.Split("\r\n"))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(line.AsSpan(colon + 1).Trim(), out long length))
                return data.Length - end - 4 >= length;
        }
        return false;
    }

    private CheckOutcome Judge(ReadOnlySpan<byte> data)
    {
        int eol = data.IndexOf("\r\n"u8);
        var statusLine = Encoding.Latin1.GetString(eol >= 0 ? data[..eol] : data);
        // "HTTP/1.x NNN reason"
        if (eol < 0 || statusLine.Length < 12 || !statusLine.StartsWith("HTTP/", StringComparison.Ordinal) || statusLine[8] != ' '
            || !int.TryParse(statusLine.AsSpan(9, 3), out int code) || code < 100 || (statusLine.Length > 12 && statusLine[12] != ' '))
            return new CheckOutcome(CheckStatusCode.L7Rsp, 0, data.Length == 0 ? "Empty response" : "Invalid HTTP response");
        string reason = statusLine.Length > 13 ? statusLine[13..] : "";
        // `http-check disable-on-404` has precedence over the expect rules: a 404 conditionally passes (HAProxy's L7OKCD).
        if (code == 404 && _http!.DisableOn404) return new CheckOutcome(CheckStatusCode.L7Okc, code, reason.Length > 0 ? reason : null);
        var expects = _http!.Expects;
        if (expects.Count == 0)
        {
            // Default rule: 2xx and 3xx pass (doc/configuration.txt "option httpchk").
            return code is >= 200 and < 400
                ? new CheckOutcome(CheckStatusCode.L7Ok, code, reason.Length > 0 ? reason : null)
                : new CheckOutcome(CheckStatusCode.L7Sts, code, reason.Length > 0 ? reason : null);
        }
        string? body = null;
        foreach (var e in expects)
        {
            bool match;
            switch (e.Match)
            {
                case HttpCheckMatch.Status:
                    match = false;
                    foreach (var (low, high) in e.Statuses) match |= code >= low && code <= high;
                    break;
                case HttpCheckMatch.RStatus:
                    match = e.Regex!.IsMatch(code.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    if (body is null)
                    {
                        int start = data.IndexOf("\r\n\r\n"u8);
                        body = start < 0 ? "" : Encoding.Latin1.GetString(data[(start + 4)..]);
                    }
                    match = e.Match == HttpCheckMatch.String ? body.Contains(e.Pattern, StringComparison.Ordinal) : e.Regex!.IsMatch(body);
                    break;
            }
            if (match == e.Negate)
            {
                // HAProxy's messages for a failed status rule and a failed content rule.
                return e.Match is HttpCheckMatch.Status or HttpCheckMatch.RStatus
                    ? new CheckOutcome(CheckStatusCode.L7Sts, code, $"HTTP status check returned code <{code}>")
                    : new CheckOutcome(CheckStatusCode.L7Rsp, code, "HTTP content check did not match");
            }
        }
        return new CheckOutcome(CheckStatusCode.L7Ok, code, reason.Length > 0 ? reason : null);
    }
}

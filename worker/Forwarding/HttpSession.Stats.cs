using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Proxy.Shared.Control;
using Proxy.Shared.Stats;
using Proxy.Worker.Http;
using Proxy.Worker.Stats;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// The answers this worker makes from the stats board itself (nothing reaches a server): the `stats` page (HTML,
/// `;csv`, `;json`), its `stats admin` form, and `http-request use-service prometheus-exporter`. The board is read
/// without a lock (a snapshot copies the mapped file, tens of microseconds for a few hundred objects) and the page is
/// built into one buffer from the shared pool, given back once sent, so serving it costs other sessions no more
/// than any local answer. The connection closes after each answer, as for `http-request return`.
/// </summary>
internal sealed partial class HttpSession
{
    /// <summary>Room before the body for the response head, written last (it needs the body's length).</summary>
    private const int StatsHeadRoom = 512;
    private static readonly Encoding Utf8NoBom = new UTF8Encoding(false);

    /// <summary>`stats uri` matched in <paramref name="page"/>'s proxy: authentication, then the admin form or the page.</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder))]
    private async ValueTask ServeStatsAsync(StatsPageRuntime page, bool admin)
    {
        SetLogCause('L', 'R');
        if (!page.Authorized(RequestHead))
        {
            // RFC 7235 3.1 / HAProxy: 401 with the realm; the browser asks for the credentials and retries.
            await SendErrorAsync(401, page.Unauthorized).ConfigureAwait(false);
            WriteLog();
            return;
        }
        var options = StatsRequestOptions.Parse(page.Options(RequestHead.Target));
        if (RequestHead.Method == Http1Method.Post)
        {
            string result = admin ? await ApplyAdminFormAsync().ConfigureAwait(false) : "DENY";
            // HAProxy answers the POST with a 303 to the page and its `;st=` result (stats.c stats_send_http_redirect).
            string location = page.Config.Uri + (options.UpOnly ? ";up" : "") + (options.NoRefresh ? ";norefresh" : "") +
                (options.Worker is { } w ? $";worker={w}" : "") + ";st=" + result;
            var redirect = Encoding.ASCII.GetBytes($"HTTP/1.1 303 See Other\r\ncontent-length: 0\r\ncache-control: no-cache\r\nLocation: {location}\r\nConnection: close\r\n\r\n");
            await SendErrorAsync(303, redirect).ConfigureAwait(false);
            WriteLog();
            return;
        }
        if (_engine.StatsSource is not { } source)
        {
            await SendErrorAsync(503).ConfigureAwait(false);
            WriteLog();
            return;
        }
        var config = page.Config;
        using var body = new PooledResponseStream(StatsHeadRoom);
        string contentType;
        var snapshot = source.Snapshot();
        int? slot = options.Worker - 1;
        if (options.Json)
        {
            // HAProxy's page answers `;json` with `show stat json`'s typed document; `;worker=N` adds every worker's rows.
            contentType = "application/json";
            var filter = new StatsFilter(UpOnly: options.UpOnly, PerProcess: options.Worker is not null);
            body.Write(Encoding.UTF8.GetBytes(StatsQuery.Json(snapshot, filter)));
        }
        else
        {
            using var text = new StreamWriter(body, Utf8NoBom, 16384, leaveOpen: true) { NewLine = "\n" };
            if (options.Csv)
            {
                contentType = "text/csv; charset=utf-8";
                StatsCsv.Write(text, snapshot, perProcess: slot is not null,
                    include: row => StatsHtml.Shows(config.Scope, options.UpOnly, row) && (slot is null || row.IsTotal || row.Slot == slot));
            }
            else
            {
                contentType = "text/html; charset=utf-8";
                var view = new StatsPageView
                {
                    Uri = config.Uri, HideVersion = config.HideVersion, ShowLegends = config.ShowLegends, Node = config.ShowNode is "" ? _engine.Config.Global.Node ?? Environment.MachineName : config.ShowNode,
                    Description = config.ShowDesc is "" ? _engine.Config.Global.Description ?? "" : config.ShowDesc, Scope = config.Scope, UpOnly = options.UpOnly, NoRefresh = options.NoRefresh,
                    WorkerSlot = slot, Admin = admin, ActionStatus = options.ActionStatus, ServedByPid = Environment.ProcessId,
                    Version = StatsPageSource.Version,
                };
                StatsHtml.Write(text, snapshot, view);
            }
        }
        // `stats refresh`: the HTML page reloads itself (HAProxy's Refresh header), unless `;norefresh`.
        string refresh = config.Refresh is { } r && !options.Csv && !options.Json && !options.NoRefresh
            ? $"Refresh: {(int)r.TotalSeconds}\r\n" : "";
        var response = body.WithHead($"HTTP/1.1 200 OK\r\ncontent-type: {contentType}\r\ncontent-length: {body.BodyLength}\r\n" +
            $"cache-control: no-cache\r\n{refresh}Connection: close\r\n\r\n");
        await SendErrorAsync(200, response).ConfigureAwait(false);
        WriteLog();
    }

    /// <summary>
    /// `stats admin`: the form's `b` (backend), `s` (servers, repeated), `action` (ready, drain, maint, weight) and
    /// `weight`, as HAProxy's page posts them (application/x-www-form-urlencoded, at most `tune.bufsize`). Each change
    /// goes to the supervisor, which applies it in every worker as `proxyctl server` does. Returns HAProxy's `st` code.
    /// </summary>
    private async ValueTask<string> ApplyAdminFormAsync()
    {
        if (RequestHead.BodyFraming == HttpBodyFraming.Chunked || RequestHead.ContentLength > _engine.BufferSize) return "EXCD";
        int length = (int)Math.Max(0, RequestHead.ContentLength);
        while (_client.Buffered < length)
        {
            int n = await _client.ReceiveAsync(expectData: true).ConfigureAwait(false);
            if (n <= 0) return "ERRP";
            ProxyCounters.Add(ref _fe.Counters.bin, n);
        }
        string form = Encoding.UTF8.GetString(_client.DataMemory.Span[..length]);
        _client.Consume(length);
        string? backend = null, action = null;
        int? weight = null;
        var servers = new List<string>();
        foreach (var pair in form.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) continue;
            string name = Uri.UnescapeDataString(pair[..eq].Replace('+', ' '));
            string value = Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            switch (name)
            {
                case "b": backend = value; break;
                case "s": servers.Add(value); break;
                case "action": action = value; break;
                case "weight" when value.Length > 0:
                    weight = int.TryParse(value, out int n) && n is >= 0 and <= 256 ? n : -1;
                    break;
            }
        }
        if (backend is null || action is null || action.Length == 0) return "ERRP";
        if (servers.Count == 0) return "NONE";
        if (action is not ("ready" or "drain" or "maint" or "weight") || (action == "weight" && weight is null or < 0)) return "ERRP";
        if (_engine.StatsSource is not { } source) return "ERRP";
        int applied = 0;
        foreach (var server in servers)
        {
            if (!HasServer(backend, server)) continue;
            source.RequestServerChange(action == "weight"
                ? new ServerOverride(backend, server, null, weight)
                : new ServerOverride(backend, server, action, null));
            applied++;
        }
        return applied == servers.Count ? "DONE" : applied == 0 ? "ERRP" : "PART";
    }

    private bool HasServer(string backend, string server)
    {
        foreach (var be in _engine.Backends)
        {
            if (be.Config.Name != backend) continue;
            foreach (var s in be.Servers)
                if (s.Name == server) return true;
        }
        return false;
    }

    /// <summary>`http-request use-service prometheus-exporter`: the board in Prometheus' text format (PrometheusExporter).</summary>
    [AsyncMethodBuilder(typeof(ThreadCachedValueTaskMethodBuilder))]
    private async ValueTask ServePrometheusAsync()
    {
        SetLogCause('L', 'R');
        if (_engine.StatsSource is not { } source)
        {
            await SendErrorAsync(503).ConfigureAwait(false);
            WriteLog();
            return;
        }
        using var body = new PooledResponseStream(StatsHeadRoom);
        using (var text = new StreamWriter(body, Utf8NoBom, 16384, leaveOpen: true) { NewLine = "\n" })
            PrometheusExporter.Write(text, source.Snapshot(), StatsPageSource.Version);
        var response = body.WithHead($"HTTP/1.1 200 OK\r\ncontent-type: {PrometheusExporter.ContentType}\r\ncontent-length: {body.BodyLength}\r\n" +
            "cache-control: no-cache\r\nConnection: close\r\n\r\n");
        await SendErrorAsync(200, response).ConfigureAwait(false);
        WriteLog();
    }
}

/// <summary>
/// A write-only stream into one buffer rented from the shared pool (grown by renting a larger one), with room kept in
/// front for the response head: the head is written last, once the body's length is known, and head and body go out
/// as one contiguous block. Disposing gives the buffer back.
/// </summary>
internal sealed class PooledResponseStream : Stream
{
    private readonly int _headRoom;
    private byte[] _buffer;
    private int _end;

    public PooledResponseStream(int headRoom)
    {
        _headRoom = headRoom;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(16384, headRoom * 4));
        _end = headRoom;
    }

    public int BodyLength => _end - _headRoom;

    /// <summary>Writes <paramref name="head"/> (ASCII, at most the room kept) just before the body; returns head and body.</summary>
    public ReadOnlyMemory<byte> WithHead(string head)
    {
        int start = _headRoom - head.Length;
        if (start < 0) throw new InvalidOperationException("response head longer than the room kept for it");
        Encoding.ASCII.GetBytes(head, _buffer.AsSpan(start));
        return _buffer.AsMemory(start, _end - start);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_end + buffer.Length > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _end + buffer.Length));
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        buffer.CopyTo(_buffer.AsSpan(_end));
        _end += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void WriteByte(byte value) => Write([value]);
    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _end - _headRoom;
    public override long Position { get => Length; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        base.Dispose(disposing);
    }
}

using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Http;

/// <summary>
/// A proxy's `stats` page, compiled once per engine: the URI prefix as bytes, each `stats auth` user's Basic
/// credentials as the base64 token a browser sends (RFC 7617 2: base64 of "user:password"), the 401 answer with its
/// realm, and the `stats admin` condition. Matching a request allocates nothing.
/// </summary>
internal sealed class StatsPageRuntime
{
    private readonly byte[] _uri;
    private readonly byte[][] _tokens;

    public StatsPageRuntime(StatsPageConfig config)
    {
        Config = config;
        _uri = Encoding.UTF8.GetBytes(config.Uri);
        _tokens = config.Users.Select(u => Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{u.User}:{u.Password}")))).ToArray();
        Admin = config.Admin is null ? null : new CompiledCondition(config.Admin);
        const string body = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
        Unauthorized = Encoding.ASCII.GetBytes(
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: " + body.Length + "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n" +
            $"WWW-Authenticate: Basic realm=\"{config.Realm}\"\r\nConnection: close\r\n\r\n" + body);
    }

    public StatsPageConfig Config { get; }

    /// <summary>`stats admin if|unless COND`; null: the page is read-only.</summary>
    public CompiledCondition? Admin { get; }

    /// <summary>HAProxy's 401 with `WWW-Authenticate: Basic realm="REALM"` (the connection closes after it).</summary>
    public byte[] Unauthorized { get; }

    /// <summary>Whether the request target starts with the `stats uri` prefix (4.2 "stats uri": a prefix, so `;csv` and queries follow it).</summary>
    public bool Matches(ReadOnlySpan<byte> target) => target.StartsWith(_uri);

    /// <summary>The part of the target after the prefix: the `;csv;up;...` options.</summary>
    public ReadOnlySpan<byte> Options(ReadOnlySpan<byte> target) => target[_uri.Length..];

    /// <summary>Whether the request may see the page: no `stats auth` line, or `Authorization: Basic` with one of their credentials.</summary>
    public bool Authorized(HttpHead request)
    {
        if (_tokens.Length == 0) return true;
        if (!UserListRuntime.TryGetBasicToken(request, out var token)) return false;
        foreach (var t in _tokens)
            if (token.SequenceEqual(t)) return true;
        return false;
    }
}

/// <summary>The `;` options of a stats request (HAProxy's stats_process_http_request, plus `;worker=N`).</summary>
internal readonly record struct StatsRequestOptions(bool Csv, bool Json, bool UpOnly, bool NoRefresh, int? Worker, string? ActionStatus)
{
    /// <summary>Reads `;csv`, `;json`, `;up`, `;norefresh`, `;worker=N` (1-based) and `;st=CODE` anywhere after the prefix.</summary>
    public static StatsRequestOptions Parse(ReadOnlySpan<byte> options)
    {
        bool csv = false, json = false, up = false, norefresh = false;
        int? worker = null;
        string? status = null;
        foreach (var range in options.Split((byte)';'))
        {
            var part = options[range];
            int end = part.IndexOfAny((byte)'?', (byte)'&', (byte)'#');
            if (end >= 0) part = part[..end];
            if (part.SequenceEqual("csv"u8)) csv = true;
            else if (part.SequenceEqual("json"u8)) json = true;
            else if (part.SequenceEqual("up"u8)) up = true;
            else if (part.SequenceEqual("norefresh"u8)) norefresh = true;
            else if (part.StartsWith("worker="u8) && System.Buffers.Text.Utf8Parser.TryParse(part[7..], out int n, out int used) && used == part.Length - 7 && n > 0)
                worker = n;
            else if (part.StartsWith("st="u8) && part.Length is > 3 and <= 7)
                status = Encoding.ASCII.GetString(part[3..]);
        }
        return new StatsRequestOptions(csv, json, up, norefresh, worker, status);
    }
}

using System.Text;

namespace Proxy.Worker.Http;

/// <summary>
/// The responses the proxy itself generates (HAProxy's http_err_msgs in src/http.c: same status lines and bodies),
/// each a complete HTTP/1.1 message with `Connection: close`. An `errorfile CODE FILE` of the backend, else of the
/// frontend, replaces one (4.2 "errorfile"). Built once; sending one allocates nothing.
/// </summary>
internal static class HttpErrorResponses
{
    private static readonly Dictionary<int, byte[]> Builtin = new()
    {
        [200] = Build(200, "OK", "Service ready."),
        [400] = Build(400, "Bad request", "Your browser sent an invalid request."),
        [401] = Build(401, "Unauthorized", "You need a valid user and password to access this content."),
        [403] = Build(403, "Forbidden", "Request forbidden by administrative rules."),
        [404] = Build(404, "Not Found", "The resource could not be found."),
        [405] = Build(405, "Method Not Allowed", "A request was made of a resource using a request method not supported by that resource"),
        [407] = Build(407, "Unauthorized", "You need a valid user and password to access this content."),
        [410] = Build(410, "Gone", "The resource is no longer available and will not be available again."),
        [413] = Build(413, "Payload Too Large", "The request entity exceeds the maximum allowed."),
        [421] = Build(421, "Misdirected Request", "Request sent to a non-authoritative server."),
        [422] = Build(422, "Unprocessable Content", "The server cannot process the contained instructions."),
        [425] = Build(425, "Too Early", "Your browser sent early data."),
        [429] = Build(429, "Too Many Requests", "You have sent too many requests in a given amount of time."),
        [501] = Build(501, "Not Implemented", "The server does not support the functionality required to fulfill the request."),
        [408] = Build(408, "Request Time-out", "Your browser didn't send a complete request in time."),
        [500] = Build(500, "Internal Server Error", "An internal server error occurred."),
        [502] = Build(502, "Bad Gateway", "The server returned an invalid or incomplete response."),
        [503] = Build(503, "Service Unavailable", "No server is available to handle this request."),
        [504] = Build(504, "Gateway Time-out", "The server didn't respond in time."),
        [505] = Build(505, "HTTP Version Not Supported", "This HTTP version is not supported."),
    };

    /// <summary>Whether a built-in page exists for <paramref name="status"/>.</summary>
    public static bool HasPage(int status) => Builtin.ContainsKey(status);

    /// <summary>The bytes to send for <paramref name="status"/>: the first errorfile found, else the built-in one (500 if none).</summary>
    public static byte[] Get(int status, IReadOnlyDictionary<int, byte[]>? backendFiles, IReadOnlyDictionary<int, byte[]>? frontendFiles)
    {
        if (backendFiles is not null && backendFiles.TryGetValue(status, out var b)) return b;
        if (frontendFiles is not null && frontendFiles.TryGetValue(status, out var f)) return f;
        return Builtin.TryGetValue(status, out var m) ? m : Builtin[500];
    }

    /// <summary>
    /// `http-request auth` (4.2): the proxy's 401 page (its errorfile, else the built-in one) with every
    /// WWW-Authenticate field removed and `WWW-Authenticate: Basic realm="REALM"` added last, as HAProxy's
    /// http_reply_40x_unauthorized does. Built once per rule; an errorfile that is not a CRLF response falls back to the built-in page.
    /// </summary>
    public static byte[] WithChallenge(IReadOnlyDictionary<int, byte[]>? errorFiles, string realm)
    {
        var page = Get(401, errorFiles, null);
        int end = page.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            page = Builtin[401];
            end = page.AsSpan().IndexOf("\r\n\r\n"u8);
        }
        var head = Encoding.Latin1.GetString(page, 0, end).Split("\r\n");
        var kept = head.Where((line, i) => i == 0 || !line.StartsWith("WWW-Authenticate:", StringComparison.OrdinalIgnoreCase));
        var text = string.Join("\r\n", kept) + $"\r\nWWW-Authenticate: Basic realm=\"{realm}\"";
        return [.. Encoding.Latin1.GetBytes(text), .. page.AsSpan(end)];
    }

    private static byte[] Build(int status, string reason, string text)
    {
        var body = $"<html><body><h1>{status} {reason}</h1>\n{text}\n</body></html>\n";
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-length: {Encoding.ASCII.GetByteCount(body)}\r\nCache-Control: no-cache\r\n" +
            $"Connection: close\r\nContent-Type: text/html\r\n\r\n{body}");
    }
}

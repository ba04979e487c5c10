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
        [400] = Build(400, "Bad request", "Your browser sent an invalid request."),
        [408] = Build(408, "Request Time-out", "Your browser didn't send a complete request in time."),
        [500] = Build(500, "Internal Server Error", "An internal server error occurred."),
        [502] = Build(502, "Bad Gateway", "The server returned an invalid or incomplete response."),
        [503] = Build(503, "Service Unavailable", "No server is available to handle this request."),
        [504] = Build(504, "Gateway Time-out", "The server didn't respond in time."),
        [505] = Build(505, "HTTP Version Not Supported", "This HTTP version is not supported."),
    };

    /// <summary>The bytes to send for <paramref name="status"/>: the first errorfile found, else the built-in one (500 if none).</summary>
    public static byte[] Get(int status, IReadOnlyDictionary<int, byte[]>? backendFiles, IReadOnlyDictionary<int, byte[]>? frontendFiles)
    {
        if (backendFiles is not null && backendFiles.TryGetValue(status, out var b)) return b;
        if (frontendFiles is not null && frontendFiles.TryGetValue(status, out var f)) return f;
        return Builtin.TryGetValue(status, out var m) ? m : Builtin[500];
    }

    private static byte[] Build(int status, string reason, string text)
    {
        var body = $"<html><body><h1>{status} {reason}</h1>\n{text}\n</body></html>\n";
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-length: {Encoding.ASCII.GetByteCount(body)}\r\nCache-Control: no-cache\r\n" +
            $"Connection: close\r\nContent-Type: text/html\r\n\r\n{body}");
    }
}

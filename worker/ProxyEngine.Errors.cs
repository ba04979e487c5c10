using System.Globalization;

namespace Proxy.Worker;

// `show errors` (doc/management.txt 9.3): the supervisor asks each worker over its channel; the answer is read from
// the snapshots the error paths published (ErrorSnapshot), off the request path.
public sealed partial class ProxyEngine
{
    /// <summary>
    /// This worker's captured events as channel lines: first `count N` (its events so far), then one line per snapshot:
    /// `request|response PROXY OTHER SERVER UNIXMS ADDRESS PORT EVENT POSITION BASE64` ("-" for none).
    /// </summary>
    public List<string> DescribeErrors()
    {
        var lines = new List<string> { string.Create(CultureInfo.InvariantCulture, $"count {ErrorSnapshot.Events}") };
        foreach (var fe in _frontends)
            if (Volatile.Read(ref fe.LastRequestError) is { } e) lines.Add(Describe("request", fe.Config.Name, e));
        foreach (var be in _backends)
            if (Volatile.Read(ref be.LastResponseError) is { } e) lines.Add(Describe("response", be.Name, e));
        return lines;
    }

    private static string Describe(string kind, string proxy, ErrorSnapshot e) => string.Create(CultureInfo.InvariantCulture,
        $"{kind} {proxy} {e.OtherProxy ?? "-"} {e.Server ?? "-"} {e.UnixMs} {e.Source?.Address.ToString() ?? "-"} {e.Source?.Port ?? 0} {e.EventId} {e.Position} {Convert.ToBase64String(e.Bytes)}");
}

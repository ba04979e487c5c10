using System.Net;
using NUnit.Framework;

namespace Proxy.Tests.Support;

/// <summary>A server's `show stat` status column (the total row, then one per worker), and traffic that spreads over the workers.</summary>
internal static class ServerStatusRows
{
    public static List<string> Of(ProxyInstance proxy, string backend, string server)
    {
        var lines = proxy.Ctl("stats", "--csv").Stdout.Split('\n');
        int status = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), "status");
        return lines.Where(l => l.StartsWith($"{backend},{server},", StringComparison.Ordinal)).Select(l => l.Split(',')[status]).ToList();
    }

    /// <summary>Until the server shows <paramref name="status"/> in the total and in each of the 2 workers.</summary>
    public static Task UntilAsync(ProxyInstance proxy, string backend, string server, string status) =>
        Poll.UntilAsync(() => string.Join(",", Of(proxy, backend, server)), rows => rows == $"{status},{status},{status}",
            $"{backend}/{server} {status} in every worker");

    /// <summary><paramref name="count"/> GETs of /x, each on a new connection (so both workers take some), each answered 200.</summary>
    public static async Task SendAsync(HttpClient http, int count, string? cookie = null)
    {
        for (int i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
            request.Headers.ConnectionClose = true;
            if (cookie is not null) request.Headers.Add("Cookie", cookie);
            using var response = await http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
    }
}

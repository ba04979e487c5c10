using System.Text;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// The rule language through the real supervisor and worker: rules in a named defaults section inherited by a
/// frontend (and run before its own), map-driven routing, a redirect whose location is a log-format string, and
/// `%[src]` in a header value.
/// </summary>
[TestFixture]
public sealed class RuleLanguageEndToEndTests
{
    private static async Task<string> ExchangeAsync(int port, string request) =>
        Encoding.ASCII.GetString(await TrafficLogTests.ExchangeAsync(port, request));

    private static string? Header(string response, string name) => response.Split("\r\n")
        .FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();

    [Test]
    public async Task NamedDefaultsRules_MapRouting_Redirect_AndSrcInAHeader()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rules-e2e-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string hosts = Path.Combine(dir, "hosts.map");
        File.WriteAllText(hosts, "one.example b1\ntwo.example b2\n");
        try
        {
            using var o1 = new OriginProcess("o1");
            using var o2 = new OriginProcess("o2");
            int port = Ports.Free();
            using var proxy = new ProxyInstance($$"""
                defaults plain
                    mode http
                    timeout connect 2s
                    timeout client 30s
                    timeout server 30s
                defaults web_rules from plain
                    http-request set-var(txn.host) req.hdr(host),lower
                    http-request redirect location https://%[var(txn.host)]%[path] code 301 if { path_beg /secure }
                    http-response set-header X-Client %[src]:%[var(txn.host)]
                frontend web from web_rules
                    bind 127.0.0.1:{{port}}
                    http-request set-var(txn.host) str(overridden) if { hdr(x-override) -m found }
                    http-request return status 200 content-type text/plain string never if { path_beg /secure }
                    use_backend b2 if { var(txn.host),map_str({{hosts}}) -m str b2 }
                    default_backend b1
                backend b1 from plain
                    server o1 127.0.0.1:{{o1.Port}}
                backend b2 from plain
                    server o2 127.0.0.1:{{o2.Port}}
                """, global: "    nbproc 1\n").Start();

            var two = await ExchangeAsync(port, "GET / HTTP/1.1\r\nHost: TWO.example\r\nConnection: close\r\n\r\n");
            Assert.That(Header(two, "X-Origin"), Is.EqualTo("o2"), "routed by the map");
            Assert.That(Header(two, "X-Client"), Is.EqualTo("127.0.0.1:two.example"), "the defaults' response rule, with %[src]");

            var one = await ExchangeAsync(port, "GET / HTTP/1.1\r\nHost: one.example\r\nConnection: close\r\n\r\n");
            Assert.That(Header(one, "X-Origin"), Is.EqualTo("o1"));

            var overridden = await ExchangeAsync(port, "GET / HTTP/1.1\r\nHost: two.example\r\nX-Override: 1\r\nConnection: close\r\n\r\n");
            Assert.That((Header(overridden, "X-Origin"), Header(overridden, "X-Client")), Is.EqualTo(("o1", "127.0.0.1:overridden")),
                "the frontend's own rule runs after the inherited one");

            var moved = await ExchangeAsync(port, "GET /secure/login?x=1 HTTP/1.1\r\nHost: One.Example\r\nConnection: close\r\n\r\n");
            Assert.That(moved, Does.StartWith("HTTP/1.1 301"), "the inherited redirect runs before the frontend's return");
            Assert.That(Header(moved, "Location"), Is.EqualTo("https://one.example/secure/login"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

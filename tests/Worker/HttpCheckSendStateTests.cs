using NUnit.Framework;
using Proxy.Tests.Support;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Worker;

/// <summary>`http-check send-state` (4.2): each HTTP check carries HAProxy's X-Haproxy-Server-State header.</summary>
public class HttpCheckSendStateTests
{
    [Test]
    public void SendState_IsParsed_AndTakesNoArgument()
    {
        string head = Lines("defaults", "    mode http", "    timeout connect 1s", "backend b", "    option httpchk GET /health");
        Assert.That(ParseValid(head + Lines("    http-check send-state", "    server s1 127.0.0.1:80 check")).Backends[0].HttpCheck!.SendState, Is.True);
        Assert.That(ParseErrors(head + Lines("    http-check send-state now")), Has.Some.Contains(":6").And.Contains("send-state"));
    }

    [Test]
    public async Task CheckRequest_CarriesServerState_AsHaproxy()
    {
        await using var origin = new HttpOrigin("o", _ => HttpOrigin.Ok("ok"));
        await using var proxy = HttpTestKit.StartFromText($"""
            defaults
                mode http
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend fe
                bind BIND
                default_backend be
            backend be
                option httpchk GET /health
                http-check send-state
                server s1 127.0.0.1:{origin.EndPoint.Port} check inter 100ms rise 2 fall 3 weight 7
            """);
        var checks = await Poll.UntilAsync(() => origin.Requests, r => r.Count >= 2, "two checks");
        var header = checks[1].Request.Header("X-Haproxy-Server-State");
        Assert.That(header, Does.Match(@"^UP( \d/3)?; address=127\.0\.0\.1; port=" + origin.EndPoint.Port
            + @"; name=be/s1; node=[^;]+; weight=7/7; scur=0/0; qcur=0$"), header);
    }
}

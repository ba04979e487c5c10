using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>
/// Captures (doc/configuration.txt 4.2 `capture cookie`, `declare capture`, `http-request|http-response|tcp-request
/// content capture`) in `option httplog` and `option httplog clf` lines (8.2.3), through the real supervisor and
/// worker, parsed back field by field. The expected lines are HAProxy 2.6.12's for the same configuration and requests.
/// </summary>
public sealed partial class TrafficLogTests
{
    // option httplog: ... %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
    [GeneratedRegex("""
        proxy\[\d+\]: 127\.0\.0\.1:\d+ \[[^\]]+\] web app/o1 \d+/0/\d+/\d+/\d+ 200 \d+ (?<CC>\S+) (?<CS>\S+) ---- \d+/\d+/\d+/\d+/0 0/0 (?<hr>\{[^}]*\}) (?<hs>\{[^}]*\}) "(?<r>[^"]*)"$
        """)]
    private static partial Regex CapturingHttpLogLine();

    // option httplog clf: %{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc
    // %bc %sc %rc %sq %bq %CC %CS %hrl %hsl
    [GeneratedRegex("""
        proxy\[\d+\]: (?<ci>127\.0\.0\.1) - - \[(?<trg>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] "(?<r>[^"]*)" (?<ST>200) (?<B>\d+) "" "" (?<cp>\d+) (?<ms>\d{3}) "clf" "app" "o1" (?<timers>\d+ 0 \d+ \d+ \d+) (?<tsc>----) (?<counts>\d+ \d+ \d+ \d+ 0) 0 0 (?<CC>"[^"]*") (?<CS>"[^"]*") (?<hrl>"[^"]*" "[^"]*") ?$
        """)]
    private static partial Regex ClfLogLine();

    [Test]
    public async Task Captures_InHttpLogAndClfLines_ParsedBackFieldByField()
    {
        using var syslog = new SyslogReceiver();
        using var origin = new OriginProcess("o1");
        int web = Ports.Free(), clf = Ports.Free();
        using var proxy = new ProxyInstance($$"""
            defaults
                mode http
                log global
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend web
                bind 127.0.0.1:{{web}}
                option httplog
                capture cookie SESS len 12
                capture request header Host len 20
                declare capture request len 8
                http-request capture req.hdr(x-a) len 5
                declare capture response len 10
                http-response capture res.hdr(x-origin),upper id 0
                http-response set-header X-Cap "%[capture.req.hdr(2)]/%[capture.res.hdr(0)]"
                http-request return status 201 content-type text/plain lf-string "hello %[req.hdr(x-name)] from %f" hdr X-Who "%[src]:%[capture.req.hdr(0)]" if { path /hello }
                default_backend app
            frontend clf
                bind 127.0.0.1:{{clf}}
                option httplog clf
                capture cookie SRV len 20
                tcp-request content capture str(tcp-capture) len 7
                declare capture request len 4
                default_backend app
            backend app
                http-request capture req.hdr(x-b) id 1
                server o1 127.0.0.1:{{origin.Port}}
            """, global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();

        var answer = Encoding.ASCII.GetString(await ExchangeAsync(web,
            "GET /?set-cookie=SESSNEW%3Dxyz HTTP/1.1\r\nHost: h.example:1\r\nCookie: a=1; SESSIONID=verylongvalue123; SESS2=x\r\n" +
            "x-a: abcdefgh\r\nx-b: bbbbbbbbbbbb\r\nConnection: close\r\n\r\n"));
        Assert.That(answer, Does.StartWith("HTTP/1.1 200").And.Contain("X-Cap: abcde/O1\r\n").IgnoreCase, "capture.req.hdr(2), capture.res.hdr(0)");
        var clfAnswer = Encoding.ASCII.GetString(await ExchangeAsync(clf,
            "GET /?set-cookie=SRVNEW%3D1%3B%20path%3D%2F HTTP/1.1\r\nHost: h\r\nCookie: SRVID=s1\r\nx-b: bb\r\nConnection: close\r\n\r\n"));
        Assert.That(clfAnswer, Does.StartWith("HTTP/1.1 200"));

        // 4.2 "http-request return ... lf-string FMT hdr NAME FMT": rendered for each request.
        var hello = Encoding.ASCII.GetString(await ExchangeAsync(web, "GET /hello HTTP/1.1\r\nHost: h1\r\nx-name: Ann\r\nConnection: close\r\n\r\n"));
        Assert.That(hello, Does.StartWith("HTTP/1.1 201 Created\r\n").And.Contain("\r\ncontent-length: 18\r\n").And.Contain("\r\nX-Who: 127.0.0.1:h1\r\n")
            .And.EndWith("\r\n\r\nhello Ann from web"));

        var lines = await syslog.ReceiveAsync(3, TimeSpan.FromSeconds(10));
        Assert.That(lines, Has.Count.EqualTo(3), string.Join("\n", lines));
        var http = lines.Select(l => CapturingHttpLogLine().Match(l)).SingleOrDefault(m => m.Success);
        Assert.That(http, Is.Not.Null, "no httplog line with captures: " + string.Join("\n", lines));
        // HAProxy: the first cookie whose name starts with SESS, cut at 12; the backend's `id 1` rule fills the
        // frontend's declared slot, cut at its 8; the `len 5` slot after it.
        Assert.Multiple(() =>
        {
            Assert.That(http!.Groups["CC"].Value, Is.EqualTo("SESSIONID=ve"));
            Assert.That(http.Groups["CS"].Value, Is.EqualTo("SESSNEW=xyz"));
            Assert.That(http.Groups["hr"].Value, Is.EqualTo("{h.example:1|bbbbbbbb|abcde}"));
            Assert.That(http.Groups["hs"].Value, Is.EqualTo("{O1}"));
            Assert.That(http.Groups["r"].Value, Is.EqualTo("GET /?set-cookie=SESSNEW%3Dxyz HTTP/1.1"));
        });
        var m = lines.Select(l => ClfLogLine().Match(l)).SingleOrDefault(x => x.Success);
        Assert.That(m, Is.Not.Null, "no CLF line: " + string.Join("\n", lines));
        Assert.Multiple(() =>
        {
            Assert.That(m!.Groups["r"].Value, Is.EqualTo("GET /?set-cookie=SRVNEW%3D1%3B%20path%3D%2F HTTP/1.1"));
            Assert.That(DateTime.ParseExact(m.Groups["trg"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime(),
                Is.EqualTo(DateTime.UtcNow).Within(TimeSpan.FromMinutes(1)), "%trg: the request's date in GMT");
            Assert.That(m.Groups["CC"].Value, Is.EqualTo("\"SRVID=s1\""));
            Assert.That(m.Groups["CS"].Value, Is.EqualTo("\"SRVNEW=1\""), "the cookie's name=value, without its attributes");
            Assert.That(m.Groups["hrl"].Value, Is.EqualTo("\"tcp-cap\" \"bb\""), "each value quoted; the tcp-request capture cut at 7");
        });
    }
}

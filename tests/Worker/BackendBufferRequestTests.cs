using NUnit.Framework;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// `option http-buffer-request` in a backend only (doc/configuration.txt 4.2): HAProxy evaluates it per proxy, the
/// backend's once `use_backend` chose it (stream_set_backend), so the frontend's rules see the body as it came and
/// the backend's see it whole. (Header rules render their values when the head is written, after both waits: the
/// frontend's view is read through a variable its set-var, run in order, stored.)
/// </summary>
public class BackendBufferRequestTests
{
    [Test]
    public async Task BackendOption_TheBackendsRulesSeeTheWholeBody_TheFrontendsWhatCameWithTheHead()
    {
        await using var app = new HttpOrigin("app");
        await using var proxy = StartFromText(HttpConfig(Server("a", app),
            frontendExtra: "    http-request set-var(txn.fe_len) req.body_len",
            backendExtra: "    option http-buffer-request\n    http-request set-header X-Fe-Len %[var(txn.fe_len)]\n" +
                "    http-request set-header X-Be-Len %[req.body_len]\n    http-request set-header X-Be-Param %[req.body_param(b)]"));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "POST /f HTTP/1.1\r\nHost: www\r\nContent-Length: 11\r\n\r\na=1&");
        await Task.Delay(200);   // the rest later: the frontend's rules have run on the first 4 bytes by then
        await SendAsync(c, "b=22222");
        Assert.That((await new HttpReader(c).ReadAsync(true))!.Status, Is.EqualTo(200));
        var seen = app.Requests.Single().Request;
        Assert.That((seen.Header("X-Fe-Len"), seen.Header("X-Be-Len"), seen.Header("X-Be-Param"), seen.BodyText),
            Is.EqualTo(("4", "11", "22222", "a=1&b=22222")));
    }

    [Test]
    public async Task BackendOption_WaitsWithTheBackendsHttpRequestTimeout_NotTheFrontends()
    {
        // HAProxy's http_wait_for_request_body waits s->be->timeout.httpreq: the backend's once use_backend set it.
        await using var app = new HttpOrigin("app");
        await using var proxy = StartFromText(HttpConfig(Server("a", app),
            frontendExtra: "    timeout http-request 20s",
            backendExtra: "    option http-buffer-request\n    timeout http-request 300ms"));
        using var c = await proxy.ConnectAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();
        await SendAsync(c, "POST /f HTTP/1.1\r\nHost: www\r\nContent-Length: 11\r\n\r\na=1&");
        var answer = await new HttpReader(c).ReadAsync(true).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That((answer!.Status, started.Elapsed < TimeSpan.FromSeconds(5)), Is.EqualTo((408, true)));
        Assert.That(app.Requests, Is.Empty);
    }
}

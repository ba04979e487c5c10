using System.Text;
using NUnit.Framework;
using Proxy.Worker.Samples;

namespace Proxy.Tests.Samples;

/// <summary>
/// `req.body`, `req.body_len`, `req.body_size`, `req.body_param([NAME])` (doc/configuration.txt 7.3.6) on what the
/// session shows of the client's buffer: a Content-Length body cut at its length, a chunked one de-chunked (HAProxy's
/// values measured with 2.6.12: body_len 7, body_size 7 for "3 a=1, 4 &b=2"), nothing once hidden.
/// </summary>
public class RequestBodySampleTests
{
    private static SampleTestContext With(string head, string buffered, out RequestBodyView body)
    {
        var t = new SampleTestContext(head);
        body = t.Context.Body;
        body.Show(Encoding.Latin1.GetBytes(buffered), t.Context.Request!);
        return t;
    }

    private const string Form = "POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n";

    [TestCase("req.body", "user=ann&b=2&b=3")]
    [TestCase("req.body_len", "16")]
    [TestCase("req.body_size", "17")]
    [TestCase("req.body_param(b)", "2")]
    [TestCase("req.body_param(user)", "ann")]
    [TestCase("req.body_param", "ann")]
    [TestCase("req.body_param(none)", null)]
    public void ContentLengthBody_PartlyBuffered(string expr, string? expected)
    {
        using var t = With(Form, "user=ann&b=2&b=3", out _);
        Assert.That(t.Eval(expr), Is.EqualTo(expected));
    }

    [Test]
    public void ContentLengthBody_EndsAtItsLength_ThePipelinedRequestIsNotBody()
    {
        using var t = With("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", "a=1GET / HTTP/1.1\r\n\r\n", out _);
        Assert.That((t.Eval("req.body"), t.Eval("req.body_len"), t.Eval("req.body_param(a)")), Is.EqualTo(("a=1", "3", "1")));
    }

    [TestCase("3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n", "a=1&b=2")]
    [TestCase("3;ext=1\r\na=1\r\n4\r\n&b", "a=1&b")]
    [TestCase("3\r\na=1\r\n0\r\nTrailer: x\r\n\r\n", "a=1")]
    [TestCase("", "")]
    [TestCase("10000000000000003\r\nabc\r\n0\r\n\r\n", "")]            // 17 hex digits: wrapped to 3 before
    [TestCase("3\r\na=1\r\nFFFFFFFFFFFFFFFFF\r\nxyz\r\n", "a=1")]       // wrapped negative: threw in the rule pass
    [TestCase("3\r\na=1\r\n80000000\r\nxyz", "a=1")]                    // int.MaxValue + 1
    [TestCase("00000000000000000000003\r\nabc\r\n0\r\n\r\n", "abc")]   // leading zeros are not significant
    public void ChunkedBody_IsSeenDechunked(string buffered, string expected)
    {
        using var t = With("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", buffered, out _);
        Assert.That((t.Eval("req.body"), t.Eval("req.body_len"), t.Eval("req.body_size")),
            Is.EqualTo((expected, expected.Length.ToString(), expected.Length.ToString())));
    }

    [Test]
    public void NoBody_EmptyBodyZeroLength_HiddenBody_NoSample()
    {
        using var t = With("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET /next HTTP/1.1\r\n\r\n", out var body);
        Assert.That((t.Eval("req.body"), t.Eval("req.body_len"), t.Eval("req.body_size")), Is.EqualTo(("", "0", "0")));
        body.Hide();
        Assert.That((t.Eval("req.body"), t.Eval("req.body_len"), t.Eval("req.body_param(a)")), Is.EqualTo(((string?)null, (string?)null, (string?)null)));
    }

    [Test]
    public void ShownThroughTheContext_BeforeAnyFetch_TheFirstFetchSeesIt_AndAHideHidesIt()
    {
        // The session shows the body through the context (SampleContext.ShowBody), which makes the view only when a
        // fetch first reads it: what the fetch sees is what was shown last, and a hide before it leaves nothing.
        using var t = new SampleTestContext(Form);
        t.Context.ShowBody(Encoding.Latin1.GetBytes("user=bob"), t.Context.Request!);
        t.Context.ShowBody(Encoding.Latin1.GetBytes("user=ann&b=2&b=3"), t.Context.Request!);   // shown again after more arrived
        Assert.That((t.Eval("req.body_param(user)"), t.Eval("req.body_len")), Is.EqualTo(("ann", "16")));
        t.Context.HideBody();
        Assert.That(t.Eval("req.body"), Is.Null, "hidden once the relay takes the buffer");
        t.Context.ShowBody(Encoding.Latin1.GetBytes("user=cy"), t.Context.Request!);   // the view exists now: shown to it at once
        Assert.That(t.Eval("req.body_param(user)"), Is.EqualTo("cy"));

        // The request's end, then the pooled session's next connection: nothing of this body is seen any more.
        t.Context.ReleaseBuffers();
        Assert.That(t.Eval("req.body"), Is.Null, "hidden at the request's end");
        t.Context.BeginSession();
        Assert.That(t.Eval("req.body"), Is.Null, "nor on the next connection");

        using var hiddenFirst = new SampleTestContext(Form);
        hiddenFirst.Context.ShowBody(Encoding.Latin1.GetBytes("user=ann"), hiddenFirst.Context.Request!);
        hiddenFirst.Context.HideBody();
        Assert.That(hiddenFirst.Eval("req.body"), Is.Null, "a body hidden before any fetch is never seen");
    }

    [Test]
    public void BodyParam_InAnAcl_TriesEveryOccurrence()
    {
        using var t = With(Form, "user=ann&b=2&b=3", out _);
        var acl = new Proxy.Shared.Config.SampleExprParser().ParseWhole("req.body_param(b)", out _)!;
        var fetcher = new SampleFetcher(acl.Fetch);
        Assert.That(fetcher.IsMultiValued, Is.True);
        Assert.That(fetcher.TryFetch(t.Context, 1, out var second), Is.True);
        Assert.That(Encoding.Latin1.GetString(second.Bytes), Is.EqualTo("3"));
    }

    [Test]
    public void BodyFetches_OnAChunkedBody_WarmedUp_AllocateNothing()
    {
        using var t = new SampleTestContext("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        var raw = Encoding.Latin1.GetBytes("9\r\nuser=ann&\r\n3\r\nb=2\r\n0\r\n\r\n");
        var exprs = new[] { "req.body", "req.body_len", "req.body_size", "req.body_param(b)" }
            .Select(e => new CompiledSampleExpr(SampleTestContext.Parse(e))).ToArray();
        long Round()
        {
            long total = 0;
            t.Context.BeginTransaction();
            t.Context.Body.Show(raw, t.Context.Request!);   // a new request: decoded again
            foreach (var e in exprs)
                if (e.TryEvaluate(t.Context, out var s)) total += s.Bytes.Length + s.Int;
            return total;
        }
        long expected = Round();
        long sum = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) sum += Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That((sum, allocated), Is.EqualTo((expected * 100, 0L)));
    }
}

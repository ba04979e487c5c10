using NUnit.Framework;
using Proxy.Shared.Config;

namespace Proxy.Tests.Samples;

/// <summary>
/// The capture slots as samples see them (doc/configuration.txt 7.3.1 "capture-req", 7.3.6 "capture.req.hdr"):
/// evaluated as a worker does against one request, on the frontend's slots.
/// </summary>
public class CaptureSampleTests
{
    [Test]
    public void CaptureConverters_FillTheirSlot_TheFetchesReadIt_AndAMissingSlotIsLeftAlone()
    {
        using var t = new SampleTestContext(response: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        var frontend = new FrontendConfig("www", ProxyMode.Http, [], null, 0, Timeouts.None, new SourceLocation("", 0))
        {
            RequestCaptures = [new HeaderCapture("", 6)], ResponseCaptures = [new HeaderCapture("", 3)],
        };
        t.Context.Captures.Configure(frontend);
        Assert.That(t.Eval("capture.req.hdr(0)"), Is.Null, "an empty slot: no sample");
        Assert.That(t.Eval("req.hdr(host),capture-req(0),lower"), Is.EqualTo("www.example.com"), "the input passes on");
        Assert.That(t.Eval("capture.req.hdr(0)"), Is.EqualTo("Www.Ex"), "cut at the slot's length");
        Assert.That(t.Eval("status,capture-res(0)"), Is.EqualTo("200"));
        Assert.That(t.Eval("capture.res.hdr(0)"), Is.EqualTo("200"));
        Assert.That(t.Eval("str(x),capture-req(5)"), Is.EqualTo("x"), "no slot 5 here: nothing stored, nothing fails");
        Assert.That(t.Eval("capture.req.hdr(5)"), Is.Null);
    }
}

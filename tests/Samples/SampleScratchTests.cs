using NUnit.Framework;
using Proxy.Worker.Samples;

namespace Proxy.Tests.Samples;

/// <summary>
/// The scratch space expressions write into is the thread's, shared by every session it runs (issue 18): many
/// requests in flight hold none, and one session's expressions never see another's bytes.
/// </summary>
public class SampleScratchTests
{
    [Test]
    public void ManyRequestsInFlight_OnOneThread_AllocateNoScratchEach()
    {
        // 256 sessions between their rules and their log line (keep-alive clients waiting on their servers): before, each
        // held a 16 KiB scratch rented from the shared pool, which keeps 32 per core and allocated the rest.
        var tests = Enumerable.Range(0, 256).Select(_ => new SampleTestContext()).ToArray();
        var expr = new CompiledSampleExpr(SampleTestContext.Parse("req.hdr(host),lower"));
        try
        {
            var expected = "www.example.com"u8.ToArray();
            int Round()
            {
                int wrong = 0;
                foreach (var t in tests) t.Context.BeginTransaction();
                foreach (var t in tests)
                    if (!expr.TryEvaluate(t.Context, out var s) || !s.Bytes.SequenceEqual(expected)) wrong++;
                foreach (var t in tests) t.Context.ReleaseBuffers();
                return wrong;
            }

            Assert.That(Round(), Is.Zero);
            long before = GC.GetAllocatedBytesForCurrentThread();
            int wrong = Round();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(wrong, Is.Zero);
            Assert.That(allocated, Is.Zero);
        }
        finally
        {
            foreach (var t in tests) t.Dispose();
        }
    }

    [Test]
    public void TwoSessions_Interleaved_EachReadsItsOwnValues()
    {
        using var a = new SampleTestContext();
        using var b = new SampleTestContext("GET /other HTTP/1.1\r\nHost: B.example\r\n\r\n");
        // a's expression leaves bytes at the start of the thread's scratch; b's overwrites them; a's next value is its own.
        Assert.That(a.Eval("req.hdr(host),lower"), Is.EqualTo("www.example.com"));
        Assert.That(b.Eval("req.hdr(host),lower"), Is.EqualTo("b.example"));
        Assert.That(a.Eval("path,upper"), Is.EqualTo("/IMG/LOGO.PNG"));
        Assert.That(b.Eval("path,upper"), Is.EqualTo("/OTHER"));
    }
}

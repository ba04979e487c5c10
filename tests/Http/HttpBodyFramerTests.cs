using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

public class HttpBodyFramerTests
{
    private static HttpBodyFramer Chunked()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.Chunked);
        return f;
    }

    private static (HttpBodyStatus Status, byte[] Body, HttpParseError Error) RunChunked(string body, bool eos = false)
    {
        var f = Chunked();
        return Frame(ref f, [B(body)], eos);
    }

    [Test]
    public void Process_ContentLength_ForwardsExactlyThatManyBytes()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.ContentLength, 10);
        var (status, body, _) = Frame(ref f, Cut(B("0123456789GET /next"), 3, 4, 12));
        Assert.That(status, Is.EqualTo(HttpBodyStatus.Complete));
        Assert.That(S(body), Is.EqualTo("0123456789"));
        Assert.That(f.IsComplete, Is.True);
    }

    [Test]
    public void Process_ContentLengthPartial_NeedsMoreAndCountsDown()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.ContentLength, 10);
        Assert.That(f.Process(Sequence(B("0123")), false, out long n), Is.EqualTo(HttpBodyStatus.NeedMoreData));
        Assert.That((n, f.Remaining), Is.EqualTo((4L, 6L)));
    }

    [Test]
    public void Process_ContentLengthCutByEof_IsTruncated()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.ContentLength, 10);
        var (status, body, error) = Frame(ref f, [B("0123")], endOfStreamAfterLast: true);
        Assert.That((status, error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.Truncated)));
        Assert.That(body, Has.Length.EqualTo(4));
    }

    [Test]
    public void Process_FromHead_UsesItsFraming()
    {
        using var head = new HttpHead();
        Assert.That(ParseRequest(head, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        var f = new HttpBodyFramer();
        f.Reset(head);
        Assert.That(f.Framing, Is.EqualTo(HttpBodyFraming.ContentLength));
        Assert.That(f.Process(Sequence(B("abcdef")), false, out long n), Is.EqualTo(HttpBodyStatus.Complete));
        Assert.That(n, Is.EqualTo(3));
    }

    [Test]
    public void Process_None_IsCompleteAtOnceWithNoBytes()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.None);
        Assert.That(f.Process(Sequence(B("GET / HTTP/1.1\r\n")), false, out long n), Is.EqualTo(HttpBodyStatus.Complete));
        Assert.That(n, Is.Zero);
    }

    [Test]
    public void Process_CloseDelimited_ForwardsEverythingUntilEof()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.CloseDelimited);
        Assert.That(f.Process(Sequence(B("abc"), B("de")), false, out long n), Is.EqualTo(HttpBodyStatus.NeedMoreData));
        Assert.That(n, Is.EqualTo(5));
        Assert.That(f.Process(Sequence(B("f")), true, out n), Is.EqualTo(HttpBodyStatus.Complete));
        Assert.That(n, Is.EqualTo(1));
    }

    private const string ChunkedBody =
        "5;name=value;quoted=\"a \\\"b\\\" ;c\"\r\nhello\r\n" +
        "A ; ext\r\n0123456789\r\n" +
        "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n" +
        "000\r\nX-Trailer: yes\r\nChecksum: abc\t def\r\n\r\n";

    [Test]
    public void Process_ChunkedWithExtensionsAndTrailers_ForwardsItUnchanged()
    {
        var (status, body, error) = RunChunked(ChunkedBody + "NEXT");
        Assert.That((status, error), Is.EqualTo((HttpBodyStatus.Complete, HttpParseError.None)));
        Assert.That(S(body), Is.EqualTo(ChunkedBody));
    }

    [Test]
    public void Process_ChunkedSplitAtEveryByteBoundary_ForwardsItUnchanged()
    {
        byte[] data = B(ChunkedBody + "NEXT");
        foreach (List<byte[]> pieces in AllSplits(data))
        {
            var f = Chunked();
            var (status, body, error) = Frame(ref f, pieces);
            Assert.That((status, error), Is.EqualTo((HttpBodyStatus.Complete, HttpParseError.None)), $"pieces {pieces.Count}");
            Assert.That(S(body), Is.EqualTo(ChunkedBody));
        }
    }

    [Test]
    public void Process_ChunkedNoTrailers_Completes()
    {
        Assert.That(RunChunked("3\r\nabc\r\n0\r\n\r\n").Status, Is.EqualTo(HttpBodyStatus.Complete));
        Assert.That(RunChunked("0\r\n\r\n").Status, Is.EqualTo(HttpBodyStatus.Complete));
    }

    [Test]
    public void Process_ChunkedIncomplete_NeedsMoreOrIsTruncatedAtEof()
    {
        Assert.That(RunChunked("3\r\nabc\r\n0\r\n").Status, Is.EqualTo(HttpBodyStatus.NeedMoreData));
        var r = RunChunked("3\r\nab", eos: true);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.Truncated)));
    }

    [TestCase("\r\n")]
    [TestCase("g\r\n")]
    [TestCase("-1\r\n")]
    [TestCase("0x5\r\n")]
    [TestCase(" 5\r\n")]
    [TestCase("5 5\r\n")]
    [TestCase("5\n")]
    [TestCase("5\rX")]
    [TestCase("1000000000000000\r\n")]
    [TestCase("ffffffffffffffffff\r\n")]
    [TestCase("0000000000000000001\r\n")]
    public void Process_MalformedChunkSize_IsError(string body)
    {
        var r = RunChunked(body);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.InvalidChunkSize)));
    }

    [TestCase("5;\r\n")]
    [TestCase("5;=v\r\n")]
    [TestCase("5;a=\r\n")]
    [TestCase("5;a=b c\r\n")]
    [TestCase("5;a=\"unterminated\r\n")]
    [TestCase("5;a\u0000\r\n")]
    [TestCase("5;a=\"x\u0001\"\r\n")]
    [TestCase("5;a(b)\r\n")]
    [TestCase("5;a=\"x\"y\r\n")]
    public void Process_MalformedChunkExtension_IsError(string body)
    {
        var r = RunChunked(body);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.InvalidChunkExtension)));
    }

    [Test]
    public void Process_EndlessChunkExtension_IsError()
    {
        var r = RunChunked("5;a=" + new string('x', 5000));
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.InvalidChunkExtension)));
    }

    [TestCase("3\r\nabcd\r\n")]
    [TestCase("3\r\nabc\n0\r\n\r\n")]
    [TestCase("3\r\nabc\rx")]
    public void Process_ChunkDataNotFollowedByCrLf_IsError(string body)
    {
        var r = RunChunked(body);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.InvalidChunkTerminator)));
    }

    [TestCase("0\r\n X: folded\r\n\r\n")]
    [TestCase("0\r\nX : a\r\n\r\n")]
    [TestCase("0\r\n: a\r\n\r\n")]
    [TestCase("0\r\nX: a\u0000\r\n\r\n")]
    [TestCase("0\r\nX: a\nY: b\r\n\r\n")]
    [TestCase("0\r\nNoColon\r\n\r\n")]
    [TestCase("0\r\n\rX")]
    public void Process_MalformedTrailer_IsError(string body)
    {
        var r = RunChunked(body);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.InvalidTrailer)));
    }

    [Test]
    public void Process_TrailersLargerThanLimit_IsError()
    {
        var f = new HttpBodyFramer();
        f.Reset(HttpBodyFraming.Chunked, 0, maxTrailerLength: 32);
        var r = Frame(ref f, [B("0\r\nX: " + new string('a', 40) + "\r\n\r\n")]);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.TrailerTooLarge)));
    }

    [Test]
    public void Process_TrailersLargerThanBufSize_FailBeforeAnyTrailerByteIsBody()
    {
        var f = Chunked();
        var lines = string.Concat(Enumerable.Repeat("X-Trailer-Line: some value here\r\n", 20000 / 101 * 2));
        var r = Frame(ref f, Cut(B("3\r\nabc\r\n0\r\n" + lines + "\r\n"), 100, 9000, 15000));
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.TooManyTrailers)));
        Assert.That(S(r.Body), Is.EqualTo("3\r\nabc\r\n"), "neither the last chunk nor a trailer byte");
    }

    [Test]
    public void Process_TrailerBytesOverBufSize_AreTooLarge()
    {
        var f = Chunked();
        var r = Frame(ref f, [B("0\r\nX: " + new string('a', HttpHead.DefaultMaxHeadSize) + "\r\n\r\n")]);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.TrailerTooLarge)));
        Assert.That(r.Body, Is.Empty);
    }

    [Test]
    public void Process_FromHead_TrailerFieldsBoundedByMaxHdr()
    {
        using var head = new HttpHead(maxHeaders: 3);
        Assert.That(ParseRequest(head, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), Is.EqualTo(HttpParseStatus.Complete));
        var f = new HttpBodyFramer();
        f.Reset(head);
        Assert.That(Frame(ref f, [B("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")]).Status, Is.EqualTo(HttpBodyStatus.Complete));
        f.Reset(head);
        var r = Frame(ref f, [B("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n")]);
        Assert.That((r.Status, r.Error), Is.EqualTo((HttpBodyStatus.Error, HttpParseError.TooManyTrailers)));
    }

    [Test]
    public void Process_LastChunkAndTrailers_AreHeldUntilTheFinalCrLf()
    {
        var f = Chunked();
        Assert.That(f.Process(Sequence(B("3\r\nabc\r\n0\r\nX: a\r\n")), false, out long n), Is.EqualTo(HttpBodyStatus.NeedMoreData));
        Assert.That((n, f.HeldBytes), Is.EqualTo((8L, 9)), "\"0\\r\\nX: a\\r\\n\" held");
        Assert.That(f.Process(Sequence(B("0\r\nX: a\r\n\r\nGET")), false, out n), Is.EqualTo(HttpBodyStatus.Complete));
        Assert.That((n, f.HeldBytes), Is.EqualTo((11L, 0)));
    }

    [Test]
    public void Process_SizeLineCut_IsHeldUntilWhole()
    {
        var f = Chunked();
        Assert.That(f.Process(Sequence(B("3\r\nabc\r\n1f;a=b")), false, out long n), Is.EqualTo(HttpBodyStatus.NeedMoreData));
        Assert.That((n, f.HeldBytes), Is.EqualTo((8L, 6)));
        Assert.That(f.Process(Sequence(B("1f;a=b\r\nxy")), false, out n), Is.EqualTo(HttpBodyStatus.NeedMoreData));
        Assert.That((n, f.HeldBytes, f.Remaining), Is.EqualTo((10L, 0, 29L)));
    }

    [TestCase("5\r\nhello\r\nzz\r\n")]
    [TestCase("5\r\nhello\r\nFFFFFFFFFFFFFFFFFF\r\n")]
    [TestCase("5\r\nhelloXX")]
    [TestCase("5\r\nhello\r\n5;a=b c\r\n")]
    [TestCase("5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n")]
    public void Process_Error_ReportsNoByteOfTheCall(string body)
    {
        var f = Chunked();
        Assert.That(f.Process(Sequence(B(body)), false, out long n), Is.EqualTo(HttpBodyStatus.Error));
        Assert.That(n, Is.Zero, "nothing of a broken message is forwarded");
    }

    [Test]
    public void Process_LargeChunk_IsStreamedWithoutHoldingIt()
    {
        var f = Chunked();
        Assert.That(f.Process(Sequence(B("100000\r\n")), false, out long n), Is.EqualTo(HttpBodyStatus.NeedMoreData));
        Assert.That(n, Is.EqualTo(8));
        byte[] block = new byte[4096];
        for (int i = 0; i < 0x100000 / block.Length; i++)
        {
            Assert.That(f.Process(Sequence(block), false, out n), Is.EqualTo(HttpBodyStatus.NeedMoreData));
            Assert.That(n, Is.EqualTo(block.Length));
        }
        Assert.That(f.Process(Sequence(B("\r\n0\r\n\r\n")), false, out n), Is.EqualTo(HttpBodyStatus.Complete));
        Assert.That(n, Is.EqualTo(7));
    }

    [Test]
    public void Process_AfterError_StaysInError()
    {
        var f = Chunked();
        Assert.That(f.Process(Sequence(B("z")), false, out _), Is.EqualTo(HttpBodyStatus.Error));
        Assert.That(f.Process(Sequence(B("0\r\n\r\n")), false, out long n), Is.EqualTo(HttpBodyStatus.Error));
        Assert.That(n, Is.Zero);
    }
}

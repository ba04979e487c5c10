using System.Buffers;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Http;

namespace Proxy.Tests.Http;

/// <summary>Header rules applied while re-serializing a head (http-request / http-response set-header, add-header, del-header).</summary>
public class Http1HeadWriterRuleTests
{
    private static readonly SourceLocation Here = new("test.cfg", 1);

    private static HttpHead Parse(string request)
    {
        var head = new HttpHead();
        var seq = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(request));
        Assert.That(Http1RequestParser.Parse(head, seq, out _, out _), Is.EqualTo(HttpParseStatus.Complete));
        return head;
    }

    private static CompiledHeaderRule Rule(HeaderAction action, string name, string? value = null) => new(new HeaderRule(action, name, value, null, Here));

    private static string Compose(HttpHead head, CompiledHeaderRule[] first, CompiledHeaderRule[]? second = null, HttpHeadWriteFlags flags = HttpHeadWriteFlags.None, string extra = "")
    {
        second ??= [];
        var buf = new byte[4096];
        int n = Http1HeadWriter.Write(head, buf, flags, Encoding.ASCII.GetBytes(extra), first, ulong.MaxValue >> (64 - Math.Max(first.Length, 1)), second, second.Length == 0 ? 0 : ulong.MaxValue >> (64 - second.Length));
        Assert.That(n, Is.GreaterThan(0));
        return Encoding.ASCII.GetString(buf, 0, n);
    }

    [Test]
    public void SetHeader_ReplacesEveryOccurrence_AtTheEnd()
    {
        using var head = Parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-B: k\r\nx-a: 2\r\n\r\n");
        Assert.That(Compose(head, [Rule(HeaderAction.Set, "X-A", "new")]), Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\nX-B: k\r\nX-A: new\r\n\r\n"));
    }

    [Test]
    public void AddThenDelete_RemovesTheAddedOneToo()
    {
        using var head = Parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n");
        Assert.That(Compose(head, [Rule(HeaderAction.Add, "X-A", "2")], [Rule(HeaderAction.Delete, "x-a")]),
            Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    }

    [Test]
    public void DeleteThenAdd_KeepsOnlyTheAddedOne_AfterExtraLines()
    {
        using var head = Parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n");
        Assert.That(Compose(head, [Rule(HeaderAction.Delete, "X-A"), Rule(HeaderAction.Add, "X-A", "2")], extra: "X-Forwarded-For: 1.2.3.4\r\n"),
            Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-A: 2\r\n\r\n"));
    }

    [Test]
    public void HopByHop_StillRemoved_AndConnectionCloseAdded()
    {
        using var head = Parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: x-hop\r\nX-Hop: 1\r\n\r\n");
        Assert.That(Compose(head, [], flags: HttpHeadWriteFlags.ConnectionClose), Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    }

    [Test]
    public void InactiveRule_IsSkipped_AndTooSmallBuffer_IsMinusOne()
    {
        using var head = Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var buf = new byte[4096];
        int n = Http1HeadWriter.Write(head, buf, HttpHeadWriteFlags.None, default, [Rule(HeaderAction.Add, "X-A", "1")], 0, [], 0);
        Assert.That(Encoding.ASCII.GetString(buf, 0, n), Is.EqualTo("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        Assert.That(Http1HeadWriter.Write(head, new byte[10], HttpHeadWriteFlags.None, default, [], 0, [], 0), Is.EqualTo(-1));
    }
}

using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Persistence;
using Proxy.Worker.Samples;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Samples;

/// <summary>
/// The RDP connection request's cookie (MS-RDPBCGR 2.2.1.1) as HAProxy's fetch_rdp_cookie_name reads it: the fetches
/// `req.rdp_cookie`/`rdp_cookie_cnt`, the `msts` cookie `persist rdp-cookie` decodes, and the config keywords.
/// </summary>
public sealed class RdpCookieTests
{
    /// <summary>TPKT + X.224 Connection Request + `Cookie: NAME=VALUE\r\n` + the RDP negotiation request, as mstsc sends.</summary>
    internal static byte[] ConnectionRequest(string cookieLine)
    {
        var cookie = Encoding.ASCII.GetBytes(cookieLine + "\r\n");
        byte[] negotiation = [0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00];
        int length = 4 + 7 + cookie.Length + negotiation.Length;
        var b = new List<byte> { 0x03, 0x00, (byte)(length >> 8), (byte)length };                 // TPKT
        b.AddRange(new byte[] { (byte)(length - 5), 0xE0, 0x00, 0x00, 0x00, 0x00, 0x00 });       // X.224 CR TPDU
        b.AddRange(cookie);
        b.AddRange(negotiation);
        return b.ToArray();
    }

    private static string? Fetch(string expr, byte[] data, int length, bool final, out bool waits)
    {
        var ctx = new SampleContext();
        ctx.SetPayload(data, length, final);
        var compiled = new CompiledSampleExpr(SampleTestContext.Parse(expr));
        bool ok = compiled.TryEvaluate(ctx, out var s);
        waits = ctx.PayloadIncomplete;
        return !ok ? null : s.Type == SampleType.Int ? s.Int.ToString() : Encoding.ASCII.GetString(s.Bytes);
    }

    [Test]
    public void Fetches_ReadTheCookie_ByNameOrTheFirst()
    {
        var req = ConnectionRequest("Cookie: mstshash=alice");
        Assert.That(Fetch("req.rdp_cookie", req, req.Length, false, out _), Is.EqualTo("alice"), "no name: the first cookie");
        Assert.That(Fetch("rdp_cookie(mstshash)", req, req.Length, false, out _), Is.EqualTo("alice"));
        Assert.That(Fetch("req.rdp_cookie(MSTSHASH)", req, req.Length, false, out _), Is.EqualTo("alice"), "the name's case does not matter");
        Assert.That(Fetch("req.rdp_cookie(msts)", req, req.Length, false, out _), Is.Null, "another name");
        Assert.That(Fetch("req.rdp_cookie_cnt", req, req.Length, false, out _), Is.EqualTo("1"));
        Assert.That(Fetch("rdp_cookie_cnt(msts)", req, req.Length, false, out _), Is.EqualTo("0"));
    }

    [Test]
    public void PartialRequest_NoSample_AndWaitsUnlessFinal()
    {
        var req = ConnectionRequest("Cookie: mstshash=alice");
        Assert.That(Fetch("req.rdp_cookie", req, 20, false, out bool waits), Is.Null);
        Assert.That(waits, Is.True, "the cookie line has not ended: more bytes may complete it");
        Assert.That(Fetch("req.rdp_cookie_cnt", req, 20, true, out waits), Is.EqualTo("0"));
        Assert.That(waits, Is.False);
        var notRdp = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(Fetch("req.rdp_cookie_cnt", notRdp, notRdp.Length, false, out _), Is.EqualTo("0"), "no Cookie: at byte 11");
    }

    [TestCase("16777343.15629.0000", 16777343u, 3389)]   // 127.0.0.1:3389 as a connection broker writes it
    [TestCase("167772170.20480.", 167772170u, 80)]       // 10.0.0.10:80
    public void MstsCookie_Decodes(string value, uint address, int port)
    {
        Assert.That(RdpCookiePersistence.TryDecode(Encoding.ASCII.GetBytes(value), out uint a, out int p), Is.True);
        Assert.That((a, p), Is.EqualTo((address, port)));
    }

    [TestCase("16777343")]
    [TestCase("16777343.15629")]
    [TestCase("x.1.")]
    public void MstsCookie_Malformed_IsNone(string value)
        => Assert.That(RdpCookiePersistence.TryDecode(Encoding.ASCII.GetBytes(value), out _, out _), Is.False);

    private static string Listen(params string[] lines) => Lines(
        [
            "defaults", "  mode tcp", "  timeout connect 1s", "  timeout client 1s", "  timeout server 1s",
            "listen rdp", "  bind 127.0.0.1:3389", "  tcp-request inspect-delay 5s", "  tcp-request content accept if RDP_COOKIE",
            .. lines.Select(l => "  " + l), "  server s1 127.0.0.1:3390",
        ]);

    [TestCase("balance rdp-cookie", "mstshash")]
    [TestCase("balance rdp-cookie(user)", "user")]
    public void BalanceRdpCookie_Parsed(string line, string name)
    {
        var be = ParseValid(Listen(line)).Backends.Single();
        Assert.That((be.Balance, be.BalanceOptions.RdpCookie), Is.EqualTo((BalanceAlgorithm.RdpCookie, name)));
    }

    [TestCase("persist rdp-cookie", "msts")]
    [TestCase("persist rdp-cookie(broker)", "broker")]
    public void PersistRdpCookie_Parsed(string line, string name)
        => Assert.That(ParseValid(Listen(line)).Backends.Single().PersistRdpCookie, Is.EqualTo(name));

    [TestCase("persist", "expected 'persist rdp-cookie'")]
    [TestCase("persist cookie", "expected 'persist rdp-cookie'")]
    [TestCase("balance rdp-cookie()", "expected 'rdp-cookie' or 'rdp-cookie(NAME)'")]
    public void RdpKeywords_Errors_NameTheLine(string line, string message)
    {
        var errors = ParseErrors(Listen(line));
        Assert.That(errors, Has.Some.Contains(message).And.Some.StartsWith("test.cfg:10:"), string.Join("\n", errors));
    }
}

using System.Net;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Supervisor.Dns;

namespace Proxy.Tests.Worker;

/// <summary>The supervisor's DNS codec (RFC 1035 4.1, RFC 2782, RFC 6891) and how answers become server addresses.</summary>
public class DnsCodecTests
{
    [Test]
    public void BuildQuery_IsOneQuestion_WithRecursionDesired()
    {
        var q = DnsMessage.BuildQuery(0x1234, "web.test", DnsType.A, 512);
        byte[] expected =
        [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
            3, (byte)'w', (byte)'e', (byte)'b', 4, (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0,
            0, 1, 0, 1,
        ];
        Assert.That(q, Is.EqualTo(expected));
    }

    [Test]
    public void BuildQuery_AboveFiveTwelve_AddsTheEdnsOptRecord()
    {
        var q = DnsMessage.BuildQuery(1, "a.b", DnsType.Srv, 8192);
        Assert.That(q[11], Is.EqualTo(1), "ARCOUNT 1");
        Assert.That(q[^11..], Is.EqualTo(new byte[] { 0, 0, 41, 0x20, 0x00, 0, 0, 0, 0, 0, 0 }), "OPT, class = payload size 8192");
        Assert.Throws<ArgumentException>(() => DnsMessage.BuildQuery(1, "a..b", DnsType.A, 512));
        Assert.Throws<ArgumentException>(() => DnsMessage.BuildQuery(1, new string('x', 64) + ".test", DnsType.A, 512));
    }

    /// <summary>A response to "_http._tcp.svc.test SRV" with compressed names: two SRV answers, one A in additional.</summary>
    private static byte[] SrvResponse()
    {
        var m = new List<byte> { 0xAB, 0xCD, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1 };
        int question = m.Count;
        foreach (var label in new[] { "_http", "_tcp", "svc", "test" })
        {
            m.Add((byte)label.Length);
            m.AddRange(label.Select(c => (byte)c));
        }
        m.AddRange([0, 0, 33, 0, 1]);
        void Srv(ushort prio, ushort weight, ushort port, string host)
        {
            m.AddRange([0xC0, (byte)question, 0, 33, 0, 1, 0, 0, 0, 60]);
            var rdata = new List<byte> { (byte)(prio >> 8), (byte)prio, (byte)(weight >> 8), (byte)weight, (byte)(port >> 8), (byte)port };
            rdata.Add((byte)host.Length);
            rdata.AddRange(host.Select(c => (byte)c));
            rdata.AddRange([0xC0, (byte)(question + 15)]);      // -> "test"
            m.AddRange([0, (byte)rdata.Count]);
            m.AddRange(rdata);
        }
        Srv(10, 512, 8081, "b1");
        int b1 = m.Count - 5;                                     // "b1" label inside the first SRV's rdata
        Srv(5, 0, 8082, "b2");
        m.AddRange([0xC0, (byte)b1, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2]);
        return [.. m];
    }

    [Test]
    public void Parse_SrvResponse_WithCompressedNames()
    {
        var r = DnsMessage.Parse(SrvResponse())!;
        Assert.That((r.Id, r.Rcode, r.Truncated), Is.EqualTo(((ushort)0xABCD, DnsRcode.NoError, false)));
        Assert.That(r.Answers.Select(a => (a.Name, a.Type, a.Priority, a.Weight, a.Port, a.Target)), Is.EqualTo(new[]
        {
            ("_http._tcp.svc.test", DnsType.Srv, (ushort)10, (ushort)512, (ushort)8081, "b1.test"),
            ("_http._tcp.svc.test", DnsType.Srv, (ushort)5, (ushort)0, (ushort)8082, "b2.test"),
        }));
        Assert.That(r.Additional.Single().Name, Is.EqualTo("b1.test"));
        Assert.That(r.Additional.Single().Address, Is.EqualTo(IPAddress.Parse("127.0.0.2")));
    }

    [Test]
    public void Parse_Malformed_IsNull()
    {
        var good = SrvResponse();
        Assert.That(DnsMessage.Parse(good.AsSpan(0, 11)), Is.Null, "shorter than a header");
        Assert.That(DnsMessage.Parse(good.AsSpan(0, good.Length - 3)), Is.Null, "record cut short");
        var query = DnsMessage.BuildQuery(1, "a.test", DnsType.A, 512);
        Assert.That(DnsMessage.Parse(query), Is.Null, "a query is not a response (QR)");
        var loop = (byte[])good.Clone();
        loop[12] = 0xC0;
        loop[13] = 12;                                            // a pointer to itself
        Assert.That(DnsMessage.Parse(loop), Is.Null, "pointers must go backwards");
        var nx = (byte[])good.Clone();
        nx[3] = 0x83;
        Assert.That(DnsMessage.Parse(nx)!.Rcode, Is.EqualTo(DnsRcode.NxDomain));
    }

    private static readonly ServerResolution Template = new("dns", "web.test") { Template = "web" };
    private static IPEndPoint Ep(string s) => IPEndPoint.Parse(s);
    private static ResolvedTarget A(string ip) => new(IPAddress.Parse(ip), null, null);

    [Test]
    public void Assign_KeepsAnsweredAddresses_FillsOthers_LeavesTheRestWithout()
    {
        var current = new[] { Ep("0.0.0.0:80"), Ep("10.0.0.2:80"), Ep("0.0.0.0:80") };
        var next = AddressAssignment.Assign(current, [A("10.0.0.1"), A("10.0.0.2")], Template);
        Assert.That(next.Select(n => n.Address.ToString()), Is.EqualTo(new[] { "10.0.0.1:80", "10.0.0.2:80", "0.0.0.0:80" }));
    }

    [Test]
    public void Assign_MovesAnAddressThatLeftTheAnswer_AndAllowDupShares()
    {
        var moved = AddressAssignment.Assign([Ep("127.0.0.2:80")], [A("127.0.0.3")], Template with { Template = null });
        Assert.That(moved.Single().Address.ToString(), Is.EqualTo("127.0.0.3:80"));
        var dup = AddressAssignment.Assign([Ep("0.0.0.0:80"), Ep("0.0.0.0:80")], [A("10.0.0.1")], Template with { Options = ResolveOptions.AllowDupIp });
        Assert.That(dup.Select(n => n.Address.ToString()), Is.EqualTo(new[] { "10.0.0.1:80", "10.0.0.1:80" }));
        var nets = AddressAssignment.Assign([Ep("0.0.0.0:80")], [A("10.0.0.1"), A("192.168.1.1")],
            Template with { PreferredNetworks = [IPNetwork.Parse("192.168.0.0/16")] });
        Assert.That(nets.Single().Address.ToString(), Is.EqualTo("192.168.1.1:80"), "resolve-net first");
    }

    [Test]
    public void Assign_SrvAnswers_GiveThePortAndTheWeight()
    {
        var next = AddressAssignment.Assign([Ep("0.0.0.0:0"), Ep("0.0.0.0:0")],
            [new ResolvedTarget(IPAddress.Parse("127.0.0.2"), 8081, 512), new ResolvedTarget(IPAddress.Parse("127.0.0.2"), 8082, 0)], Template);
        Assert.That(next.Select(n => (n.Address.ToString(), n.Weight)), Is.EqualTo(new[] { ("127.0.0.2:8081", (int?)3), ("127.0.0.2:8082", (int?)1) }));
    }

    [Test]
    public void Assign_SrvTargetWithTwoAddresses_FillsOneServer_WhichKeepsItsAddress()
    {
        ResolvedTarget T(string ip) => new(IPAddress.Parse(ip), 80, 0, "b.test");
        var next = AddressAssignment.Assign([Ep("0.0.0.0:0"), Ep("10.0.0.2:80")], [T("10.0.0.1"), T("10.0.0.2")], Template);
        Assert.That(next.Select(n => n.Address.ToString()), Is.EqualTo(new[] { "0.0.0.0:0", "10.0.0.2:80" }),
            "one server per SRV record, and the one holding an answered address keeps it whatever the order");
    }
}

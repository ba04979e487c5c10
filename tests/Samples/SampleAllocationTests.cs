using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Logging;
using Proxy.Worker.Samples;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Samples;

/// <summary>
/// Evaluating compiled expressions, ACL conditions, header values and log-format lines allocates nothing, measured on
/// the thread that evaluates (the whole-process figure with real traffic is HttpCostTests').
/// </summary>
public class SampleAllocationTests
{
    [Test]
    public void ExpressionHeavyRules_WarmedUp_AllocateNothing()
    {
        var map = Path.Combine(Path.GetTempPath(), $"alloc-{Guid.NewGuid():N}.map");
        File.WriteAllText(map, "www.example.com app\n10.0.0.0/8 lan\n");
        try
        {
            var fe = ParseValid($$"""
                frontend fe
                    mode http
                    bind :80
                    acl local src 192.168.0.0/16
                    acl img path_end .png .jpg
                    acl host hdr(host),lower,map_str({{map}}) -m found
                    acl many hdr_cnt(x-forwarded-for) ge 2
                    acl sid cook(SID) -m beg d
                    http-request set-header X-Real-IP %[src] if local img host many sid
                    http-request set-header X-Pool "%[req.hdr(host),lower,map_str({{map}},none)] %[src,ipmask(24)] %[path,field(2,/),upper]"
                    http-request set-header X-Hash %[req.hdr(host),djb2,mod(7)]-%[urlp(id),add(1)]-%[str(abc),base64]
                    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %{+Q}r %[req.hdr(host),lower] %hr %HM %HP"
                    default_backend be
                backend be
                    mode http
                    server s 127.0.0.1:81
                """).Frontends[0];
            var conditions = fe.Http.RequestRules.Where(r => r.Condition is not null).Select(r => new CompiledCondition(r.Condition!)).ToArray();
            var values = fe.Http.RequestRules.Select(r => new CompiledLogFormat(r.Format!)).ToArray();
            var line = new CompiledLogFormat(fe.CustomLogFormat!);
            using var t = new SampleTestContext();
            var ctx = t.Context;
            ctx.Captures.Configure(fe with { RequestCaptures = [new HeaderCapture("Host", 10)], CookieCapture = new CookieCapture("SID", 20) });
            var record = new TrafficLogRecord { Server = "s", Status = 200, RequestLineLength = 0 };
            var dest = new byte[4096];

            long Round()
            {
                long total = 0;
                ctx.BeginTransaction();
                ctx.Captures.CaptureRequest(ctx.Request!);
                ctx.Captures.CaptureRequestCookie(ctx.Request!);
                foreach (var c in conditions) total += c.Evaluate(ctx) ? 1 : 0;
                foreach (var v in values) total += v.Render(ctx, null, dest);
                total += line.Render(ctx, record, dest, cut: true);
                ctx.ReleaseBuffers();
                return total;
            }

            long expected = Round();
            Assert.That(conditions.Single().Evaluate(ctx), Is.True, "the condition holds, so every ACL was evaluated");
            Assert.That(Encoding.ASCII.GetString(dest, 0, values[1].Render(ctx, null, dest)), Is.EqualTo("app 192.168.1.0 IMG"));
            for (int i = 0; i < 50; i++) Round();
            int differing = 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++) if (Round() != expected) differing++;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(differing, Is.Zero);
            Assert.That(allocated, Is.Zero);
        }
        finally
        {
            File.Delete(map);
        }
    }
}

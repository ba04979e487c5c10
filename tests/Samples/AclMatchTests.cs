using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Samples;

/// <summary>
/// ACLs on top of sample expressions (doc/configuration.txt 7.1, 7.2, 7.4): each matching method and flag, derived
/// ACLs, anonymous ones and chained converters, parsed by the config loader and evaluated as a worker does.
/// </summary>
public class AclMatchTests
{
    private SampleTestContext _t = null!;

    [SetUp]
    public void SetUp() => _t = new SampleTestContext();

    [TearDown]
    public void TearDown() => _t.Dispose();

    /// <summary>Whether `use_backend b if COND` holds for the test request, the ACL lines declared first.</summary>
    private bool Holds(string condition, params string[] acls)
    {
        var text = "frontend f\n    mode http\n    bind :80\n" + string.Concat(acls.Select(a => "    " + a + "\n")) +
            $"    use_backend b if {condition}\n    default_backend b\nbackend b\n    mode http\n";
        var fe = ParseValid(text).Frontends[0];
        return new CompiledCondition(fe.Http.UseBackends[0].Condition).Evaluate(_t.Context);
    }

    [TestCase("{ path /img/logo.png }", true)]
    [TestCase("{ path /img }", false)]
    [TestCase("{ path_beg /img/ /api/ }", true)]
    [TestCase("{ path_end .png .jpg }", true)]
    [TestCase("{ path_sub logo }", true)]
    [TestCase("{ path_reg ^/img/[a-z]+\\.png$ }", true)]
    [TestCase("{ path_dir img }", true)]
    [TestCase("{ path_dir im }", false)]
    [TestCase("{ url_beg /img }", true)]
    [TestCase("{ url_reg id=4[0-9] }", true)]
    [TestCase("{ hdr_dom(host) -i example.com }", true)]
    [TestCase("{ hdr_dom(host) example.com }", false)]
    [TestCase("{ hdr_dom(host) -i example }", true)]
    [TestCase("{ hdr_dom(host) -i exam }", false)]
    [TestCase("{ hdr_beg(host) -i www. }", true)]
    [TestCase("{ hdr_end(host) .com }", true)]
    [TestCase("{ hdr_sub(accept) json }", true)]
    [TestCase("{ hdr_reg(accept) ^text/ }", true)]
    [TestCase("{ hdr(x-forwarded-for) 10.0.0.2 }", true)]
    [TestCase("{ hdr_ip(x-forwarded-for) 10.0.0.0/30 }", true)]
    [TestCase("{ hdr(host) -m len 15 }", true)]
    [TestCase("{ hdr(host) -m len gt 15 }", false)]
    [TestCase("{ hdr(x-none) -m found }", false)]
    [TestCase("{ hdr(host) -m found }", true)]
    [TestCase("{ hdr_cnt(x-forwarded-for) ge 3 }", true)]
    [TestCase("{ hdr_cnt(x-forwarded-for) lt 3 }", false)]
    [TestCase("{ hdr_cnt(x-forwarded-for) 2:5 }", true)]
    [TestCase("{ cook(SID) abc }", true)]
    [TestCase("{ cook(SID) def }", true)]
    [TestCase("{ cook(SID) ghi }", false)]
    [TestCase("{ urlp(id) 43 }", true)]
    [TestCase("{ url_param(lang) -m beg e }", true)]
    [TestCase("{ src 192.168.0.0/16 }", true)]
    [TestCase("{ src 192.168.1.7 }", true)]
    [TestCase("{ src 10.0.0.0/8 ::1 }", false)]
    [TestCase("{ src_port 50000:52000 }", true)]
    [TestCase("{ dst_port 8080 }", true)]
    [TestCase("{ method GET }", true)]
    [TestCase("{ method -i get }", true)]
    [TestCase("{ method get }", false)]
    [TestCase("{ hdr(host),lower www.example.com }", true)]
    [TestCase("{ hdr(host),lower,field(2,.) example }", true)]
    [TestCase("{ req.ver 1.1 }", true)]
    [TestCase("{ fe_name www }", true)]
    [TestCase("{ always_true }", true)]
    [TestCase("{ always_false }", false)]
    [TestCase("{ str(abc) -m sub b }", true)]
    [TestCase("{ int(5),add(1) eq 6 }", true)]
    [TestCase("{ path -m beg -i /IMG }", true)]
    [TestCase("HTTP_1.1 METH_GET HTTP_URL_SLASH !HTTP_URL_ABS !HTTP_CONTENT", true)]
    [TestCase("HTTP_1.0 || LOCALHOST", false)]
    [TestCase("TRUE !FALSE", true)]
    public void Condition_Matches(string condition, bool expected) => Assert.That(Holds(condition), Is.EqualTo(expected));

    [Test]
    public void NamedAcls_OredByName_AndedInACondition() => Assert.Multiple(() =>
    {
        Assert.That(Holds("img local", "acl img path_beg /api", "acl img path_end .png", "acl local src 192.168.0.0/16"), Is.True);
        Assert.That(Holds("img !local", "acl img path_beg /api", "acl img path_end .png", "acl local src 192.168.0.0/16"), Is.False);
        Assert.That(Holds("api || local", "acl api path_beg /api", "acl local src 192.168.0.0/16"), Is.True);
    });

    [Test]
    public void PatternFile_AndMapKeys_AreReadAtLoadTime()
    {
        var dir = Path.Combine(Path.GetTempPath(), "acl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "hosts.lst"), "# allowed hosts\napi.example.com\n  www.example.com  \n");
            File.WriteAllText(Path.Combine(dir, "hosts.map"), "www.example.com be_www\n");
            Assert.That(Holds("{ hdr(host),lower -f " + Path.Combine(dir, "hosts.lst") + " }"), Is.True);
            Assert.That(Holds("{ hdr(host) -f " + Path.Combine(dir, "hosts.lst") + " }"), Is.False);
            Assert.That(Holds("{ hdr(host),lower -M -f " + Path.Combine(dir, "hosts.map") + " }"), Is.True);
            Assert.That(Holds("{ hdr(host),lower,map_str(" + Path.Combine(dir, "hosts.map") + ") -m found }"), Is.True);
            Assert.That(Holds("{ hdr(x-none),map_str(" + Path.Combine(dir, "hosts.map") + ") -m found }"), Is.False);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

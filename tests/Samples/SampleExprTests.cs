using NUnit.Framework;
using Proxy.Shared.Config;

namespace Proxy.Tests.Samples;

/// <summary>
/// The sample expression language, fetch by fetch and converter by converter (doc/configuration.txt 7.3): parsed as
/// the config parser does, compiled and evaluated as a worker does, against one request.
/// </summary>
public class SampleExprTests
{
    private SampleTestContext _t = null!;

    [SetUp]
    public void SetUp() => _t = new SampleTestContext(response: "HTTP/1.1 302 Found\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");

    [TearDown]
    public void TearDown() => _t.Dispose();

    [TestCase("src", "192.168.1.7")]
    [TestCase("src_port", "51000")]
    [TestCase("dst", "10.1.2.3")]
    [TestCase("dst_port", "8080")]
    [TestCase("fe_name", "www")]
    [TestCase("method", "GET")]
    [TestCase("path", "/img/logo.png")]
    [TestCase("url", "/img/logo.png?id=42&lang=en&id=43")]
    [TestCase("query", "id=42&lang=en&id=43")]
    [TestCase("base", "Www.Example.com/img/logo.png")]
    [TestCase("url_param(lang)", "en")]
    [TestCase("urlp(id)", "42")]
    [TestCase("urlp(missing)", null)]
    [TestCase("req.hdr(host)", "Www.Example.com")]
    [TestCase("hdr(x-forwarded-for)", "10.0.0.3")]
    [TestCase("hdr(x-forwarded-for,1)", "10.0.0.1")]
    [TestCase("hdr(x-forwarded-for,2)", "10.0.0.2")]
    [TestCase("hdr(x-forwarded-for,-2)", "10.0.0.2")]
    [TestCase("req.hdr_cnt(x-forwarded-for)", "3")]
    [TestCase("hdr_cnt(x-none)", "0")]
    [TestCase("req.fhdr(x-forwarded-for,1)", "10.0.0.1, 10.0.0.2")]
    [TestCase("req.fhdr(accept)", "text/html, application/json;q=0.9")]
    [TestCase("req.cook(SID)", "def")]
    [TestCase("cook(theme)", "dark")]
    [TestCase("cook(none)", null)]
    [TestCase("req.ver", "1.1")]
    [TestCase("req.hdr_val(content-length)", "0")]
    [TestCase("status", "302")]
    [TestCase("res.hdr(set-cookie)", "b=2")]
    [TestCase("res.hdr(set-cookie,1)", "a=1")]
    [TestCase("res.hdr_cnt(set-cookie)", "2")]
    [TestCase("env(SAMPLE_TEST_ENV)", "prod")]
    [TestCase("env(UNSET_VARIABLE)", null)]
    [TestCase("str(hello)", "hello")]
    [TestCase("int(-12)", "-12")]
    [TestCase("bool(1)", "1")]
    [TestCase("always_true", "1")]
    [TestCase("always_false", "0")]
    [TestCase("var(txn.unset)", null)]
    [TestCase("var(txn.unset,fallback)", "fallback")]
    [TestCase("nbsrv", "0")]
    public void Fetch_Value(string expr, string? expected) => Assert.That(_t.Eval(expr), Is.EqualTo(expected));

    [Test]
    public void DateAndRand_InTheirRanges()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.That(long.Parse(_t.Eval("date")!), Is.InRange(now - 2, now + 2));
        Assert.That(long.Parse(_t.Eval("date(3600)")!), Is.InRange(now + 3598, now + 3602));
        for (int i = 0; i < 20; i++) Assert.That(long.Parse(_t.Eval("rand(10)")!), Is.InRange(0, 9));
    }

    [TestCase("hdr(host),lower", "www.example.com")]
    [TestCase("hdr(host),upper", "WWW.EXAMPLE.COM")]
    [TestCase("str(hello),base64", "aGVsbG8=")]
    [TestCase("str(aGVsbG8=),b64dec", "hello")]
    [TestCase("str(AB),hex", "4142")]
    [TestCase("str(0123456789),bytes(2)", "23456789")]
    [TestCase("str(0123456789),bytes(2,3)", "234")]
    // 7.3.1 "field" examples
    [TestCase("str(f1_f2_f3__f5),field(4,_)", "")]
    [TestCase("str(f1_f2_f3__f5),field(5,_)", "f5")]
    [TestCase("str(f1_f2_f3__f5),field(2,_,2)", "f2_f3")]
    [TestCase("str(f1_f2_f3__f5),field(-2,_,3)", "f2_f3_")]
    [TestCase("str(f1_f2_f3__f5),field(-3,_,0)", "f1_f2_f3")]
    [TestCase("str(f1_f2_f3__f5),field(6,_)", null)]
    // 7.3.1 "word" examples
    [TestCase("str(f1_f2_f3__f5),field(2,_,0)", "f2_f3__f5")]
    [TestCase("str(f1_f2_f3__f5),word(4,_)", "f5")]
    [TestCase("str(f1_f2_f3__f5),word(2,_,0)", "f2_f3__f5")]
    [TestCase("str(f1_f2_f3__f5),word(3,_,2)", "f3__f5")]
    [TestCase("str(f1_f2_f3__f5),word(-2,_,3)", "f1_f2_f3")]
    [TestCase("str(f1_f2_f3__f5),word(-3,_,0)", "f1_f2")]
    [TestCase("str(/f1/f2/f3/f4),word(1,/)", "f1")]
    [TestCase("str(/f1////f2/f3/f4),word(1,/)", "f1")]
    [TestCase("str(/f1/f2/f3),word(4,/)", null)]
    [TestCase("req.fhdr(x-forwarded-for,1),regsub(\\.,-,g)", "10-0-0-1, 10-0-0-2")]
    [TestCase("req.fhdr(x-forwarded-for,1),regsub(\\.,-)", "10-0.0.1, 10.0.0.2")]
    [TestCase("str(foo123),regsub('(foo|bar)([0-9]+)','\\2\\1')", "123foo")]
    [TestCase("src,ipmask(24)", "192.168.1.0")]
    [TestCase("src,ipmask(255.255.0.0)", "192.168.0.0")]
    [TestCase("str(a),concat(b,txn.none,c)", "abc")]
    [TestCase("int(7),add(3)", "10")]
    [TestCase("int(7),sub(10)", "-3")]
    [TestCase("int(7),mul(6)", "42")]
    [TestCase("int(7),div(2)", "3")]
    [TestCase("int(7),div(0)", "9223372036854775807")]
    [TestCase("int(7),mod(4)", "3")]
    [TestCase("str(hello),sdbm", "684824882")]
    [TestCase("str(hello),djb2", "261238937")]
    [TestCase("str(hello),crc32", "907060870")]
    [TestCase("str(a%20b+c),url_dec", "a b+c")]
    [TestCase("str(a%20b+c),url_dec(1)", "a b c")]
    [TestCase("str(/p?a=b+c),url_dec", "/p?a=b c")]
    [TestCase("str(hello),length", "5")]
    [TestCase("str(a\\\"b/),json", "a\\\"b\\/")]
    [TestCase("src_port,add(1),mul(2)", "102002")]
    public void Converter_Value(string expr, string? expected) => Assert.That(_t.Eval(expr), Is.EqualTo(expected));

    [Test]
    public void Ipv6Source_FormattedAsRfc5952()
    {
        _t.Context.Client = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("2001:db8:0:0:1:0:0:1"), 1);
        Assert.That(_t.Eval("src"), Is.EqualTo("2001:db8::1:0:0:1"));
        _t.Context.Client = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("::1"), 1);
        Assert.That(_t.Eval("src"), Is.EqualTo("::1"));
        _t.Context.Client = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("::ffff:127.0.0.9"), 1);
        Assert.That(_t.Eval("src"), Is.EqualTo("127.0.0.9"));
        _t.Context.Client = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("2001:db8:85a3::8a2e:370:7334"), 1);
        Assert.That(_t.Eval("src,ipmask(24,64)"), Is.EqualTo("2001:db8:85a3::"));
    }

    [Test]
    public void Maps_EachMatchKind_WithDefaults()
    {
        var dir = Path.Combine(Path.GetTempPath(), "samples-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "hosts.map"), "# host to backend\nwww.example.com  be_www\napi.example.com be_api\n\n");
            File.WriteAllText(Path.Combine(dir, "paths.map"), "/img/ static\n/api/ api\n");
            File.WriteAllText(Path.Combine(dir, "nets.map"), "192.168.0.0/16 lan\n0.0.0.0/0 wan\n");
            File.WriteAllText(Path.Combine(dir, "ints.map"), "51000 7\n");
            string M(string file) => Path.Combine(dir, file);
            Assert.That(_t.Eval($"hdr(host),lower,map({M("hosts.map")})"), Is.EqualTo("be_www"));
            Assert.That(_t.Eval($"hdr(host),map_str({M("hosts.map")},none)"), Is.EqualTo("none"));
            Assert.That(_t.Eval($"hdr(host),map_str({M("hosts.map")})"), Is.Null);
            Assert.That(_t.Eval($"path,map_beg({M("paths.map")},other)"), Is.EqualTo("static"));
            Assert.That(_t.Eval($"src,map_ip({M("nets.map")})"), Is.EqualTo("lan"));
            Assert.That(_t.Eval($"src_port,map_int({M("ints.map")})"), Is.EqualTo("7"));
            Assert.That(_t.Eval($"src_port,map_int_int({M("ints.map")}),add(1)"), Is.EqualTo("8"));
            Assert.That(_t.Eval($"path,map_sub({M("paths.map")})"), Is.EqualTo("static"));
            Assert.That(_t.Eval($"path,map_reg({M("paths.map")})"), Is.EqualTo("static"));
            Assert.That(_t.Eval($"hdr(host),lower,map_end({M("hosts.map")})"), Is.EqualTo("be_www"));
            Assert.That(SampleTestContext.ParseError($"src,map_ip({M("hosts.map")})"), Does.Contain("invalid key"));
            Assert.That(SampleTestContext.ParseError($"src,map_str({M("missing.map")})"), Does.Contain("cannot read"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void Variables_ReadAfterSet()
    {
        var v = Proxy.Worker.Samples.VariableRef.Of("txn.user");
        var s = Proxy.Worker.Samples.Sample.OfString("alice"u8);
        _t.Context.SetVariable(v, s);
        Assert.That(_t.Eval("var(txn.user)"), Is.EqualTo("alice"));
        Assert.That(_t.Eval("str(hi-),concat(,txn.user,!)"), Is.EqualTo("hi-alice!"));
        _t.Context.SetVariable(Proxy.Worker.Samples.VariableRef.Of("sess.n"), Proxy.Worker.Samples.Sample.OfInt(5));
        Assert.That(_t.Eval("int(2),mul(sess.n)"), Is.EqualTo("10"));
        _t.Context.BeginTransaction();
        Assert.That(_t.Eval("var(txn.user)"), Is.Null, "txn variables end with the transaction");
        Assert.That(_t.Eval("var(sess.n)"), Is.EqualTo("5"), "sess variables live as long as the connection");
    }

    [TestCase("nosuch", "unknown fetch method 'nosuch'")]
    [TestCase("hdr", "fetch method 'hdr' expects 1 argument")]
    [TestCase("hdr(a,b)", "fetch method 'hdr' expects an integer as argument 2")]
    [TestCase("src(1)", "fetch method 'src' takes no argument")]
    [TestCase("hdr(host),lowr", "unknown converter 'lowr'")]
    [TestCase("hdr(host),field(x,_)", "converter 'field' expects an integer as argument 1")]
    [TestCase("hdr(host),field(1)", "converter 'field' expects 2 arguments ('field(INDEX,DELIMITERS[,COUNT])'), got 1")]
    [TestCase("hdr(host),regsub([,x)", "invalid regular expression '['")]
    [TestCase("hdr(host),ipmask(24)", "converter 'ipmask' expects an IP address as input, got a string")]
    [TestCase("var(foo)", "fetch method 'var' expects a variable name")]
    [TestCase("hdr(host", "missing ')' after the arguments of 'hdr'")]
    [TestCase("hdr(host) lower", "unexpected ' lower'")]
    [TestCase("str(x),add(y)", "converter 'add' expects an integer or a variable name")]
    [TestCase("bool(2)", "fetch method 'bool' expects 0 or 1")]
    public void Parse_Errors_NameWhatWasExpected(string expr, string expected) =>
        Assert.That(SampleTestContext.ParseError(expr), Does.Contain(expected));

    [Test]
    public void Parse_StopsAtTerminator_ForLogFormat()
    {
        var parser = new SampleExprParser();
        const string text = "%[hdr(x,1),regsub(a]b,c)] rest";
        int pos = 2;
        var expr = parser.Parse(text, ref pos, ']', out var error);
        Assert.That(error, Is.Null);
        Assert.That(text[pos..], Is.EqualTo("] rest"));
        Assert.That(expr!.Converters[0].Kind, Is.EqualTo(SampleConverterKind.RegSub));
    }
}

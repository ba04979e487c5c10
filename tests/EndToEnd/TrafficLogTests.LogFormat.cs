using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Proxy.Tests.Support;

namespace Proxy.Tests.EndToEnd;

/// <summary>`log-format` (doc/configuration.txt 8.2.4) through the real supervisor and worker, parsed back field by field.</summary>
public sealed partial class TrafficLogTests
{
    private const string CustomFormat =
        "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %U %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r " +
        "%HM %HU %HP %HV %ID %pid %[req.hdr(host),lower] %{+Q}[var(txn.none)] %fi:%fp %si:%sp %Ts";

    [GeneratedRegex("""
        ^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d (?:\S+ )?proxy\[(?<pid>\d+)\]: (?<ci>[\d.]+):(?<cp>\d+) \[(?<tr>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3})\] (?<ft>\S+) (?<b>\S+)/(?<s>\S+) (?<TR>-?\d+)/(?<Tw>-?\d+)/(?<Tc>-?\d+)/(?<Tr>-?\d+)/(?<Ta>\d+) (?<ST>\d+) (?<B>\d+) (?<U>\d+) (?<tsc>\S{4}) (?<ac>\d+)/(?<fc>\d+)/(?<bc>\d+)/(?<sc>\d+)/(?<rc>\d+) (?<sq>\d+)/(?<bq>\d+) (?<hr>\{[^}]*\}) (?<hs>\{[^}]*\}) "(?<r>[^"]*)" (?<HM>\S+) (?<HU>\S+) (?<HP>\S+) (?<HV>\S+) (?<ID>\S+) (?<logpid>\d+) (?<host>\S+) (?<novar>"[^"]*") (?<fi>[\d.]+):(?<fp>\d+) (?<si>[\d.]+):(?<sp>\d+) (?<Ts>\d+)$
        """)]
    private static partial Regex CustomLogLine();

    [Test]
    public async Task LogFormat_EveryCommonVariable_ParsedBackFieldByField()
    {
        using var syslog = new SyslogReceiver();
        using var origin = new OriginProcess("o1");
        int port = Ports.Free();
        using var proxy = new ProxyInstance($$"""
            defaults
                mode http
                log global
                log-format "{{CustomFormat}}"
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend web
                bind 127.0.0.1:{{port}}
                capture request header Host len 8
                capture request header X-None len 5
                capture response header Content-Length len 10
                unique-id-format %{+X}Ts-%[str(id)]
                default_backend app
            backend app
                server o1 127.0.0.1:{{origin.Port}}
            """, global: $"    nbproc 1\n    log 127.0.0.1:{syslog.Port} local0\n").Start();

        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        const string request = "GET /?c=1 HTTP/1.1\r\nHost: WWW.Example.Org\r\nConnection: close\r\n\r\n";
        var answer = await ExchangeAsync(port, request);
        Assert.That(Encoding.ASCII.GetString(answer), Does.StartWith("HTTP/1.1 200"));

        var lines = await syslog.ReceiveAsync(1, TimeSpan.FromSeconds(10));
        Assert.That(lines, Has.Count.EqualTo(1));
        var m = CustomLogLine().Match(lines[0]);
        Assert.That(m.Success, Is.True, "not the log-format line: " + lines[0]);
        string F(string name) => m.Groups[name].Value;
        int workerPid = proxy.Workers().Single().Pid;
        Assert.Multiple(() =>
        {
            Assert.That((F("ci"), F("ft"), F("b"), F("s")), Is.EqualTo(("127.0.0.1", "web", "app", "o1")));
            Assert.That(int.Parse(F("cp")), Is.GreaterThan(0));
            Assert.That((F("Tw"), F("ST"), F("tsc"), F("sq"), F("bq")), Is.EqualTo(("0", "200", "----", "0", "0")));
            Assert.That(int.Parse(F("TR")), Is.GreaterThanOrEqualTo(0));
            Assert.That(int.Parse(F("Tc")), Is.GreaterThanOrEqualTo(0));
            Assert.That(int.Parse(F("Tr")), Is.GreaterThanOrEqualTo(0));
            Assert.That(int.Parse(F("Ta")), Is.GreaterThanOrEqualTo(int.Parse(F("Tr"))));
            Assert.That(long.Parse(F("B")), Is.EqualTo(answer.Length));
            Assert.That(long.Parse(F("U")), Is.EqualTo(request.Length));
            Assert.That((F("ac"), F("fc"), F("bc"), F("sc"), F("rc")), Is.EqualTo(("1", "1", "1", "1", "0")));
            Assert.That(F("hr"), Is.EqualTo("{WWW.Exam|}"), "captures cut at their len, a missing header empty");
            Assert.That(F("hs"), Does.Match(@"^\{\d+\}$"));
            Assert.That(F("r"), Is.EqualTo("GET /?c=1 HTTP/1.1"));
            Assert.That((F("HM"), F("HU"), F("HP"), F("HV")), Is.EqualTo(("GET", "/?c=1", "/", "HTTP/1.1")));
            Assert.That(F("ID"), Does.Match("^[0-9A-F]+-id$"));
            Assert.That(Convert.ToInt64(F("ID").Split('-')[0], 16), Is.InRange(before - 2, before + 60), "%{+X}Ts in hexadecimal");
            Assert.That((int.Parse(F("pid")), int.Parse(F("logpid"))), Is.EqualTo((workerPid, workerPid)));
            Assert.That(F("host"), Is.EqualTo("www.example.org"));
            Assert.That(F("novar"), Is.EqualTo("\"\""), "no sample, quoted: an empty quoted field");
            Assert.That((F("fi"), F("fp")), Is.EqualTo(("127.0.0.1", port.ToString())));
            Assert.That((F("si"), F("sp")), Is.EqualTo(("127.0.0.1", origin.Port.ToString())));
            Assert.That(long.Parse(F("Ts")), Is.InRange(before - 2, before + 60));
        });
    }
}

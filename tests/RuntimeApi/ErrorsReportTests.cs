using System.Text;
using NUnit.Framework;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Tests.RuntimeApi;

/// <summary>`show errors`'s printing: HAProxy 2.6's dump_text_line (src/tools.c) and cli_io_handler_show_errors (src/proxy.c).</summary>
public sealed class ErrorsReportTests
{
    private static string Dump(byte[] bytes)
    {
        var sb = new StringBuilder();
        ErrorsReport.AppendDump(sb, bytes);
        return sb.ToString();
    }

    [Test]
    public void Dump_OneLinePerLf_OffsetsInFiveDigits_CrLfEscaped() =>
        Assert.That(Dump("GET / HTTP/1.1\r\nHost: x\r\n"u8.ToArray()), Is.EqualTo("  00000  GET / HTTP/1.1\\r\\n\n  00016  Host: x\\r\\n\n"));

    [Test]
    public void Dump_EscapesControlBytesBackslashAndNonAscii() =>
        Assert.That(Dump([0x01, 0x1b, (byte)'\\', (byte)'\t', 0xff, (byte)'A']), Is.EqualTo("  00000  \\x01\\e\\\\\\t\\xFFA\n"));

    [Test]
    public void Dump_WrapsAt80Columns_ContinuationMarkedWithPlus()
    {
        var bytes = Encoding.ASCII.GetBytes(new string('a', 100) + "\r\nB");
        Assert.That(Dump(bytes), Is.EqualTo("  00000  " + new string('a', 70) + "\n  00070+ " + new string('a', 30) + "\\r\\n\n  00102  B\n"));
    }

    private static readonly Dictionary<string, (int Iid, int Sid)> Ids = new()
    {
        ["fe/FRONTEND"] = (2, 0), ["be/BACKEND"] = (3, 0), ["be/s1"] = (3, 1),
    };

    private static string Line(string kind, string px, string other, string srv, long ms, int port, int ev, int pos, string bytes) =>
        $"{kind} {px} {other} {srv} {ms} 127.0.0.1 {port} {ev} {pos} {Convert.ToBase64String(Encoding.ASCII.GetBytes(bytes))}";

    private static readonly string[] WorkerLines =
    [
        "count 2", Line("request", "fe", "-", "-", 1_000, 1111, 1, 0, "old\r\n"), Line("response", "be", "fe", "s1", 3_000, 3333, 2, 9, "HTTP/1.1 x\r\n"),
        "count 1", Line("request", "fe", "-", "-", 2_000, 2222, 1, 4, "GET  /\r\n"),
    ];

    [Test]
    public void Format_NewestEventPerProxy_TotalOfAllWorkers()
    {
        var text = ErrorsReport.Format(WorkerLines, Ids, -1, null, 16384, new DateTime(2026, 11, 29, 19, 0, 0));
        Assert.That(text, Does.StartWith("Total events captured on [29/Nov/2026:19:00:00.000] : 3\n \n["));
        Assert.That(text, Does.Contain("] frontend fe (#2): invalid request\n  backend <NONE> (#-1), server <NONE> (#-1), event #1, src 127.0.0.1:2222\n" +
            "  buffer starts at 0 (including 0 out), 16376 free,\n  len 8, wraps at 16384, error at position 4\n  \n  00000  GET  /\\r\\n\n"));
        Assert.That(text, Does.Contain("] backend be (#3): invalid response\n  frontend fe (#2), server s1 (#1), event #2, src 127.0.0.1:3333\n"));
        Assert.That(text, Does.Not.Contain("1111"), "only the newest request event of fe");
    }

    [TestCase(3, null, false, true)]     // the backend's iid: its response event
    [TestCase(2, null, true, true)]      // the frontend's iid: its request, and the response that names it (es->oe)
    [TestCase(2, "request", true, false)]
    [TestCase(-1, "response", false, true)]
    [TestCase(7, null, false, false)]
    public void Format_FiltersByIidAndDirection(int iid, string? only, bool request, bool response)
    {
        var text = ErrorsReport.Format(WorkerLines, Ids, iid, only, 16384, DateTime.Now);
        Assert.That(text.Contains("invalid request"), Is.EqualTo(request), text);
        Assert.That(text.Contains("invalid response"), Is.EqualTo(response), text);
    }
}

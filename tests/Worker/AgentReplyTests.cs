using NUnit.Framework;
using Proxy.Worker.Health;

namespace Proxy.Tests.Worker;

/// <summary>The `agent-check` answer's words (5.2 "agent-check"), as HAProxy's tcpcheck_agent_expect_reply reads them.</summary>
public class AgentReplyTests
{
    [Test]
    public void Percent_Admin_State_MaxConn_InAnyOrder()
    {
        var r = AgentReply.Parse("maxconn:30, drain 75%\tup\r\nignored")!;
        Assert.That((r.Up, r.Admin, r.Percent, r.MaxConn), Is.EqualTo(((bool?)true, "drain", (int?)75, (int?)30)));
    }

    [TestCase("down", false)]
    [TestCase("fail", false)]
    [TestCase("stopped#planned upgrade\n", false)]
    [TestCase("UP\n", true)]
    public void OperationalWords(string text, bool up)
    {
        Assert.That(AgentReply.Parse(text)!.Up, Is.EqualTo(up));
    }

    [Test]
    public void Description_AfterSharp()
    {
        var r = AgentReply.Parse("down#disk full\n")!;
        Assert.That((r.Up, r.Description, r.Word), Is.EqualTo(((bool?)false, "disk full", "down")));
    }

    [TestCase("")]
    [TestCase("hello world\n")]
    [TestCase("\n75%")]
    public void NothingKnown_IsIgnored(string text)
    {
        Assert.That(AgentReply.Parse(text), Is.Null);
    }

    [Test]
    public void WeightOf_IsRelativeToTheConfiguredWeight()
    {
        Assert.That(AgentReply.WeightOf(50, 100), Is.EqualTo(50));
        Assert.That(AgentReply.WeightOf(0, 100), Is.EqualTo(0));
        Assert.That(AgentReply.WeightOf(200, 100), Is.EqualTo(200));
        Assert.That(AgentReply.WeightOf(300, 100), Is.Null, "above 256: HAProxy's 'Relative weight too large'");
    }
}

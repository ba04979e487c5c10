using NUnit.Framework;
using static Proxy.Tests.Config.ConfigTestHelper;

namespace Proxy.Tests.Config;

/// <summary>`mailers` sections (3.6) and `email-alert` (4.2): accepted with a warning at FILE:LINE that no mail is sent.</summary>
public class EmailAlertConfigTests
{
    private const string Tail = "defaults\n    mode tcp\n    timeout connect 1s\nbackend b\n";

    [Test]
    public void MailersAndEmailAlert_AreWarnings_NoMailIsSent()
    {
        var r = Parse(Lines("mailers m", "    mailer smtp1 127.0.0.1:25", "    timeout mail 20s") + Tail
            + Lines("    email-alert mailers m", "    email-alert from haproxy@example.com", "    email-alert to ops@example.com",
                "    email-alert level alert", "    server s1 127.0.0.1:80 check"));
        Assert.That(r.Errors.Select(e => e.ToString()), Is.Empty);
        var warnings = r.Warnings.Select(w => w.ToString()).ToList();
        Assert.That(warnings, Has.Some.StartsWith("test.cfg:1: 'mailers' has no effect here: no mail is sent"));
        foreach (int line in new[] { 8, 9, 10, 11 })
            Assert.That(warnings, Has.Some.StartsWith($"test.cfg:{line}: 'email-alert' has no effect here: no mail is sent"));
    }

    [Test]
    public void EmailAlert_BadForm_IsAnError()
    {
        Assert.That(ParseErrors(Tail + Lines("    email-alert sometimes x")), Has.Some.StartsWith("test.cfg:5: 'email-alert': expected"));
    }
}

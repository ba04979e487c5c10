using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Proxy.Shared.Stats;

namespace Proxy.Shared.Config;

/// <summary>
/// `option tcp-check` and its `tcp-check connect|send|send-binary|expect|comment` rules (doc/configuration.txt 4.2),
/// and the protocol check options, which HAProxy builds as tcp-check rule sets (<see cref="ProtocolChecks"/>). A
/// backend has one check kind: the last `option httpchk|tcp-check|*-check|smtpchk` wins, as HAProxy's PR_O2_CHK_ANY.
/// A proxy's first `tcp-check` rule replaces the rules inherited from its defaults section.
/// </summary>
internal sealed class TcpCheckParser(ConfigDiagnostics diag)
{
    /// <summary>The check options parsed here (the README's keyword table lists them).</summary>
    internal static readonly string[] Options = ["tcp-check", "redis-check", "pgsql-check", "mysql-check", "smtpchk", "ldap-check", "ssl-hello-chk"];

    private static readonly HashSet<string> UnsupportedActions = ["send-lf", "send-binary-lf", "set-var", "set-var-fmt", "unset-var"];

    /// <summary>`option tcp-check|redis-check|pgsql-check ...`; false when <paramref name="name"/> is none of them.</summary>
    public bool TryParseOption(ProxyDraft proxy, ConfigLine line, string name, bool negated, int at)
    {
        if (Array.IndexOf(Options, name) < 0) return false;
        var w = line.Words;
        int n = line.Number;
        if (negated)
        {
            // HAProxy: "negation/default is not supported for option '...'".
            diag.Error(n, $"'no option {name}': negation is not supported for this option (choose another check with its own 'option')");
            return true;
        }
        var args = w.Skip(at + 1).ToArray();
        TcpCheckSettings? protocol = name switch
        {
            "tcp-check" => NoArguments(n, name, args) ? new TcpCheckSettings(name, []) : null,
            "redis-check" => NoArguments(n, name, args) ? ProtocolChecks.Redis() : null,
            "ldap-check" => NoArguments(n, name, args) ? ProtocolChecks.Ldap() : null,
            "ssl-hello-chk" => NoArguments(n, name, args) ? ProtocolChecks.SslHello() : null,
            "pgsql-check" => ParsePgsql(n, args),
            "mysql-check" => ParseMySql(n, args),
            _ => ParseSmtp(n, args),
        };
        if (protocol is null) return true;
        proxy.TcpCheckOption = protocol;
        proxy.HttpCheckEnabled = false;
        return true;
    }

    private bool NoArguments(int n, string name, string[] args)
    {
        if (args.Length == 0) return true;
        diag.Error(n, $"'option {name}': unexpected {ConfigDiagnostics.Quote(args[0])} (it takes no argument)");
        return false;
    }

    private TcpCheckSettings? ParsePgsql(int n, string[] args)
    {
        if (args.Length != 2 || args[0] != "user" || args[1].Length == 0)
        {
            diag.Error(n, "'option pgsql-check': expected 'option pgsql-check user USERNAME'");
            return null;
        }
        return ProtocolChecks.Pgsql(args[1]);
    }

    private TcpCheckSettings? ParseMySql(int n, string[] args)
    {
        if (args.Length == 0) return ProtocolChecks.MySql(null, post41: true);
        if (args[0] != "user" || args.Length < 2 || args.Length > 3 || args[1].Length == 0)
        {
            diag.Error(n, "'option mysql-check': expected 'option mysql-check [user USERNAME [post-41|pre-41]]'");
            return null;
        }
        if (args.Length == 3 && args[2] is not ("post-41" or "pre-41"))
        {
            diag.Error(n, $"'option mysql-check user': expected post-41 or pre-41, got {ConfigDiagnostics.Quote(args[2])}");
            return null;
        }
        return ProtocolChecks.MySql(args[1], post41: args.Length == 2 || args[2] == "post-41");
    }

    private TcpCheckSettings? ParseSmtp(int n, string[] args)
    {
        if (args.Length > 2)
        {
            diag.Error(n, $"'option smtpchk': unexpected {ConfigDiagnostics.Quote(args[2])}, expected 'option smtpchk [HELO|EHLO DOMAIN]'");
            return null;
        }
        // HAProxy sends "HELO localhost" unless given exactly HELO or EHLO and a domain.
        string command = args.Length == 2 && args[0] is "HELO" or "EHLO" ? $"{args[0]} {args[1]}" : "HELO localhost";
        if (args.Length > 0 && command == "HELO localhost" && !(args.Length == 2 && args[1] == "localhost"))
            diag.Warning(n, $"'option smtpchk': {ConfigDiagnostics.Quote(string.Join(' ', args))} is not 'HELO DOMAIN' nor 'EHLO DOMAIN': the check sends 'HELO localhost' (as HAProxy)");
        return ProtocolChecks.Smtp(command);
    }

    /// <summary>`tcp-check connect|send|send-binary|expect|comment ...`.</summary>
    public void ParseTcpCheck(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        proxy.FirstTcpCheckLine ??= n;
        if (w.Count < 2)
        {
            diag.Error(n, "'tcp-check': missing argument, expected 'tcp-check connect|send|send-binary|expect|comment ...'");
            return;
        }
        if (!proxy.TcpCheckOwnRules)
        {
            proxy.TcpCheckRules = [];
            proxy.TcpCheckOwnRules = true;
        }
        int index = proxy.TcpCheckRules.Count;
        TcpCheckRule? rule = w[1] switch
        {
            "connect" => ParseConnect(proxy, line, index),
            "send" or "send-binary" => ParseSend(line, index),
            "expect" => ParseExpect(line, index),
            "comment" => ParseComment(line, index),
            _ => Unknown(n, w[1]),
        };
        if (rule is not null) proxy.TcpCheckRules.Add(rule);
    }

    private TcpCheckRule? Unknown(int n, string action)
    {
        diag.Error(n, UnsupportedActions.Contains(action)
            ? $"'tcp-check {action}' is not supported yet"
            : $"'tcp-check': unknown action {ConfigDiagnostics.Quote(action)} (expected connect, send, send-binary, expect or comment)");
        return null;
    }

    // A comment rule: only its text, reported by the next rule that fails (HAProxy keeps it as a rule of its own).
    private TcpCheckRule? ParseComment(ConfigLine line, int index)
    {
        if (line.Words.Count != 3)
        {
            diag.Error(line.Number, "'tcp-check comment': expected one argument, 'tcp-check comment TEXT'");
            return null;
        }
        return new TcpCheckRule(TcpCheckAction.Send, index) { Comment = line.Words[2], Data = null };
    }

    /// <summary>`tcp-check connect [default] [port N] [addr IP] [send-proxy] [ssl] [sni S] [alpn LIST] [linger] [comment C]`.</summary>
    private TcpCheckRule? ParseConnect(ProxyDraft proxy, ConfigLine line, int index)
    {
        var w = line.Words;
        int n = line.Number;
        // src/tcpcheck.c parse_tcpcheck_connect: only comments may come before a connect when there is one.
        foreach (var r in proxy.TcpCheckRules)
        {
            if (r.Action == TcpCheckAction.Connect) break;
            if (IsComment(r)) continue;
            diag.Error(n, "'tcp-check connect': first step MUST also be a 'connect', optionally preceded by a 'comment', when there is a 'connect' step in the tcp-check ruleset");
            return null;
        }
        var rule = new TcpCheckRule(TcpCheckAction.Connect, index);
        for (int i = 2; i < w.Count; i++)
        {
            var option = w[i];
            switch (option)
            {
                case "default": rule = rule with { UsesServerSettings = true }; continue;
                case "send-proxy": rule = rule with { SendProxy = true }; continue;
                case "ssl": rule = rule with { Ssl = true }; continue;
                // Some servers dislike a reset on close; the check always closes with a FIN here.
                case "linger": continue;
                case "via-socks4" or "proto":
                    diag.Error(n, $"'tcp-check connect': option '{option}' is not supported yet");
                    return null;
                case "port" or "addr" or "sni" or "alpn" or "comment":
                    break;
                default:
                    diag.Error(n, $"'tcp-check connect': unknown option {ConfigDiagnostics.Quote(option)} (expected default, port, addr, send-proxy, ssl, sni, alpn, linger or comment)");
                    return null;
            }
            if (i + 1 >= w.Count)
            {
                diag.Error(n, $"'tcp-check connect': option '{option}' needs a value");
                return null;
            }
            var value = w[++i];
            switch (option)
            {
                case "port":
                    if (!LineChecks.TryInt(diag, n, "tcp-check connect port", value, 1, 65535, out int port)) return null;
                    rule = rule with { Port = port };
                    break;
                case "addr":
                    if (ParseAddress(n, value) is not { } ep) return null;
                    rule = rule with { Address = ep.Address, Port = rule.Port ?? (ep.Port > 0 ? ep.Port : null) };
                    break;
                case "sni": rule = rule with { Sni = value }; break;
                case "alpn": rule = rule with { Alpn = value }; break;
                default: rule = rule with { Comment = value }; break;
            }
        }
        if (rule.Ssl)
            diag.Warning(n, "'tcp-check connect ssl': the check does not verify the server's certificate here (as 'verify none'); it checks that TLS answers");
        if ((rule.Sni is not null || rule.Alpn is not null) && !rule.Ssl)
            diag.Warning(n, "'tcp-check connect': 'sni' and 'alpn' have no effect without 'ssl'");
        return rule;
    }

    // `addr IP[:PORT]` (a literal address: the check's target is fixed at parse time).
    private IPEndPoint? ParseAddress(int n, string value)
    {
        if (IPEndPoint.TryParse(value, out var ep) && (value.Contains('.') || value.StartsWith('[') || ep.Port == 0))
            return ep;
        if (IPAddress.TryParse(value, out var address)) return new IPEndPoint(address, 0);
        diag.Error(n, $"'tcp-check connect addr': expected an IP address with an optional port, got {ConfigDiagnostics.Quote(value)}");
        return null;
    }

    /// <summary>`tcp-check send STRING [comment C]`, `tcp-check send-binary HEX [comment C]`.</summary>
    private TcpCheckRule? ParseSend(ConfigLine line, int index)
    {
        var w = line.Words;
        int n = line.Number;
        var action = w[1];
        if (w.Count < 3 || w[2].Length == 0)
        {
            diag.Error(n, $"'tcp-check {action}' expects a {(action == "send" ? "string" : "binary string")} as argument");
            return null;
        }
        string? comment = null;
        for (int i = 3; i < w.Count; i++)
        {
            if (w[i] != "comment" || i + 1 >= w.Count)
            {
                diag.Error(n, $"'tcp-check {action}': expects 'comment' but got {ConfigDiagnostics.Quote(w[i])}");
                return null;
            }
            comment = w[++i];
        }
        byte[]? data = action == "send" ? Encoding.Latin1.GetBytes(w[2]) : ParseHex(n, $"tcp-check {action}", w[2]);
        return data is null ? null : new TcpCheckRule(TcpCheckAction.Send, index) { Data = data, Comment = comment };
    }

    /// <summary>
    /// `tcp-check expect [min-recv N] [comment C] [ok-status S] [error-status S] [tout-status S] [on-success TEXT]
    /// [on-error TEXT] [!] string|rstring|binary|rbinary PATTERN`, the options in any order (parse_tcpcheck_expect).
    /// </summary>
    private TcpCheckRule? ParseExpect(ConfigLine line, int index)
    {
        var w = line.Words;
        int n = line.Number;
        const string usage = "tcp-check expect [min-recv N] [ok-status S] [error-status S] [tout-status S] [on-success TEXT] [on-error TEXT] [comment C] [!] string|rstring|binary|rbinary PATTERN";
        var rule = new TcpCheckRule(TcpCheckAction.Expect, index);
        bool haveMatch = false;
        for (int i = 2; i < w.Count; i++)
        {
            var word = w[i];
            if (word == "!")
            {
                rule = rule with { Negate = true };
                continue;
            }
            if (word is "status-code" or "custom" or "string-lf" or "binary-lf")
            {
                diag.Error(n, $"'tcp-check expect {word}' is not supported yet");
                return null;
            }
            if (word is not ("min-recv" or "comment" or "ok-status" or "error-status" or "tout-status" or "on-success" or "on-error"
                or "string" or "rstring" or "binary" or "rbinary"))
            {
                diag.Error(n, $"'tcp-check expect': unknown argument {ConfigDiagnostics.Quote(word)}, expected '{usage}'");
                return null;
            }
            if (i + 1 >= w.Count)
            {
                diag.Error(n, $"'tcp-check expect': '{word}' needs a value");
                return null;
            }
            var value = w[++i];
            switch (word)
            {
                case "min-recv":
                    if (!LineChecks.TryInt(diag, n, "tcp-check expect min-recv", value, -1, TcpCheckSettings.BufferSize, out int minRecv)) return null;
                    rule = rule with { MinRecv = minRecv };
                    break;
                case "comment": rule = rule with { Comment = value }; break;
                case "ok-status" or "error-status" or "tout-status":
                    if (ParseStatus(n, word, value) is not { } status) return null;
                    rule = word switch
                    {
                        "ok-status" => rule with { OkStatus = status },
                        "error-status" => rule with { ErrorStatus = status },
                        _ => rule with { TimeoutStatus = status },
                    };
                    break;
                case "on-success" or "on-error":
                    // HAProxy's argument is a log-format string; a fixed text is what works here.
                    if (value.Contains("%[", StringComparison.Ordinal) || value.Contains("%{", StringComparison.Ordinal))
                    {
                        diag.Error(n, $"'tcp-check expect {word}': log-format expressions are not supported yet, got {ConfigDiagnostics.Quote(value)}");
                        return null;
                    }
                    rule = word == "on-success" ? rule with { OnSuccess = value } : rule with { OnError = value };
                    break;
                default:
                    if (haveMatch)
                    {
                        diag.Error(n, $"'tcp-check expect': only one pattern per rule, got a second one {ConfigDiagnostics.Quote(word)}");
                        return null;
                    }
                    haveMatch = true;
                    if (WithPattern(n, rule, word, value) is not { } withPattern) return null;
                    rule = withPattern;
                    break;
            }
        }
        if (!haveMatch)
        {
            diag.Error(n, $"'tcp-check expect': missing the pattern, expected '{usage}'");
            return null;
        }
        return rule;
    }

    private TcpCheckRule? WithPattern(int n, TcpCheckRule rule, string kind, string pattern)
    {
        switch (kind)
        {
            case "string":
                return rule with { Match = TcpCheckMatch.String, Pattern = pattern, Bytes = Encoding.Latin1.GetBytes(pattern) };
            case "binary":
                return ParseHex(n, "tcp-check expect binary", pattern) is { } bytes
                    ? rule with { Match = TcpCheckMatch.Binary, Pattern = pattern, Bytes = bytes } : null;
            default:
                try
                {
                    var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
                    return rule with { Match = kind == "rstring" ? TcpCheckMatch.RString : TcpCheckMatch.RBinary, Pattern = pattern, Regex = regex };
                }
                catch (ArgumentException e)
                {
                    diag.Error(n, $"'tcp-check expect {kind}': invalid regular expression {ConfigDiagnostics.Quote(pattern)}: {e.Message}");
                    return null;
                }
        }
    }

    // ok-status/error-status/tout-status words (parse_tcpcheck_expect): the statuses a check can end with.
    private CheckStatusCode? ParseStatus(int n, string option, string value)
    {
        CheckStatusCode? status = value switch
        {
            "L7OK" => CheckStatusCode.L7Ok, "L7OKC" => CheckStatusCode.L7Okc, "L6OK" => CheckStatusCode.L6Ok, "L4OK" => CheckStatusCode.L4Ok,
            "L7RSP" => CheckStatusCode.L7Rsp, "L7STS" => CheckStatusCode.L7Sts, "L6RSP" => CheckStatusCode.L6Rsp, "L4CON" => CheckStatusCode.L4Con,
            "L7TOUT" => CheckStatusCode.L7Tout, "L6TOUT" => CheckStatusCode.L6Tout, "L4TOUT" => CheckStatusCode.L4Tout,
            _ => null,
        };
        bool fits = status switch
        {
            null => false,
            CheckStatusCode.L7Ok or CheckStatusCode.L7Okc or CheckStatusCode.L6Ok or CheckStatusCode.L4Ok => option == "ok-status",
            CheckStatusCode.L7Tout or CheckStatusCode.L6Tout or CheckStatusCode.L4Tout => option == "tout-status",
            _ => option == "error-status",
        };
        if (fits) return status;
        diag.Error(n, $"'tcp-check expect {option}': {ConfigDiagnostics.Quote(value)} is not a status for it (ok-status: L7OK, L7OKC, L6OK, L4OK; error-status: L7RSP, L7STS, L6RSP, L4CON; tout-status: L7TOUT, L6TOUT, L4TOUT)");
        return null;
    }

    private byte[]? ParseHex(int n, string keyword, string hex)
    {
        if (hex.Length % 2 == 0 && hex.All(char.IsAsciiHexDigit)) return Convert.FromHexString(hex);
        diag.Error(n, $"'{keyword}': invalid binary string {ConfigDiagnostics.Quote(hex)} (expected an even number of hexadecimal digits)");
        return null;
    }

    internal static bool IsComment(TcpCheckRule rule) => rule.Action == TcpCheckAction.Send && rule.Data is null;

    /// <summary>
    /// The check of a backend, or null for a plain connect or `option httpchk`: the protocol check's rules, or the
    /// written ones with HAProxy's implicit first connect (check_proxy_tcpcheck) and without comment rules.
    /// </summary>
    public static TcpCheckSettings? Build(ProxyDraft p)
    {
        if (p.TcpCheckOption is not { } option) return null;
        var written = option.IsScript ? p.TcpCheckRules : option.Rules;
        var rules = new List<TcpCheckRule>();
        string? pendingComment = null;
        foreach (var r in written)
        {
            if (IsComment(r))
            {
                pendingComment = r.Comment;
                continue;
            }
            rules.Add(r.Comment is null && pendingComment is not null ? r with { Comment = pendingComment } : r);
            pendingComment = null;
        }
        if (rules.Count == 0 || rules[0].Action != TcpCheckAction.Connect)
            rules.Insert(0, new TcpCheckRule(TcpCheckAction.Connect, -1) { UsesServerSettings = true, Implicit = true });
        return option with { Rules = rules };
    }
}

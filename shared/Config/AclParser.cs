using System.Net;
using System.Text.RegularExpressions;

namespace Proxy.Shared.Config;

/// <summary>
/// `acl NAME CRITERION [flags] [--] VALUE...` lines and `if|unless COND` conditions (doc/configuration.txt 7.1, 7.2).
/// ACLs must be declared before a condition names them, as in HAProxy, so conditions resolve here, at parse time.
/// </summary>
internal sealed class AclParser(ConfigDiagnostics diag)
{
    /// <summary>The name of an ACL written `{ ... }` in a condition: not a valid `acl` name, so no declared ACL has it.</summary>
    private const string AnonymousName = "{}";

    private const string Usage = "acl NAME path|path_beg|path_end|path_reg|hdr(NAME)|hdr_beg(NAME)|method|src [-i] [--] VALUE...";

    /// <summary>
    /// `acl NAME CRITERION ...`: adds the ACL to <paramref name="proxy"/> (several lines with one name are ORed)
    /// and returns it; null (reported) on an error.
    /// </summary>
    public AclConfig? ParseAclLine(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        if (w.Count < 3)
        {
            diag.Error(line.Number, $"'acl': missing argument, expected '{Usage}'");
            return null;
        }
        if (!IsValidName(w[1]))
        {
            diag.Error(line.Number, $"'acl': invalid name {ConfigDiagnostics.Quote(w[1])} (letters, digits, '-', '_', '.', ':' only)");
            return null;
        }
        var acl = ParseCriterion(w[1], w, 2, w.Count, line.Number, "acl " + w[1]);
        if (acl is null) return null;
        if (!proxy.Acls.TryGetValue(acl.Name, out var list))
            proxy.Acls[acl.Name] = list = [];
        list.Add(acl);
        return acl;
    }

    /// <summary>
    /// True for criteria known when a connection is accepted, before any byte of a request (7.3.3 "Fetching samples at
    /// Layer 4": `src`; the predefined TRUE/FALSE need nothing): what `tcp-request connection` rules may use.
    /// </summary>
    public static bool IsLayer4(AclCriterion criterion) => criterion is AclCriterion.Src or AclCriterion.Always or AclCriterion.Never;

    /// <summary>
    /// The first ACL of <paramref name="condition"/> that needs the HTTP request (a layer-7 criterion), or null when
    /// all of it can be evaluated on the connection alone.
    /// </summary>
    public static AclConfig? FirstLayer7Acl(ConditionConfig condition)
    {
        foreach (var all in condition.AnyOf)
            foreach (var term in all)
                foreach (var acl in term.Acls)
                    if (!IsLayer4(acl.Criterion)) return acl;
        return null;
    }

    /// <summary>How a message names <paramref name="acl"/>: `ACL 'NAME' (FETCH)`, or `anonymous ACL (FETCH)` for `{ ... }`.</summary>
    public static string Describe(AclConfig acl)
    {
        var fetch = acl.Criterion switch
        {
            AclCriterion.Path => "path",
            AclCriterion.PathBeg => "path_beg",
            AclCriterion.PathEnd => "path_end",
            AclCriterion.PathReg => "path_reg",
            AclCriterion.Hdr => $"hdr({acl.HeaderName})",
            AclCriterion.HdrBeg => $"hdr_beg({acl.HeaderName})",
            AclCriterion.Method => "method",
            AclCriterion.Src => "src",
            _ => acl.Name,
        };
        return acl.Name == AnonymousName
            ? $"anonymous ACL ({ConfigDiagnostics.Quote(fetch)})"
            : $"ACL {ConfigDiagnostics.Quote(acl.Name)} ({ConfigDiagnostics.Quote(fetch)})";
    }

    /// <summary>
    /// Parses `if|unless COND` from <paramref name="start"/> to the end of the line; null (reported) on an error.
    /// </summary>
    public ConditionConfig? ParseCondition(ProxyDraft proxy, ConfigLine line, int start, string keyword)
    {
        var w = line.Words;
        bool unless = w[start] == "unless";
        var anyOf = new List<IReadOnlyList<AclTerm>>();
        var all = new List<AclTerm>();
        for (int i = start + 1; i < w.Count; i++)
        {
            var word = w[i];
            if (word is "||" or "or")
            {
                if (all.Count == 0)
                {
                    diag.Error(line.Number, $"'{keyword}': '{word}' without a condition before it");
                    return null;
                }
                anyOf.Add(all);
                all = [];
                continue;
            }
            bool negated = false;
            if (word == "!")
            {
                if (++i >= w.Count) break;
                negated = true;
                word = w[i];
            }
            else if (word.StartsWith('!'))
            {
                negated = true;
                word = word[1..];
            }
            if (word == "{")
            {
                // Anonymous ACL: `{ CRITERION [flags] VALUE... }` (7.2), braces being words of their own.
                int end = i + 1;
                while (end < w.Count && w[end] != "}") end++;
                if (end == w.Count) end = -1;
                if (end < 0)
                {
                    diag.Error(line.Number, $"'{keyword}': missing '}}' after an anonymous ACL");
                    return null;
                }
                var anon = ParseCriterion(AnonymousName, w, i + 1, end, line.Number, keyword);
                if (anon is null) return null;
                all.Add(new AclTerm(negated, [anon]));
                i = end;
                continue;
            }
            if (!proxy.Acls.TryGetValue(word, out var acls) && Predefined(word, line.Number) is { } predefined)
                acls = [predefined];
            if (acls is null)
            {
                diag.Error(line.Number, $"'{keyword}': no ACL named {ConfigDiagnostics.Quote(word)} is declared before this line");
                return null;
            }
            all.Add(new AclTerm(negated, acls.ToArray()));
        }
        if (all.Count == 0)
        {
            diag.Error(line.Number, $"'{keyword}': missing condition after '{w[start]}'");
            return null;
        }
        anyOf.Add(all);
        return new ConditionConfig(unless, anyOf);
    }

    /// <summary>
    /// HAProxy's predefined ACLs (7.4) that this proxy can evaluate: TRUE, FALSE and the METH_* ones; a declared
    /// ACL of the same name takes precedence, as in HAProxy.
    /// </summary>
    private AclConfig? Predefined(string name, int line)
    {
        AclConfig Method(params string[] methods) => new(name, AclCriterion.Method, null, false, methods, [], diag.At(line));
        return name switch
        {
            "TRUE" => new AclConfig(name, AclCriterion.Always, null, false, [], [], diag.At(line)),
            "FALSE" => new AclConfig(name, AclCriterion.Never, null, false, [], [], diag.At(line)),
            "METH_CONNECT" => Method("CONNECT"),
            "METH_DELETE" => Method("DELETE"),
            "METH_GET" => Method("GET", "HEAD"),
            "METH_HEAD" => Method("HEAD"),
            "METH_OPTIONS" => Method("OPTIONS"),
            "METH_POST" => Method("POST"),
            "METH_PUT" => Method("PUT"),
            "METH_TRACE" => Method("TRACE"),
            _ => null,
        };
    }

    /// <summary>Parses `CRITERION [flags] [--] VALUE...` in words [from, to).</summary>
    private AclConfig? ParseCriterion(string name, IReadOnlyList<string> w, int from, int to, int line, string keyword)
    {
        if (from >= to)
        {
            diag.Error(line, $"'{keyword}': missing criterion, expected '{Usage}'");
            return null;
        }
        var fetch = w[from];
        string? header = null;
        AclCriterion criterion;
        if (TryFunction(fetch, "hdr", out header)) criterion = AclCriterion.Hdr;
        else if (TryFunction(fetch, "hdr_beg", out header)) criterion = AclCriterion.HdrBeg;
        else
        {
            switch (fetch)
            {
                case "path": criterion = AclCriterion.Path; break;
                case "path_beg": criterion = AclCriterion.PathBeg; break;
                case "path_end": criterion = AclCriterion.PathEnd; break;
                case "path_reg": criterion = AclCriterion.PathReg; break;
                case "method": criterion = AclCriterion.Method; break;
                case "src": criterion = AclCriterion.Src; break;
                case "ssl_fc": criterion = AclCriterion.SslFc; break;
                case "ssl_fc_sni": criterion = AclCriterion.SslFcSni; break;
                case "ssl_fc_protocol": criterion = AclCriterion.SslFcProtocol; break;
                case "ssl_fc_alpn": criterion = AclCriterion.SslFcAlpn; break;
                case "ssl_c_used": criterion = AclCriterion.SslCUsed; break;
                default:
                    diag.Error(line, fetch.Contains('(') || fetch.Contains('_')
                        ? $"'{keyword}': criterion {ConfigDiagnostics.Quote(fetch)} is not supported yet"
                        : $"'{keyword}': unknown criterion {ConfigDiagnostics.Quote(fetch)}, expected '{Usage}'");
                    return null;
            }
        }
        if (header is not null && (header.Length == 0 || header.Contains(',')))
        {
            diag.Error(line, $"'{keyword}': '{fetch}' needs one header name (occurrence arguments are not supported yet)");
            return null;
        }

        bool ignoreCase = false;
        int i = from + 1;
        for (; i < to && w[i].Length > 1 && w[i][0] == '-'; i++)
        {
            // Pattern flags (7.1.1): -i ignore case, -- end of flags; -m, -f, -n, -u, -M are HAProxy's but not ours yet.
            if (w[i] == "--") { i++; break; }
            if (w[i] == "-i") { ignoreCase = true; continue; }
            diag.Error(line, $"'{keyword}': ACL flag {ConfigDiagnostics.Quote(w[i])} is not supported yet (only -i and --)");
            return null;
        }
        // A boolean fetch (7.1.2) matches on its own: `{ ssl_fc }`.
        if (i >= to && criterion is AclCriterion.SslFc or AclCriterion.SslCUsed)
            return new AclConfig(name, criterion, null, false, [], [], diag.At(line));
        if (i >= to)
        {
            diag.Error(line, $"'{keyword}': '{fetch}' needs at least one value");
            return null;
        }
        var values = new List<string>();
        var networks = new List<IPNetwork>();
        for (; i < to; i++)
        {
            var v = w[i];
            if (criterion == AclCriterion.Src)
            {
                if (!TryNetwork(v, out var net))
                {
                    diag.Error(line, $"'{keyword}': 'src' expects an IP address or CIDR network, got {ConfigDiagnostics.Quote(v)}");
                    return null;
                }
                networks.Add(net);
            }
            else if (criterion == AclCriterion.PathReg && !IsValidRegex(v))
            {
                diag.Error(line, $"'{keyword}': invalid regular expression {ConfigDiagnostics.Quote(v)}");
                return null;
            }
            values.Add(v);
        }
        return new AclConfig(name, criterion, header, ignoreCase, values, networks, diag.At(line));
    }

    /// <summary>`NAME(ARG)`: true with ARG when <paramref name="word"/> calls <paramref name="function"/>.</summary>
    private static bool TryFunction(string word, string function, out string? argument)
    {
        argument = null;
        if (!word.StartsWith(function + "(", StringComparison.Ordinal) || !word.EndsWith(')')) return false;
        argument = word[(function.Length + 1)..^1];
        return true;
    }

    /// <summary>An address (a host network) or `ADDRESS/PREFIX`, IPv4 or IPv6.</summary>
    public static bool TryNetwork(string text, out IPNetwork network)
    {
        if (text.Contains('/'))
            return IPNetwork.TryParse(text, out network);
        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        network = default;
        return false;
    }

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>ACL names: upper and lower case letters, digits, '-', '_', '.' and ':' (7.1).</summary>
    private static bool IsValidName(string name)
    {
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')) return false;
        return name.Length > 0;
    }
}

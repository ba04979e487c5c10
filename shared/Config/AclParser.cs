namespace Proxy.Shared.Config;

/// <summary>
/// `acl NAME CRITERION [flags] [operator] [--] VALUE...` lines and `if|unless COND` conditions (doc/configuration.txt
/// 7.1, 7.2). A criterion is any sample expression (`hdr(host),lower,map_str(FILE)`) or a derived ACL name
/// (`hdr_beg(host)` is `hdr(host) -m beg`); flags are HAProxy's: -i, -f FILE, -m METHOD, -n, -u ID, -M, --.
/// ACLs must be declared before a condition names them, as in HAProxy, so conditions resolve here, at parse time.
/// </summary>
internal sealed class AclParser(ConfigDiagnostics diag)
{
    /// <summary>The name of an ACL written `{ ... }` in a condition: not a valid `acl` name, so no declared ACL has it.</summary>
    private const string AnonymousName = "{}";

    private const string Usage = "acl NAME FETCH[,CONVERTER...] [-i] [-f FILE] [-m METHOD] [--] VALUE...";

    // 7.1.1: the derived ACL suffixes and the matching method each one means.
    private static readonly (string Suffix, PatternMatch Match)[] DerivedSuffixes =
    [
        ("_beg", PatternMatch.Beg), ("_end", PatternMatch.End), ("_sub", PatternMatch.Sub), ("_reg", PatternMatch.Reg),
        ("_dom", PatternMatch.Dom), ("_dir", PatternMatch.Dir), ("_len", PatternMatch.Len), ("_found", PatternMatch.Found),
        ("_str", PatternMatch.Str), ("_ip", PatternMatch.Ip), ("_int", PatternMatch.Int),
    ];

    /// <summary>The expression parser, shared with the rules that take expressions (`%[...]`, set-var).</summary>
    public SampleExprParser Samples { get; } = new();

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
    /// True for an ACL whose sample exists when a connection is accepted, before any byte of a request (7.3.3
    /// "Fetching samples at Layer 4": `src`, `dst_port`...; constants, variables): what `tcp-request connection` rules may use.
    /// </summary>
    public static bool IsLayer4(AclConfig acl) => acl.Expr.Needs == SampleNeeds.Connection;

    /// <summary>What a fetch that is not layer 4 waits for, in an error message.</summary>
    public static string NeedsText(AclConfig acl) =>
        acl.Expr.Needs == SampleNeeds.Session ? "needs the client's TLS session (known after the handshake)"
        : acl.Expr.Needs == SampleNeeds.Payload ? "needs the bytes the client sends (tcp-request content, with tcp-request inspect-delay)"
        : "needs the HTTP request";

    /// <summary>
    /// The first ACL of <paramref name="condition"/> that needs the HTTP request (a layer-7 fetch), or null when
    /// all of it can be evaluated on the connection alone.
    /// </summary>
    public static AclConfig? FirstLayer7Acl(ConditionConfig condition)
    {
        foreach (var all in condition.AnyOf)
            foreach (var term in all)
                foreach (var acl in term.Acls)
                    if (!IsLayer4(acl)) return acl;
        return null;
    }

    /// <summary>The first ACL of <paramref name="condition"/> that needs an HTTP request or response, or null.</summary>
    public static AclConfig? FirstHttpAcl(ConditionConfig condition)
    {
        foreach (var all in condition.AnyOf)
            foreach (var term in all)
                foreach (var acl in term.Acls)
                    if (acl.Expr.Needs is SampleNeeds.Request or SampleNeeds.Response) return acl;
        return null;
    }

    /// <summary>How a message names <paramref name="acl"/>: `ACL 'NAME' (FETCH)`, or `anonymous ACL (FETCH)` for `{ ... }`.</summary>
    public static string Describe(AclConfig acl) => acl.Name == AnonymousName
        ? $"anonymous ACL ({ConfigDiagnostics.Quote(acl.Criterion)})"
        : $"ACL {ConfigDiagnostics.Quote(acl.Name)} ({ConfigDiagnostics.Quote(acl.Criterion)})";

    /// <summary>
    /// Parses `if|unless COND` from <paramref name="start"/> to the end of the line; null (reported) on an error.
    /// </summary>
    public ConditionConfig? ParseCondition(ProxyDraft proxy, ConfigLine line, int start, string keyword) =>
        ParseCondition(proxy, line, start, line.Words.Count, keyword);

    /// <summary>`if|unless COND` in words [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public ConditionConfig? ParseCondition(ProxyDraft proxy, ConfigLine line, int start, int end, string keyword)
    {
        var w = line.Words;
        bool unless = w[start] == "unless";
        var anyOf = new List<IReadOnlyList<AclTerm>>();
        var all = new List<AclTerm>();
        for (int i = start + 1; i < end; i++)
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
                if (++i >= end) break;
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
                int close = i + 1;
                while (close < end && w[close] != "}") close++;
                if (close == end)
                {
                    diag.Error(line.Number, $"'{keyword}': missing '}}' after an anonymous ACL");
                    return null;
                }
                var anon = ParseCriterion(AnonymousName, w, i + 1, close, line.Number, keyword);
                if (anon is null) return null;
                all.Add(new AclTerm(negated, [anon]));
                i = close;
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
    /// HAProxy's predefined ACLs (7.4), written as the `acl` lines they stand for; a declared ACL of the same name
    /// takes precedence, as in HAProxy.
    /// </summary>
    private AclConfig? Predefined(string name, int line)
    {
        string[]? words = name switch
        {
            "TRUE" => ["always_true"],
            "FALSE" => ["always_false"],
            "HTTP" => ["req.proto_http"],
            "HTTP_1.0" => ["req.ver", "1.0"],
            "HTTP_1.1" => ["req.ver", "1.1"],
            "HTTP_CONTENT" => ["hdr_val(content-length)", "gt", "0"],
            "HTTP_URL_ABS" => ["url_reg", "^[^/:]*://"],
            "HTTP_URL_SLASH" => ["url_beg", "/"],
            "HTTP_URL_STAR" => ["url", "*"],
            "LOCALHOST" => ["src", "127.0.0.1/8"],
            "METH_CONNECT" => ["method", "CONNECT"],
            "METH_DELETE" => ["method", "DELETE"],
            "METH_GET" => ["method", "GET", "HEAD"],
            "METH_HEAD" => ["method", "HEAD"],
            "METH_OPTIONS" => ["method", "OPTIONS"],
            "METH_POST" => ["method", "POST"],
            "METH_PUT" => ["method", "PUT"],
            "METH_TRACE" => ["method", "TRACE"],
            "RDP_COOKIE" => ["req.rdp_cookie_cnt", "gt", "0"],
            _ => null,
        };
        return words is null ? null : ParseCriterion(name, words, 0, words.Length, line, name);
    }

    /// <summary>Parses `CRITERION [flags] [operator] [--] VALUE...` in words [from, to).</summary>
    private AclConfig? ParseCriterion(string name, IReadOnlyList<string> w, int from, int to, int line, string keyword)
    {
        if (from >= to)
        {
            diag.Error(line, $"'{keyword}': missing criterion, expected '{Usage}'");
            return null;
        }
        var criterion = w[from];
        if (!TryExpression(criterion, out var expr, out PatternMatch? derived, out string? error))
        {
            diag.Error(line, $"'{keyword}': {error}");
            return null;
        }
        PatternMatch? method = null;
        bool ignoreCase = false, mapFiles = false;
        var values = new List<string>();
        int i = from + 1;
        for (; i < to && w[i].Length > 1 && w[i][0] == '-'; i++)
        {
            // 7.1 "ACL basics": the flags.
            string flag = w[i];
            if (flag == "--") { i++; break; }
            switch (flag)
            {
                case "-i": ignoreCase = true; continue;
                case "-n": continue;   // no DNS resolution of patterns: this proxy never resolves them anyway
                case "-u" when i + 1 < to: i++; continue;   // a unique id, for the runtime API's `show acl`: names only
                case "-m" when i + 1 < to:
                    if (!SampleRegistry.TryMatch(w[++i], out var m))
                    {
                        diag.Error(line, $"'{keyword}': unknown matching method {ConfigDiagnostics.Quote(w[i])} after '-m' (expected str, beg, end, sub, reg, dom, dir, len, found, int, ip or bool)");
                        return null;
                    }
                    if (derived is not null)
                    {
                        diag.Error(line, $"'{keyword}': '-m' cannot be used with {ConfigDiagnostics.Quote(criterion)}, which has its own matching method");
                        return null;
                    }
                    method = m;
                    continue;
                case "-f" when i + 1 < to:
                    if (!SampleExprParser.TryReadLines(w[++i], out var lines, out var why))
                    {
                        diag.Error(line, $"'{keyword}': '-f': {why}");
                        return null;
                    }
                    values.AddRange(lines);
                    continue;
                case "-M":
                    // -M: the -f files are maps; only their keys are patterns.
                    mapFiles = true;
                    continue;
            }
            diag.Error(line, $"'{keyword}': unknown ACL flag {ConfigDiagnostics.Quote(flag)}{(flag is "-m" or "-f" or "-u" ? " without its argument" : "")} (expected -i, -f FILE, -m METHOD, -n, -u ID, -M or --)");
            return null;
        }
        var match = method ?? derived ?? DefaultMatch(expr!.Output);
        for (int k = 0; mapFiles && k < values.Count; k++)
        {
            int sep = values[k].IndexOfAny([' ', '\t']);
            if (sep > 0) values[k] = values[k][..sep];
        }
        if (match is PatternMatch.Int or PatternMatch.Len && i < to && w[i] is "eq" or "ge" or "gt" or "le" or "lt")
        {
            // 7.1.3: one operator, then one value.
            if (i + 2 != to || !long.TryParse(w[i + 1], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long n))
            {
                diag.Error(line, $"'{keyword}': operator {ConfigDiagnostics.Quote(w[i])} expects one integer after it");
                return null;
            }
            values.Add(w[i] switch { "eq" => $"{n}", "ge" => $"{n}:", "gt" => $"{n + 1}:", "le" => $":{n}", _ => $":{n - 1}" });
            i = to;
        }
        for (; i < to; i++) values.Add(w[i]);
        if (values.Count == 0 && match is not (PatternMatch.Found or PatternMatch.Bool))
        {
            diag.Error(line, $"'{keyword}': {ConfigDiagnostics.Quote(criterion)} needs at least one value");
            return null;
        }
        if (values.Count > 0 && match == PatternMatch.Found)
        {
            diag.Error(line, $"'{keyword}': '-m found' takes no value, got {ConfigDiagnostics.Quote(values[0])}");
            return null;
        }
        foreach (var v in values)
        {
            if (SampleExprParser.CheckPattern(v, match) is { } expected)
            {
                diag.Error(line, $"'{keyword}': {ConfigDiagnostics.Quote(criterion)} expects {expected}, got {ConfigDiagnostics.Quote(v)}");
                return null;
            }
        }
        return new AclConfig(name, criterion, expr!, match, ignoreCase, values, diag.At(line));
    }

    /// <summary>
    /// The criterion as an expression; failing that, as a derived ACL (`path_beg` = `path -m beg`, `hdr_reg(x)` =
    /// `hdr(x) -m reg`); the expression parser's error when neither works.
    /// </summary>
    private bool TryExpression(string criterion, out SampleExpr? expr, out PatternMatch? derived, out string? error)
    {
        derived = null;
        expr = Samples.ParseWhole(criterion, out error);
        if (expr is not null) return true;
        int end = criterion.IndexOfAny(['(', ',']);
        string fetch = end < 0 ? criterion : criterion[..end];
        foreach (var (suffix, match) in DerivedSuffixes)
        {
            if (!fetch.EndsWith(suffix, StringComparison.Ordinal) || SampleRegistry.Fetch(fetch[..^suffix.Length]) is null) continue;
            var baseExpr = Samples.ParseWhole(fetch[..^suffix.Length] + (end < 0 ? "" : criterion[end..]), out var baseError);
            if (baseExpr is null)
            {
                error = baseError;
                return false;
            }
            expr = baseExpr;
            derived = match;
            error = null;
            return true;
        }
        return false;
    }

    /// <summary>7.1.1: without -m, the fetch's output type decides (strings exactly, integers by value, addresses by network).</summary>
    private static PatternMatch DefaultMatch(SampleType output) => output switch
    {
        SampleType.Int => PatternMatch.Int,
        SampleType.Ip => PatternMatch.Ip,
        SampleType.Bool => PatternMatch.Bool,
        _ => PatternMatch.Str,
    };

    /// <summary>An address (a host network) or `ADDRESS/PREFIX`, IPv4 or IPv6.</summary>
    public static bool TryNetwork(string text, out System.Net.IPNetwork network) => SamplePatterns.TryNetwork(text, out network);

    /// <summary>ACL names: upper and lower case letters, digits, '-', '_', '.' and ':' (7.1).</summary>
    private static bool IsValidName(string name)
    {
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')) return false;
        return name.Length > 0;
    }
}

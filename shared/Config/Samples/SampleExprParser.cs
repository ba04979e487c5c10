using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Proxy.Shared.Config;

/// <summary>
/// Parses `FETCH[(ARGS)][,CONVERTER[(ARGS)]...]` (doc/configuration.txt 7.3 "Fetching samples", 7.3.1 "Converters")
/// into a typed <see cref="SampleExpr"/>: every name looked up in <see cref="SampleRegistry"/>, every argument
/// checked and converted now, map files read now (the supervisor reads them with a bound; workers never open them).
/// Errors name the fetch or converter and what it expected; the caller puts FILE:LINE and its keyword before them.
/// </summary>
internal sealed class SampleExprParser
{
    /// <summary>A map or pattern file larger than this is refused (it is shipped to every worker in the model).</summary>
    public const int MaxPatternFileBytes = 16 << 20;

    private readonly Dictionary<(string, PatternMatch, SampleType), (IReadOnlyList<string>, IReadOnlyList<string>)> _maps = [];

    /// <summary>The `userlist` sections by name (3.4), for `http_auth(NAME)` and `http_auth_group(NAME)`.</summary>
    public IReadOnlyDictionary<string, UserListConfig> UserLists { get; set; } = new Dictionary<string, UserListConfig>();

    /// <summary>
    /// Parses from <paramref name="pos"/> up to the end of <paramref name="text"/> or, outside parentheses, the first
    /// <paramref name="terminator"/> (`]` for `%[...]`; '\0' for none); <paramref name="pos"/> ends on it. Null with
    /// <paramref name="error"/> on an error.
    /// </summary>
    public SampleExpr? Parse(string text, ref int pos, char terminator, out string? error)
    {
        int start = pos;
        if (!TryStep(text, ref pos, out var fetchName, out var fetchArgs, out error)) return null;
        var def = SampleRegistry.Fetch(fetchName);
        if (def is null)
        {
            error = fetchName.Length == 0 ? $"missing fetch method in {ConfigDiagnostics.Quote(text[start..])}" : $"unknown fetch method {ConfigDiagnostics.Quote(fetchName)}";
            return null;
        }
        if (!CheckArgs(def.Args, fetchArgs, "fetch method", def.Name, def.Usage, out error)) return null;
        var fetch = BuildFetch(def, fetchArgs, out error);
        if (fetch is null) return null;
        var type = def.Output;
        var converters = new List<SampleConverterStep>();
        while (pos < text.Length && text[pos] != terminator)
        {
            if (text[pos] != ',')
            {
                error = $"unexpected {ConfigDiagnostics.Quote(text[pos..])} after {ConfigDiagnostics.Quote(text[start..pos])}, expected ',CONVERTER'";
                return null;
            }
            pos++;
            if (!TryStep(text, ref pos, out var name, out var args, out error)) return null;
            var step = BuildConverter(name, args, type, out var output, out error);
            if (step is null) return null;
            converters.Add(step);
            type = output;
        }
        return new SampleExpr(text[start..pos], fetch, converters, type) { Needs = def.Needs };
    }

    /// <summary>Parses a whole word as one expression (an ACL's criterion, a rule's argument).</summary>
    public SampleExpr? ParseWhole(string text, out string? error)
    {
        int pos = 0;
        return Parse(text, ref pos, '\0', out error);
    }

    /// <summary>`NAME` or `NAME(ARG,...)`: a name of [a-z0-9._-], then arguments split on commas outside quotes.</summary>
    private static bool TryStep(string text, ref int pos, out string name, out List<string> args, out string? error)
    {
        int start = pos;
        while (pos < text.Length && (char.IsAsciiLetterOrDigit(text[pos]) || text[pos] is '.' or '_' or '-')) pos++;
        name = text[start..pos];
        args = [];
        error = null;
        if (name.Length == 0)
        {
            error = pos < text.Length ? $"missing fetch or converter name before {ConfigDiagnostics.Quote(text[pos..])}" : "missing fetch or converter name";
            return false;
        }
        if (pos >= text.Length || text[pos] != '(') return true;
        // 2.2 "Quoting and escaping": in an argument list, quotes group and a backslash escapes the next character;
        // unquoted parentheses nest (a regex group), so only the matching ')' ends the list.
        pos++;
        var arg = new StringBuilder();
        int depth = 0;
        char quote = '\0';
        for (; pos < text.Length; pos++)
        {
            char c = text[pos];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && quote == '"' && pos + 1 < text.Length) arg.Append(text[++pos]);
                else arg.Append(c);
                continue;
            }
            switch (c)
            {
                case '\\' when pos + 1 < text.Length:
                    // kept for regexes (`\.`), dropped before a separator (`\,` `\)`)
                    char next = text[++pos];
                    if (next is not (',' or ')' or '(' or '\'' or '"')) arg.Append('\\');
                    arg.Append(next);
                    continue;
                case '\'' or '"':
                    quote = c;
                    continue;
                case '(':
                    depth++;
                    break;
                case ')' when depth > 0:
                    depth--;
                    break;
                case ')':
                    args.Add(arg.ToString());
                    pos++;
                    if (args.Count == 1 && args[0].Length == 0) args.Clear();   // `name()`: no argument
                    return true;
                case ',' when depth == 0:
                    args.Add(arg.ToString());
                    arg.Clear();
                    continue;
            }
            arg.Append(c);
        }
        error = $"missing ')' after the arguments of {ConfigDiagnostics.Quote(name)}";
        return false;
    }

    /// <summary>Counts the arguments against <paramref name="spec"/> (upper case: required).</summary>
    private static bool CheckArgs(string spec, List<string> args, string what, string name, string usage, out string? error)
    {
        error = null;
        int required = 0;
        foreach (char c in spec) if (char.IsUpper(c)) required++;
        if (args.Count >= required && args.Count <= spec.Length) return true;
        error = spec.Length == 0
            ? $"{what} {ConfigDiagnostics.Quote(name)} takes no argument"
            : $"{what} {ConfigDiagnostics.Quote(name)} expects {(required == spec.Length ? "" : required == 0 ? "at most " : "")}{Plural(args.Count < required ? required : spec.Length)} ('{usage}'), got {args.Count}";
        return false;
    }

    private static string Plural(int n) => n == 1 ? "1 argument" : $"{n} arguments";

    private SampleFetchStep? BuildFetch(SampleFetchDef def, List<string> args, out string? error)
    {
        error = null;
        string? Arg(int i) => i < args.Count && args[i].Length > 0 ? args[i] : null;
        string? text = Arg(0), text2 = Arg(1);
        long number = 0;
        bool hasNumber = false;
        // The integer argument: the first for int()/bool()/date()/rand(), the second for an occurrence.
        int intAt = def.Args.IndexOfAny(['I', 'i']);
        if (intAt >= 0 && Arg(intAt) is { } n)
        {
            if (!long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
            {
                error = $"fetch method {ConfigDiagnostics.Quote(def.Name)} expects an integer as argument {intAt + 1} ('{def.Usage}'), got {ConfigDiagnostics.Quote(n)}";
                return null;
            }
            hasNumber = true;
            if (intAt == 0) text = null;
            else text2 = null;
        }
        switch (def.Kind)
        {
            case SampleFetchKind.Var when !IsVariableName(text!):
                error = $"fetch method 'var' expects a variable name 'proc|sess|txn|req|res.NAME', got {ConfigDiagnostics.Quote(text!)}";
                return null;
            case SampleFetchKind.Bool when number is not (0 or 1):
                error = $"fetch method 'bool' expects 0 or 1, got {number}";
                return null;
            case SampleFetchKind.Rand when hasNumber && number <= 0:
                error = $"fetch method 'rand' expects a positive range, got {number}";
                return null;
            // Any name is taken, as HAProxy takes it: one that is no HTTP field name (`req.hdr(127.0.0.1:9080)`, seen in
            // a public configuration) never matches, there as here.
            case SampleFetchKind.ReqHdr or SampleFetchKind.ReqHdrCnt or SampleFetchKind.ReqFhdr or SampleFetchKind.ResHdr
                or SampleFetchKind.ResHdrCnt or SampleFetchKind.ReqHdrVal when text is null:
                error = $"fetch method {ConfigDiagnostics.Quote(def.Name)} expects a header name, got {ConfigDiagnostics.Quote(text ?? "")}";
                return null;
            case SampleFetchKind.ReqPayload or SampleFetchKind.ResPayload when number < 0 || !long.TryParse(text2, NumberStyles.None, CultureInfo.InvariantCulture, out _):
                error = $"fetch method {ConfigDiagnostics.Quote(def.Name)} expects a non-negative offset and length ('{def.Usage}')";
                return null;
            case SampleFetchKind.HttpAuth or SampleFetchKind.HttpAuthGroup:
                // 7.3.6 "http_auth": the argument names a `userlist` section, which the step carries to the workers.
                if (!UserLists.TryGetValue(text ?? "", out var users))
                {
                    error = $"fetch method {ConfigDiagnostics.Quote(def.Name)} expects the name of a userlist, and there is no 'userlist {text}'";
                    return null;
                }
                return new SampleFetchStep(def.Kind, def.Name, text, null, 0, false) { UserList = users };
        }
        return new SampleFetchStep(def.Kind, def.Name, text, text2, number, hasNumber);
    }

    private SampleConverterStep? BuildConverter(string name, List<string> args, SampleType input, out SampleType output, out string? error)
    {
        output = SampleType.Str;
        if (SampleRegistry.TryMapConverter(name, out var match, out var mapOutput))
        {
            output = mapOutput;
            return BuildMap(name, args, match, mapOutput, out error);
        }
        var def = SampleRegistry.Converter(name);
        if (def is null)
        {
            error = $"unknown converter {ConfigDiagnostics.Quote(name)}";
            return null;
        }
        output = def.Output;
        if (!CheckArgs(def.Args, args, "converter", name, def.Usage, out error)) return null;
        string? Arg(int i) => i < args.Count && args[i].Length > 0 ? args[i] : null;
        long number = 0, number2 = 0;
        bool hasNumber = false;
        for (int i = 0; i < def.Args.Length && i < args.Count; i++)
        {
            if (def.Args[i] is not ('I' or 'i') || Arg(i) is not { } n) continue;
            if (!long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            {
                error = $"converter {ConfigDiagnostics.Quote(name)} expects an integer as argument {i + 1} ('{def.Usage}'), got {ConfigDiagnostics.Quote(n)}";
                return null;
            }
            if (!hasNumber) { number = v; hasNumber = true; }
            else number2 = v;
        }
        var step = new SampleConverterStep(def.Kind, name, null, null, null, number, number2, hasNumber);
        switch (def.Kind)
        {
            case SampleConverterKind.Bytes:
                if (number < 0 || (args.Count > 1 && number2 <= 0))
                {
                    error = $"converter 'bytes' expects a non-negative offset and a positive length ('{def.Usage}')";
                    return null;
                }
                return step with { Number2 = args.Count > 1 ? number2 : -1 };
            case SampleConverterKind.Field or SampleConverterKind.Word:
                if (number == 0 || args[1].Length == 0)
                {
                    error = $"converter {ConfigDiagnostics.Quote(name)} expects a non-zero index and at least one delimiter ('{def.Usage}')";
                    return null;
                }
                return step with { Text = args[1], Number2 = args.Count > 2 ? number2 : 1 };
            case SampleConverterKind.RegSub:
                bool ignoreCase = false, global = false;
                foreach (char f in Arg(2) ?? "")
                {
                    if (f == 'i') ignoreCase = true;
                    else if (f == 'g') global = true;
                    else
                    {
                        error = $"converter 'regsub' expects flags 'i' and 'g' only, got {ConfigDiagnostics.Quote(args[2])}";
                        return null;
                    }
                }
                if (!TryRegex(args[0], ignoreCase, out var regex, out error)) return null;
                return step with { Regex = regex, Global = global, Text = args[1] };
            case SampleConverterKind.IpMask:
                if (input is not (SampleType.Ip or SampleType.Any))
                {
                    error = $"converter 'ipmask' expects an IP address as input, got {TypeName(input)}";
                    return null;
                }
                if (!SamplePatterns.TryMask(args[0], 32, out var mask4) || !SamplePatterns.TryMask(Arg(1) ?? "128", 128, out var mask6))
                {
                    error = $"converter 'ipmask' expects masks like 24 or 255.255.255.0 and 64 ('{def.Usage}')";
                    return null;
                }
                return step with { Number = mask4, Mask6 = mask6 };
            case SampleConverterKind.Concat:
                if (Arg(1) is { } v && !IsVariableName(v))
                {
                    error = $"converter 'concat' expects a variable name as argument 2 ('{def.Usage}'), got {ConfigDiagnostics.Quote(v)}";
                    return null;
                }
                return step with { Text = Arg(0), Text2 = Arg(1), Text3 = Arg(2) };
            case SampleConverterKind.Add or SampleConverterKind.Sub or SampleConverterKind.Mul or SampleConverterKind.Div or SampleConverterKind.Mod:
                if (long.TryParse(args[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                    return step with { Number = value, HasNumber = true };
                if (!IsVariableName(args[0]))
                {
                    error = $"converter {ConfigDiagnostics.Quote(name)} expects an integer or a variable name ('{def.Usage}'), got {ConfigDiagnostics.Quote(args[0])}";
                    return null;
                }
                return step with { Text = args[0] };
            case SampleConverterKind.StickTable:
                return step with { Text = args[0] };
            case SampleConverterKind.SetVar:
                if (!IsVariableName(args[0]))
                {
                    error = $"converter 'set-var' expects a variable name 'proc|sess|txn|req|res.NAME' ('{def.Usage}'), got {ConfigDiagnostics.Quote(args[0])}";
                    return null;
                }
                var conditions = VarSetConditions.None;
                for (int i = 1; i < args.Count; i++)
                {
                    if (args[i].Length == 0) continue;
                    if (!VarSetConditionsParser.TryParse(args[i], out var c))
                    {
                        error = $"converter 'set-var': unknown condition \"{args[i]}\"";
                        return null;
                    }
                    conditions |= c;
                }
                output = input;   // the input passes on unchanged
                return step with { Text = args[0], Number = (long)conditions };
            case SampleConverterKind.Json:
                if (Arg(0) is { } mode && mode is not ("ascii" or "utf8" or "utf8s" or "utf8p" or "utf8ps"))
                {
                    error = $"converter 'json' expects ascii, utf8, utf8s, utf8p or utf8ps, got {ConfigDiagnostics.Quote(mode)}";
                    return null;
                }
                return step;
        }
        return step;
    }

    /// <summary>`map_MATCH[_OUTPUT](FILE[,DEFAULT])`: the file read now, its keys checked for the match.</summary>
    private SampleConverterStep? BuildMap(string name, List<string> args, PatternMatch match, SampleType output, out string? error)
    {
        const string usage = "(FILE[,DEFAULT])";
        if (args.Count is < 1 or > 2 || args[0].Length == 0)
        {
            error = $"converter {ConfigDiagnostics.Quote(name)} expects a map file and an optional default ('{name}{usage}'), got {args.Count} argument{(args.Count == 1 ? "" : "s")}";
            return null;
        }
        string? dflt = args.Count > 1 ? args[1] : null;
        if (dflt is not null && output == SampleType.Int && !long.TryParse(dflt, CultureInfo.InvariantCulture, out _))
        {
            error = $"converter {ConfigDiagnostics.Quote(name)} expects an integer default, got {ConfigDiagnostics.Quote(dflt)}";
            return null;
        }
        if (!TryReadMap(args[0], match, output, out var keys, out var values, out error))
        {
            error = $"converter {ConfigDiagnostics.Quote(name)}: {error}";
            return null;
        }
        var map = new MapData(args[0], match, output, keys, values, dflt);
        return new SampleConverterStep(SampleConverterKind.Map, name, null, null, null, 0, 0, false) { Map = map };
    }

    private bool TryReadMap(string file, PatternMatch match, SampleType output, out IReadOnlyList<string> keys, out IReadOnlyList<string> values, out string? error)
    {
        error = null;
        if (_maps.TryGetValue((file, match, output), out var cached))
        {
            (keys, values) = cached;
            return true;
        }
        keys = values = [];
        if (!TryReadLines(file, out var lines, out error)) return false;
        var k = new List<string>();
        var v = new List<string>();
        for (int i = 0; i < lines.Count; i++)
        {
            // 7.3.1 "map": "key value", the value being the rest of the line after blanks.
            var line = lines[i];
            int sep = line.IndexOfAny([' ', '\t']);
            string key = sep < 0 ? line : line[..sep];
            string value = sep < 0 ? "" : line[sep..].Trim(' ', '\t');
            if (CheckPattern(key, match) is { } bad || (output == SampleType.Int && !long.TryParse(value, CultureInfo.InvariantCulture, out _)))
            {
                error = $"{ConfigDiagnostics.Quote(file)} entry {i + 1}: invalid {(output == SampleType.Int && CheckPattern(key, match) is null ? "integer value" : "key")} in {ConfigDiagnostics.Quote(line)}";
                return false;
            }
            k.Add(key);
            v.Add(value);
        }
        keys = k;
        values = v;
        _maps[(file, match, output)] = (keys, values);
        return true;
    }

    /// <summary>
    /// The non-empty lines of a pattern or map file (`acl ... -f FILE`, map converters): blanks around each line
    /// trimmed, lines starting with '#' left out (7.1 "-f").
    /// </summary>
    public static bool TryReadLines(string file, out List<string> lines, out string? error)
    {
        lines = [];
        if (BoundedFileReader.TryRead(file, MaxPatternFileBytes, "16 MiB", allowFifo: false, out var content) is { } why)
        {
            error = $"cannot read {ConfigDiagnostics.Quote(file)}: {why}";
            return false;
        }
        error = null;
        foreach (var raw in Encoding.UTF8.GetString(content).Split('\n'))
        {
            var line = raw.Trim(' ', '\t', '\r');
            if (line.Length == 0 || line[0] == '#') continue;
            lines.Add(line);
        }
        return true;
    }

    /// <summary>Null when <paramref name="pattern"/> is valid for <paramref name="match"/>, else what it should be.</summary>
    public static string? CheckPattern(string pattern, PatternMatch match) => match switch
    {
        PatternMatch.Ip when !SamplePatterns.TryNetwork(pattern, out _) => "an IP address or network",
        PatternMatch.Reg when !TryRegex(pattern, false, out _, out _) => "a valid regular expression",
        PatternMatch.Int or PatternMatch.Len when !SamplePatterns.TryIntRange(pattern, out _, out _) => "an integer or a range like 1:5",
        _ => null,
    };

    public static bool TryRegex(string pattern, bool ignoreCase, out Regex? regex, out string? error)
    {
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None), RegexLimits.MatchTimeout);
            error = null;
            return true;
        }
        catch (ArgumentException e)
        {
            regex = null;
            error = $"invalid regular expression {ConfigDiagnostics.Quote(pattern)}: {e.Message}";
            return false;
        }
    }

    /// <summary>`SCOPE.NAME`: scope proc, sess, txn, req or res; the name of letters, digits, '_' and '.' (2.8 "set-var").</summary>
    public static bool IsVariableName(string name)
    {
        int dot = name.IndexOf('.');
        if (dot < 0 || name[..dot] is not ("proc" or "sess" or "txn" or "req" or "res") || dot == name.Length - 1) return false;
        for (int i = dot + 1; i < name.Length; i++)
            if (!(char.IsAsciiLetterOrDigit(name[i]) || name[i] is '_' or '.')) return false;
        return true;
    }

    public static string TypeName(SampleType t) => t switch
    {
        SampleType.Bool => "a boolean", SampleType.Int => "an integer", SampleType.Ip => "an IP address",
        SampleType.Bin => "binary", SampleType.Str => "a string", _ => "any type",
    };
}

using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>
/// `set-var proc.NAME EXPR` and `set-var-fmt proc.NAME FMT` in the `global` section (doc/configuration.txt 3.1): a
/// process-wide variable set once, before any traffic, from "the sample fetch functions and converters ... using
/// internal data". Each worker evaluates the lines in order at start (worker/Samples/GlobalVariables.cs), so what
/// would differ from one worker to the next is decided here, once, by the supervisor: `rand()` is drawn, `date()`
/// read, and `%pid`, `%H` and the dates of a format written as text (`%pid` is the supervisor's, as HAProxy's is the
/// master's when it parses). Every worker, respawned ones included, then holds the same value.
/// </summary>
internal sealed class GlobalVariableParser(ConfigDiagnostics diag)
{
    private readonly SampleExprParser _samples = new();
    private readonly List<HttpRequestAction> _variables = [];

    public IReadOnlyList<HttpRequestAction> Build() => [.. _variables];

    public void ParseLine(ConfigLine line)
    {
        var w = line.Words;
        string keyword = line.Keyword;
        bool fmt = keyword == "set-var-fmt";
        if (!LineChecks.Exactly(diag, line, 2, fmt ? "set-var-fmt proc.NAME FORMAT" : "set-var proc.NAME EXPR")) return;
        string name = w[1];
        if (!name.StartsWith("proc.", StringComparison.Ordinal) || !SampleExprParser.IsVariableName(name))
        {
            diag.Error(line.Number, $"'{keyword}': expected a process-wide variable 'proc.NAME' (letters, digits, '_' and '.'), got {ConfigDiagnostics.Quote(name)}");
            return;
        }
        string? error;
        var action = new HttpRequestAction(HttpRequestActionKind.SetVar, 0, null, diag.At(line.Number)) { Variable = name };
        if (!fmt)
        {
            if (_samples.ParseWhole(w[2], out error) is { } expr && (error = CheckAtParseTime(expr)) is null)
            {
                _variables.Add(action with { Expr = Fold(expr) });
                return;
            }
        }
        else if (LogFormatParser.Parse(w[2], _samples, out error) is { } format && FoldFormat(format, out error) is { } folded)
        {
            _variables.Add(action with { ValueFormat = folded });
            return;
        }
        diag.Error(line.Number, $"'{keyword}': {error}");
    }

    /// <summary>
    /// Null when the expression can be evaluated with no traffic; otherwise what it needs, in HAProxy's words
    /// ("fetch method 'src' extracts information from 'client address', none of which is available here").
    /// </summary>
    private static string? CheckAtParseTime(SampleExpr expr)
    {
        var f = expr.Fetch;
        switch (f.Kind)
        {
            case SampleFetchKind.Str or SampleFetchKind.Int or SampleFetchKind.Bool or SampleFetchKind.AlwaysTrue
                or SampleFetchKind.AlwaysFalse or SampleFetchKind.Env or SampleFetchKind.Date or SampleFetchKind.Rand:
                break;
            case SampleFetchKind.Var when f.Text!.StartsWith("proc.", StringComparison.Ordinal):
                break;
            case SampleFetchKind.Var:
                return $"fetch method 'var' reads {ConfigDiagnostics.Quote(f.Text!)}: only 'proc.' variables exist in the global section";
            default:
                return $"fetch method {ConfigDiagnostics.Quote(f.Name)} needs traffic, none of which is available in the global section (only str, int, bool, always_true, always_false, env, date, rand and var(proc.NAME))";
        }
        foreach (var c in expr.Converters)
        {
            if (c.Kind is SampleConverterKind.CaptureReq or SampleConverterKind.CaptureRes or SampleConverterKind.StickTable)
                return $"converter {ConfigDiagnostics.Quote(c.Name)} needs traffic, none of which is available in the global section";
            // add()..mod() and set-var() name a variable in their Text, concat() in its Text2.
            string? v = c.Kind is SampleConverterKind.Concat ? c.Text2 : c.Kind is SampleConverterKind.SetVar ? c.Text
                : c.Kind is SampleConverterKind.Add or SampleConverterKind.Sub or SampleConverterKind.Mul or SampleConverterKind.Div
                    or SampleConverterKind.Mod ? c.Text : null;
            if (v is not null && !v.StartsWith("proc.", StringComparison.Ordinal))
                return $"converter {ConfigDiagnostics.Quote(c.Name)} reads {ConfigDiagnostics.Quote(v)}: only 'proc.' variables exist in the global section";
        }
        return null;
    }

    /// <summary>`rand()` drawn and `date()` read now, so that every worker computes the same value from them.</summary>
    private static SampleExpr Fold(SampleExpr expr)
    {
        var f = expr.Fetch;
        long? value = f.Kind switch
        {
            SampleFetchKind.Rand => f.HasNumber ? Random.Shared.NextInt64(f.Number) : Random.Shared.NextInt64(1L << 32),
            SampleFetchKind.Date => DateTimeOffset.UtcNow.ToUnixTimeSeconds() + f.Number,
            _ => null,
        };
        return value is { } v ? expr with { Fetch = new SampleFetchStep(SampleFetchKind.Int, "int", null, null, v, true) } : expr;
    }

    /// <summary>
    /// The format with `%pid`, `%H` and the dates written as text, each `%[EXPR]` checked and folded as set-var's;
    /// null with <paramref name="error"/> for a variable that needs traffic (HAProxy prints nothing for those here;
    /// this proxy refuses them rather than store a value that cannot mean anything).
    /// </summary>
    private static LogFormatConfig? FoldFormat(LogFormatConfig format, out string? error)
    {
        error = null;
        var now = DateTime.Now;
        var nodes = new List<LogFormatNode>(format.Nodes.Count);
        foreach (var n in format.Nodes)
        {
            if (n.Literal is not null)
            {
                nodes.Add(n);
                continue;
            }
            if (n.Expr is { } expr)
            {
                if ((error = CheckAtParseTime(expr)) is not null) return null;
                nodes.Add(n with { Expr = Fold(expr) });
                continue;
            }
            string? text = n.Variable switch
            {
                LogVariable.Pid => Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                LogVariable.Hostname => Environment.MachineName,
                // 8.2.4: %t "date_time (with millisecond resolution)", %T "gmt_date_time", %Tl "local_date_time".
                LogVariable.Date or LogVariable.RequestDate => now.ToString("dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture),
                LogVariable.GmtDate => now.ToUniversalTime().ToString("dd/MMM/yyyy:HH:mm:ss +0000", CultureInfo.InvariantCulture),
                LogVariable.LocalDate => new DateTimeOffset(now).ToString("dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture).Remove(24, 1),
                LogVariable.Timestamp => new DateTimeOffset(now).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                LogVariable.Milliseconds => now.Millisecond.ToString("000", CultureInfo.InvariantCulture),
                _ => null,
            };
            if (text is null)
            {
                error = $"'%{LogFormatParser.NameOf(n.Variable)}' needs traffic, none of which is available in the global section (only %[EXPR], %pid, %H, %t, %T, %Tl, %Ts and %ms)";
                return null;
            }
            nodes.Add(new LogFormatNode(text, default, null, LogFormatFlags.None));
        }
        return format with { Nodes = nodes };
    }
}

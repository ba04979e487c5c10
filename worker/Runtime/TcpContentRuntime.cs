using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Runtime;

/// <summary>What the `tcp-request content` rules decided.</summary>
internal enum TcpContentVerdict { Accept, Reject, NeedMore }

/// <summary>
/// A frontend's or a backend's `tcp-request content` rules compiled (doc/configuration.txt 4.2), and `tcp-request inspect-delay`.
/// Run in order: the first accept or reject whose condition holds decides, set-var/unset-var act and go on, and the
/// end of the list accepts. A condition that needs bytes not yet buffered (SampleContext.PayloadIncomplete) stops the
/// run with <see cref="TcpContentVerdict.NeedMore"/>, to resume at the same rule once more bytes came, as HAProxy's
/// tcp_inspect_request does. Running allocates nothing.
/// </summary>
internal sealed class TcpContentRuntime
{
    private readonly (TcpContentAction Action, CompiledCondition? Condition, CompiledRequestAction? Variable, Tables.CompiledTrack? Track)[] _rules;
    // In mode http the rules run with each request, and what they track lasts the request (HAProxy's stream);
    // in mode tcp they run once and tracking lasts the connection.
    private readonly bool _perRequest;

    public TcpContentRuntime(FrontendConfig config) : this(config.TcpContentRules, config.InspectDelay, config.Mode) { }

    public TcpContentRuntime(BackendConfig config) : this(config.TcpContentRules, config.InspectDelay, config.Mode) { }

    private TcpContentRuntime(IReadOnlyList<TcpContentRule> rules, TimeSpan? inspectDelay, ProxyMode mode)
    {
        InspectDelayMs = inspectDelay is { } d ? (long)d.TotalMilliseconds : 0;
        _perRequest = mode == ProxyMode.Http;
        _rules = new (TcpContentAction, CompiledCondition?, CompiledRequestAction?, Tables.CompiledTrack?)[rules.Count];
        for (int i = 0; i < _rules.Length; i++)
        {
            var r = rules[i];
            // set-var, unset-var and capture run as `http-request set-var|capture` do (one implementation of each action).
            CompiledRequestAction? variable = r.Action switch
            {
                TcpContentAction.SetVar or TcpContentAction.UnsetVar => new CompiledRequestAction(new HttpRequestAction(
                    r.Action == TcpContentAction.SetVar ? HttpRequestActionKind.SetVar : HttpRequestActionKind.UnsetVar, 0, null, r.Location)
                    { Variable = r.Variable, Expr = r.Expr, ValueFormat = r.ValueFormat, VarConditions = r.VarConditions }),
                TcpContentAction.SetDst or TcpContentAction.SetDstPort => new CompiledRequestAction(new HttpRequestAction(
                    r.Action == TcpContentAction.SetDst ? HttpRequestActionKind.SetDst : HttpRequestActionKind.SetDstPort, 0, null, r.Location)
                    { Expr = r.Expr }),
                TcpContentAction.Capture => new CompiledRequestAction(new HttpRequestAction(HttpRequestActionKind.Capture, 0, null, r.Location)
                    { Expr = r.Expr, CaptureSlot = r.CaptureSlot }),
                _ => null,
            };
            _rules[i] = (r.Action, r.Condition is null ? null : new CompiledCondition(r.Condition), variable,
                r.Track is null ? null : new Tables.CompiledTrack(r.Track));
        }
    }

    /// <summary>`tcp-request inspect-delay` in milliseconds; 0: the rules decide on what is there, without waiting.</summary>
    public long InspectDelayMs { get; }

    /// <summary>
    /// Runs the rules from <paramref name="next"/> (0 the first time; where the last run stopped for more bytes after).
    /// </summary>
    public TcpContentVerdict Run(SampleContext ctx, ref int next)
    {
        for (; next < _rules.Length; next++)
        {
            var (action, condition, variable, track) = _rules[next];
            ctx.PayloadIncomplete = false;
            ctx.ResetScratch();
            bool holds = condition is null || condition.Evaluate(ctx);
            // A sample that may still change (HAProxy's ACL_TEST_MISS) waits, unless an `if` already holds: more
            // bytes cannot undo a match, but they can undo the miss an `unless` turned into a match.
            if (ctx.PayloadIncomplete && !(holds && !condition!.Unless)) return TcpContentVerdict.NeedMore;
            if (!holds) continue;
            switch (action)
            {
                case TcpContentAction.Accept: return TcpContentVerdict.Accept;
                case TcpContentAction.Reject: return TcpContentVerdict.Reject;
                case TcpContentAction.TrackSc: track!.Run(ctx, forRequest: _perRequest); break;
                default: variable!.ExecuteVariable(ctx); break;
            }
        }
        return TcpContentVerdict.Accept;
    }
}

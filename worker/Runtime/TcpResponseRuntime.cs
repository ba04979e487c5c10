using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Runtime;

/// <summary>What the `tcp-response content` rules decided; NeedMore: a rule waits for bytes the server has not sent yet.</summary>
internal enum TcpResponseVerdict { Accept, Reject, Close, NeedMore }

/// <summary>
/// A backend's `tcp-response content` rules compiled (doc/configuration.txt 4.2), and `tcp-response inspect-delay`.
/// Run in order on the server's first bytes (`res.len`, `res.payload`): the first rule whose condition holds decides,
/// and the end of the list accepts. A condition that needs bytes not yet there waits for them, as
/// <see cref="TcpContentRuntime"/> does on the client's side. Running allocates nothing.
/// </summary>
internal sealed class TcpResponseRuntime
{
    private readonly (TcpResponseAction Action, CompiledCondition? Condition)[] _rules;

    public TcpResponseRuntime(BackendConfig config)
    {
        InspectDelayMs = config.ResponseInspectDelay is { } d ? (long)d.TotalMilliseconds : 0;
        _rules = new (TcpResponseAction, CompiledCondition?)[config.TcpResponseRules.Count];
        for (int i = 0; i < _rules.Length; i++)
        {
            var r = config.TcpResponseRules[i];
            _rules[i] = (r.Action, r.Condition is null ? null : new CompiledCondition(r.Condition));
        }
    }

    /// <summary>`tcp-response inspect-delay` in milliseconds; 0: the rules decide on the first bytes the server sends.</summary>
    public long InspectDelayMs { get; }

    /// <summary>Runs the rules on the payload <paramref name="ctx"/> holds (the server's bytes).</summary>
    public TcpResponseVerdict Run(SampleContext ctx)
    {
        foreach (var (action, condition) in _rules)
        {
            ctx.PayloadIncomplete = false;
            ctx.ResetScratch();
            bool holds = condition is null || condition.Evaluate(ctx);
            // As tcp-request content: more bytes cannot undo an `if` that holds, but can undo what an `unless` made of a miss.
            if (ctx.PayloadIncomplete && !(holds && !condition!.Unless)) return TcpResponseVerdict.NeedMore;
            if (!holds) continue;
            return action switch
            {
                TcpResponseAction.Reject => TcpResponseVerdict.Reject,
                TcpResponseAction.Close => TcpResponseVerdict.Close,
                _ => TcpResponseVerdict.Accept,
            };
        }
        return TcpResponseVerdict.Accept;
    }
}

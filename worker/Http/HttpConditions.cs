using Proxy.Shared.Config;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Http;

/// <summary>
/// One `acl` line compiled for matching (doc/configuration.txt 7.1): its sample expression and its patterns. A
/// fetch with one value per header occurrence or cookie is tried value by value until one matches (7.3.6 "hdr").
/// Matching allocates nothing. At `tcp-request connection` time the context has no request: a layer-7 fetch then has
/// no sample and matches nothing (the config admits only layer-4 ACLs there anyway).
/// </summary>
internal sealed class CompiledAcl(AclConfig acl)
{
    /// <summary>How many values of a multi-valued fetch an ACL tries (tune.http.maxhdr bounds the headers anyway).</summary>
    private const int MaxValues = 1024;

    private readonly CompiledSampleExpr _expr = new(acl.Expr);
    private readonly PatternSet _patterns = new(acl.Match, acl.IgnoreCase, acl.Values);

    /// <summary>True when any pattern matches (7.1: the patterns of one ACL are ORed).</summary>
    public bool Matches(SampleContext ctx)
    {
        if (!_expr.IsMultiValued)
        {
            ctx.ResetScratch();
            return _expr.TryEvaluate(ctx, out var s) && _patterns.Find(ctx, s) >= 0;
        }
        for (int i = 0; i < MaxValues; i++)
        {
            ctx.ResetScratch();
            if (!_expr.TryEvaluate(ctx, i, out var s)) return false;
            if (_patterns.Find(ctx, s) >= 0) return true;
        }
        return false;
    }
}

/// <summary>An `if|unless` condition compiled: OR of ANDs of (negated) ACL names, each name an OR of its lines.</summary>
internal sealed class CompiledCondition
{
    private readonly bool _unless;

    /// <summary>`unless COND`: the condition holds when COND does not.</summary>
    public bool Unless => _unless;
    private readonly (bool Negated, CompiledAcl[] Acls)[][] _anyOf;

    public CompiledCondition(ConditionConfig condition)
    {
        _unless = condition.Unless;
        _anyOf = new (bool, CompiledAcl[])[condition.AnyOf.Count][];
        for (int i = 0; i < _anyOf.Length; i++)
        {
            var terms = condition.AnyOf[i];
            _anyOf[i] = new (bool, CompiledAcl[])[terms.Count];
            for (int j = 0; j < terms.Count; j++)
            {
                var acls = new CompiledAcl[terms[j].Acls.Count];
                for (int k = 0; k < acls.Length; k++) acls[k] = new CompiledAcl(terms[j].Acls[k]);
                _anyOf[i][j] = (terms[j].Negated, acls);
            }
        }
    }

    /// <summary>Evaluates the condition (7.2: `unless` negates the whole result).</summary>
    public bool Evaluate(SampleContext ctx)
    {
        bool result = false;
        foreach (var all in _anyOf)
        {
            bool ok = true;
            foreach (var (negated, acls) in all)
            {
                bool any = false;
                foreach (var acl in acls)
                    if (acl.Matches(ctx)) { any = true; break; }
                if (any == negated) { ok = false; break; }
            }
            if (ok) { result = true; break; }
        }
        return result != _unless;
    }
}

/// <summary>Pieces of a request-target (RFC 9112 3.2).</summary>
internal static class HttpTargets
{
    /// <summary>The path of origin-form or absolute-form (query excluded), as HAProxy's `path` fetch; empty for authority-form.</summary>
    public static ReadOnlySpan<byte> Path(ReadOnlySpan<byte> target)
    {
        if (target.Length > 0 && target[0] != '/' && target[0] != '*')
        {
            int scheme = target.IndexOf("://"u8);
            if (scheme < 0) return default;    // authority-form (CONNECT)
            target = target[(scheme + 3)..];
            int slash = target.IndexOf((byte)'/');
            if (slash < 0) return default;
            target = target[slash..];
        }
        int q = target.IndexOf((byte)'?');
        return q < 0 ? target : target[..q];
    }
}

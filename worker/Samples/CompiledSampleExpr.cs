using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// A sample expression compiled for the request path: the fetch, then each converter in turn (7.3 "Fetching
/// samples"). A converter that fails (wrong input, no room in scratch) leaves no sample, as in HAProxy.
/// </summary>
internal sealed class CompiledSampleExpr
{
    private readonly SampleFetcher _fetch;
    private readonly SampleConverter[] _converters;

    public CompiledSampleExpr(SampleExpr expr)
    {
        Text = expr.Text;
        _fetch = new SampleFetcher(expr.Fetch);
        _converters = new SampleConverter[expr.Converters.Count];
        for (int i = 0; i < _converters.Length; i++) _converters[i] = new SampleConverter(expr.Converters[i]);
    }

    public string Text { get; }

    /// <summary>See <see cref="SampleFetcher.IsMultiValued"/>.</summary>
    public bool IsMultiValued => _fetch.IsMultiValued;

    /// <summary>The expression's value (the last occurrence of a header...): false when there is no sample.</summary>
    public bool TryEvaluate(SampleContext ctx, out Sample s) => TryEvaluate(ctx, -1, out s);

    /// <summary>Value number <paramref name="iteration"/> of a multi-valued fetch, converted (ACLs), or -1 for the single value.</summary>
    public bool TryEvaluate(SampleContext ctx, int iteration, out Sample s)
    {
        if (!_fetch.TryFetch(ctx, iteration, out s)) return false;
        for (int i = 0; i < _converters.Length; i++)
        {
            if (!_converters[i].TryConvert(ctx, ref s))
            {
                s = Sample.None;
                return false;
            }
        }
        return true;
    }

    /// <summary>Appends the value as text to <paramref name="dest"/> at <paramref name="p"/>; false when there is no sample (nothing written) or no room.</summary>
    public bool TryWriteText(SampleContext ctx, Span<byte> dest, ref int p)
    {
        if (!TryEvaluate(ctx, out var s) || !SampleText.TryAsBytes(ctx, s, out var text)) return false;
        if (!text.TryCopyTo(dest[p..])) return false;
        p += text.Length;
        return true;
    }
}

using Proxy.Shared.Config;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Tables;

/// <summary>
/// One `track-scN KEY [table T]` compiled, for whichever rule set runs it (`http-request`, `tcp-request connection`;
/// `tcp-request content` can run it the same way): the key's expression and the table, found when first used.
/// </summary>
internal sealed class CompiledTrack(TrackScConfig config)
{
    private readonly CompiledSampleExpr _key = new(config.Key);
    // `track-scN src` (the usual key): the client's address is written straight into the key, not through the
    // session's scratch space, which a fetch would rent (16 KiB from the shared pool) on every request (issue 19).
    private readonly bool _plainSource = config.Key.Fetch.Kind == SampleFetchKind.Src && config.Key.Converters.Count == 0;
    private Shared.Tables.StickTableFile? _table;

    public int Counter => config.Counter;

    /// <summary>
    /// Tracks the key in the counter (nothing when the counter is already tracked, the key has no sample or the table
    /// is not mapped); <paramref name="forRequest"/>: released when the request ends, else when the connection does.
    /// </summary>
    public void Run(SampleContext ctx, bool forRequest)
    {
        if (ctx.Tracker is { } existing && existing.IsTracked(config.Counter)) return;
        var table = _table ??= StickTables.Find(config.Table);
        if (table is null) return;
        Span<byte> key = stackalloc byte[256];
        if (table.Layout.KeyLength > key.Length) return;
        ctx.ResetScratch();   // a string key's text is written there
        int n;
        if (_plainSource)
        {
            Span<byte> address = stackalloc byte[16];
            int length = ctx.Client is { } client ? SampleFetcher.WriteAddress(client.Address, address) : -1;
            if (length < 0) return;
            n = StickKey.Write(ctx, Sample.OfIp(address[..length]), table.Config.KeyType, table.Layout.KeyLength, key);
        }
        else
        {
            if (!_key.TryEvaluate(ctx, out var s)) return;
            n = StickKey.Write(ctx, s, table.Config.KeyType, table.Layout.KeyLength, key);
        }
        if (n < 0) return;
        ctx.EnsureTracker().Track(config.Counter, table, key[..n], forRequest, Environment.TickCount64);
    }
}

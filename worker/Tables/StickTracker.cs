using Proxy.Shared.Tables;

namespace Proxy.Worker.Tables;

/// <summary>
/// The stick counters sc0..sc2 of one client connection (HAProxy's stkctr of a session and its streams): which
/// entry each tracks, and whether it was tracked for the connection (`tcp-request connection|session track-sc`) or
/// for the current request (`http-request track-sc`, released when the request ends, as HAProxy's stream ends).
/// While tracked, an entry's conn_cur holds this connection (this worker's cell), and each request counts in
/// http_req_cnt/http_req_rate. Made once per session that tracks (SampleContext.Tracker); updates allocate nothing.
/// </summary>
internal sealed unsafe class StickTracker
{
    public const int Counters = 3;

    private readonly StickTableFile?[] _tables = new StickTableFile?[Counters];
    private readonly StickRef[] _refs = [StickRef.None, StickRef.None, StickRef.None];
    private readonly bool[] _forRequest = new bool[Counters];

    // What each count updates: a table storing none of them is not entered (no bucket lock taken for nothing).
    private static readonly uint ErrorTypes = StickTableLayout.MaskOf(StickDataType.HttpErrCnt, StickDataType.HttpErrRate);
    private static readonly uint ByteTypes = StickTableLayout.MaskOf(StickDataType.BytesInCnt, StickDataType.BytesInRate)
        | StickTableLayout.MaskOf(StickDataType.BytesOutCnt, StickDataType.BytesOutRate);

    public bool IsTracked(int counter) => _tables[counter] is not null;
    public StickTableFile? TableOf(int counter) => _tables[counter];
    public StickRef RefOf(int counter) => _refs[counter];

    /// <summary>
    /// Tracks <paramref name="key"/> of <paramref name="table"/> in <paramref name="counter"/> unless it tracks something
    /// already (4.2 "track-sc0": a counter is tracked once). Counts a connection and a session (conn_cnt, conn_rate,
    /// conn_cur, sess_cnt, sess_rate) and, for a request, the request (http_req_cnt, http_req_rate).
    /// </summary>
    public void Track(int counter, StickTableFile table, ReadOnlySpan<byte> key, bool forRequest, long now)
    {
        if (_tables[counter] is not null) return;
        // One bucket lock hold finds (or makes) the entry and counts on it.
        byte* e = table.AcquireEntered(key, now, out var r);
        if (e == null) return;   // full and nothing could go: not tracked, as HAProxy when stktable_get_entry fails
        table.AddConnCur(e, StickTables.Column, 1);
        if (!forRequest)
        {
            table.Add(e, StickDataType.ConnCnt, now, 1);
            table.Add(e, StickDataType.ConnRate, now, 1);
            table.Add(e, StickDataType.SessCnt, now, 1);
            table.Add(e, StickDataType.SessRate, now, 1);
        }
        else
        {
            table.Add(e, StickDataType.HttpReqCnt, now, 1);
            table.Add(e, StickDataType.HttpReqRate, now, 1);
        }
        table.Release(e);
        _tables[counter] = table;
        _refs[counter] = r;
        _forRequest[counter] = forRequest;
    }

    /// <summary>A new request on the connection: the previous request's counters are released, the connection's count it.</summary>
    public void BeginRequest(long now)
    {
        EndRequest();
        for (int c = 0; c < Counters; c++)
        {
            if (_tables[c] is not { } table) continue;
            byte* e = table.Enter(_refs[c]);
            if (e == null) continue;
            table.Add(e, StickDataType.HttpReqCnt, now, 1);
            table.Add(e, StickDataType.HttpReqRate, now, 1);
            table.Renew(e, now);
            table.Release(e);
        }
    }

    /// <summary>An HTTP error for the client (a 4xx answer): http_err_cnt and http_err_rate of every tracked entry.</summary>
    public void CountError(long now)
    {
        for (int c = 0; c < Counters; c++)
        {
            if (_tables[c] is not { } table || !table.Layout.StoresAny(ErrorTypes)) continue;
            byte* e = table.Enter(_refs[c]);
            if (e == null) continue;
            table.Add(e, StickDataType.HttpErrCnt, now, 1);
            table.Add(e, StickDataType.HttpErrRate, now, 1);
            table.Release(e);
        }
    }

    /// <summary>Bytes from the client (<paramref name="inBytes"/>) and to it: bytes_in/out_cnt and their rates.</summary>
    public void CountBytes(long inBytes, long outBytes, long now)
    {
        for (int c = 0; c < Counters; c++)
        {
            if (_tables[c] is not { } table || !table.Layout.StoresAny(ByteTypes)) continue;
            byte* e = table.Enter(_refs[c]);
            if (e == null) continue;
            table.Add(e, StickDataType.BytesInCnt, now, inBytes);
            table.Add(e, StickDataType.BytesInRate, now, inBytes);
            table.Add(e, StickDataType.BytesOutCnt, now, outBytes);
            table.Add(e, StickDataType.BytesOutRate, now, outBytes);
            table.Release(e);
        }
    }

    /// <summary>`sc-inc-gpc0|1`, `sc-inc-gpc(I)` (with gpc0_rate/gpc1_rate) and `sc-set-gpt0` on <paramref name="counter"/>.</summary>
    public void Apply(Shared.Config.StickActionKind kind, int counter, int index, long value, long now)
    {
        if (_tables[counter] is not { } table) return;
        byte* e = table.Enter(_refs[counter]);
        if (e == null) return;
        switch (kind)
        {
            case Shared.Config.StickActionKind.IncGpc0:
                table.Add(e, StickDataType.Gpc0, now, 1);
                table.Add(e, StickDataType.Gpc0Rate, now, 1);
                break;
            case Shared.Config.StickActionKind.IncGpc1:
                table.Add(e, StickDataType.Gpc1, now, 1);
                table.Add(e, StickDataType.Gpc1Rate, now, 1);
                break;
            case Shared.Config.StickActionKind.IncGpc:
                table.Add(e, StickDataType.Gpc, now, 1, index);
                break;
            default:
                table.Set(e, StickDataType.Gpt0, now, value);
                break;
        }
        table.Release(e);
    }

    /// <summary>Releases the counters tracked for the request that ended.</summary>
    public void EndRequest()
    {
        for (int c = 0; c < Counters; c++)
            if (_forRequest[c]) Untrack(c);
    }

    /// <summary>The connection ended: every counter is released (conn_cur goes back down).</summary>
    public void EndSession()
    {
        for (int c = 0; c < Counters; c++) Untrack(c);
    }

    private void Untrack(int c)
    {
        if (_tables[c] is not { } table) return;
        byte* e = table.Enter(_refs[c]);
        if (e != null)
        {
            table.AddConnCur(e, StickTables.Column, -1);
            table.Renew(e, Environment.TickCount64);
            table.Release(e);
        }
        _tables[c] = null;
        _refs[c] = StickRef.None;
        _forRequest[c] = false;
    }

    /// <summary>
    /// What a fetch reads on entry <paramref name="r"/> of <paramref name="table"/> (Proxy.Shared.Tables.StickFetches):
    /// false when the entry is gone or the table does not store the type (no sample, as HAProxy).
    /// </summary>
    public static bool TryRead(StickTableFile table, StickRef r, StickDataType type, StickFetchOp op, long now, out long value)
    {
        value = 0;
        if (op == StickFetchOp.Tracked) return false;
        if (op != StickFetchOp.Trackers && !table.Stores(type)) return false;
        byte* e = table.Enter(r);
        if (e == null) return false;
        switch (op)
        {
            case StickFetchOp.Inc:
                table.Add(e, type, now, 1);
                table.Add(e, type == StickDataType.Gpc0 ? StickDataType.Gpc0Rate : StickDataType.Gpc1Rate, now, 1);
                value = table.Read(e, type, now);
                break;
            case StickFetchOp.Clear:
                value = table.Read(e, type, now);
                table.Set(e, type, now, 0);
                break;
            case StickFetchOp.Kilo:
                value = table.Read(e, type, now) >> 10;
                break;
            default:
                value = table.Read(e, type, now);
                break;
        }
        table.Release(e);
        return true;
    }
}

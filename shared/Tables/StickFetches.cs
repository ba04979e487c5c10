namespace Proxy.Shared.Tables;

/// <summary>What a stick-table fetch or converter does with the entry (7.3.3 "sc_*", "src_*", 7.3.1 "table_*").</summary>
public enum StickFetchOp : byte
{
    /// <summary>The stored value (a counter, a rate over its period, gpt0, server_id, conn_cur summed).</summary>
    Read,
    /// <summary>`*_kbytes_in|out`: bytes_in|out_cnt / 1024.</summary>
    Kilo,
    /// <summary>`*_inc_gpc0|1`: adds 1 and returns the new value.</summary>
    Inc,
    /// <summary>`*_clr_gpc0|1`: sets 0 and returns the previous value.</summary>
    Clear,
    /// <summary>`sc_tracked`: the counter is tracked (boolean).</summary>
    Tracked,
    /// <summary>`*_trackers`: the entry's conn_cur (trackers holding it here).</summary>
    Trackers,
}

/// <summary>
/// The data part of the fetch names (`http_req_rate` in `sc0_http_req_rate`, `src_http_req_rate`,
/// `table_http_req_rate`): the type it reads and how. One table serves the sample registry (Proxy.Shared.Config) and the
/// worker's evaluation.
/// </summary>
public static class StickFetches
{
    public static readonly (string Suffix, StickDataType Type, StickFetchOp Op)[] Table =
    [
        ("bytes_in_rate", StickDataType.BytesInRate, StickFetchOp.Read),
        ("bytes_out_rate", StickDataType.BytesOutRate, StickFetchOp.Read),
        ("clr_gpc0", StickDataType.Gpc0, StickFetchOp.Clear),
        ("clr_gpc1", StickDataType.Gpc1, StickFetchOp.Clear),
        ("conn_cnt", StickDataType.ConnCnt, StickFetchOp.Read),
        ("conn_cur", StickDataType.ConnCur, StickFetchOp.Read),
        ("conn_rate", StickDataType.ConnRate, StickFetchOp.Read),
        ("get_gpc0", StickDataType.Gpc0, StickFetchOp.Read),
        ("get_gpc1", StickDataType.Gpc1, StickFetchOp.Read),
        ("get_gpt0", StickDataType.Gpt0, StickFetchOp.Read),
        ("gpc0_rate", StickDataType.Gpc0Rate, StickFetchOp.Read),
        ("gpc1_rate", StickDataType.Gpc1Rate, StickFetchOp.Read),
        ("http_err_cnt", StickDataType.HttpErrCnt, StickFetchOp.Read),
        ("http_err_rate", StickDataType.HttpErrRate, StickFetchOp.Read),
        ("http_req_cnt", StickDataType.HttpReqCnt, StickFetchOp.Read),
        ("http_req_rate", StickDataType.HttpReqRate, StickFetchOp.Read),
        ("inc_gpc0", StickDataType.Gpc0, StickFetchOp.Inc),
        ("inc_gpc1", StickDataType.Gpc1, StickFetchOp.Inc),
        ("kbytes_in", StickDataType.BytesInCnt, StickFetchOp.Kilo),
        ("kbytes_out", StickDataType.BytesOutCnt, StickFetchOp.Kilo),
        ("sess_cnt", StickDataType.SessCnt, StickFetchOp.Read),
        ("sess_rate", StickDataType.SessRate, StickFetchOp.Read),
        ("tracked", StickDataType.ConnCur, StickFetchOp.Tracked),
        ("trackers", StickDataType.ConnCur, StickFetchOp.Trackers),
    ];

    /// <summary>The converters `table_X(TABLE)` (7.3.1): the value names HAProxy gives them.</summary>
    public static readonly (string Suffix, StickDataType Type, StickFetchOp Op)[] Converters =
    [
        ("bytes_in_rate", StickDataType.BytesInRate, StickFetchOp.Read),
        ("bytes_out_rate", StickDataType.BytesOutRate, StickFetchOp.Read),
        ("conn_cnt", StickDataType.ConnCnt, StickFetchOp.Read),
        ("conn_cur", StickDataType.ConnCur, StickFetchOp.Read),
        ("conn_rate", StickDataType.ConnRate, StickFetchOp.Read),
        ("gpt0", StickDataType.Gpt0, StickFetchOp.Read),
        ("gpc0", StickDataType.Gpc0, StickFetchOp.Read),
        ("gpc0_rate", StickDataType.Gpc0Rate, StickFetchOp.Read),
        ("gpc1", StickDataType.Gpc1, StickFetchOp.Read),
        ("gpc1_rate", StickDataType.Gpc1Rate, StickFetchOp.Read),
        ("http_err_cnt", StickDataType.HttpErrCnt, StickFetchOp.Read),
        ("http_err_rate", StickDataType.HttpErrRate, StickFetchOp.Read),
        ("http_req_cnt", StickDataType.HttpReqCnt, StickFetchOp.Read),
        ("http_req_rate", StickDataType.HttpReqRate, StickFetchOp.Read),
        ("kbytes_in", StickDataType.BytesInCnt, StickFetchOp.Kilo),
        ("kbytes_out", StickDataType.BytesOutCnt, StickFetchOp.Kilo),
        ("server_id", StickDataType.ServerId, StickFetchOp.Read),
        ("sess_cnt", StickDataType.SessCnt, StickFetchOp.Read),
        ("sess_rate", StickDataType.SessRate, StickFetchOp.Read),
        ("trackers", StickDataType.ConnCur, StickFetchOp.Trackers),
    ];

    /// <summary>The data part of fetch <paramref name="name"/> after its prefix (`sc_`, `sc0_`, `src_`); false when none.</summary>
    public static bool TryFind(string suffix, out StickDataType type, out StickFetchOp op, bool converter = false)
    {
        foreach (var (s, t, o) in converter ? Converters : Table)
        {
            if (s != suffix) continue;
            type = t;
            op = o;
            return true;
        }
        type = default;
        op = default;
        return false;
    }

    /// <summary>`sc_X` (counter as argument): -1; `scN_X`: N; `src_X`: -2; else null. <paramref name="suffix"/> is X.</summary>
    public static int? Source(string name, out string suffix)
    {
        suffix = "";
        if (name.StartsWith("sc_", StringComparison.Ordinal)) { suffix = name[3..]; return -1; }
        if (name.Length > 4 && name.StartsWith("sc", StringComparison.Ordinal) && name[2] is >= '0' and <= '2' && name[3] == '_')
        {
            suffix = name[4..];
            return name[2] - '0';
        }
        if (name.StartsWith("src_", StringComparison.Ordinal)) { suffix = name[4..]; return -2; }
        return null;
    }
}

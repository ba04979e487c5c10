namespace Proxy.Shared.Tables;

/// <summary>
/// What a stick table stores per entry (doc/configuration.txt 4.2 "stick-table", `store`): counters (`*_cnt`, gpc),
/// rates (`*_rate(PERIOD)`, HAProxy's frequency counters), values (gpt0, server_id) and conn_cur, counted per worker
/// slot (StickTableFile). server_key holds a hash of the server's name (HAProxy keeps the name in a dictionary; the
/// supervisor prints the name back: StickServerKey). The names are HAProxy's, and so is the order `show table` prints them in.
/// At most 32 members: StickTableLayout.StoredMask has one bit per type (StickTableLayoutMaskTests checks).
/// </summary>
public enum StickDataType : byte
{
    ServerId, Gpt0, Gpc0, Gpc0Rate, ConnCnt, ConnRate, ConnCur, SessCnt, SessRate, HttpReqCnt, HttpReqRate,
    HttpErrCnt, HttpErrRate, BytesInCnt, BytesInRate, BytesOutCnt, BytesOutRate, Gpc1, Gpc1Rate, ServerKey, Gpc,
}

/// <summary>How a data type is held: one 64-bit value, a frequency counter, per-slot conn_cur cells, or gpc's array.</summary>
public enum StickDataShape : byte { Value, Rate, PerSlot, Array }

/// <summary>One `store` item: its type, its period (rates, ms) or element count (`gpc(N)`).</summary>
public readonly record struct StickDataSpec(StickDataType Type, int Period = 0, int Count = 0)
{
    public string Name => StickDataTypes.NameOf(Type);
    public StickDataShape Shape => StickDataTypes.ShapeOf(Type);

    /// <summary>As `show table` and the config write it: `http_req_rate(10000)`, `gpc(2)`, `conn_cur`.</summary>
    public override string ToString() => Shape switch
    {
        StickDataShape.Rate => $"{Name}({Period})",
        StickDataShape.Array => $"{Name}({Count})",
        _ => Name,
    };
}

/// <summary>The names of the data types and their shapes (HAProxy's stktable_data_types[]).</summary>
public static class StickDataTypes
{
    private static readonly (string Name, StickDataType Type)[] Table =
    [
        ("server_id", StickDataType.ServerId), ("gpt0", StickDataType.Gpt0), ("gpc0", StickDataType.Gpc0),
        ("gpc0_rate", StickDataType.Gpc0Rate), ("conn_cnt", StickDataType.ConnCnt), ("conn_rate", StickDataType.ConnRate),
        ("conn_cur", StickDataType.ConnCur), ("sess_cnt", StickDataType.SessCnt), ("sess_rate", StickDataType.SessRate),
        ("http_req_cnt", StickDataType.HttpReqCnt), ("http_req_rate", StickDataType.HttpReqRate),
        ("http_err_cnt", StickDataType.HttpErrCnt), ("http_err_rate", StickDataType.HttpErrRate),
        ("bytes_in_cnt", StickDataType.BytesInCnt), ("bytes_in_rate", StickDataType.BytesInRate),
        ("bytes_out_cnt", StickDataType.BytesOutCnt), ("bytes_out_rate", StickDataType.BytesOutRate),
        ("gpc1", StickDataType.Gpc1), ("gpc1_rate", StickDataType.Gpc1Rate), ("server_key", StickDataType.ServerKey),
        ("gpc", StickDataType.Gpc),
    ];

    public static string NameOf(StickDataType type) => Table[(int)type].Name;

    public static bool TryParse(string name, out StickDataType type)
    {
        foreach (var (n, t) in Table)
            if (n == name) { type = t; return true; }
        type = default;
        return false;
    }

    public static StickDataShape ShapeOf(StickDataType type) => type switch
    {
        StickDataType.Gpc0Rate or StickDataType.Gpc1Rate or StickDataType.ConnRate or StickDataType.SessRate
            or StickDataType.HttpReqRate or StickDataType.HttpErrRate or StickDataType.BytesInRate or StickDataType.BytesOutRate
            => StickDataShape.Rate,
        StickDataType.ConnCur => StickDataShape.PerSlot,
        StickDataType.Gpc => StickDataShape.Array,
        _ => StickDataShape.Value,
    };
}

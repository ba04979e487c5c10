using Proxy.Shared.Tables;

namespace Proxy.Shared.Config;

/// <summary>`stick-table type ip|ipv6|integer|string|binary` (doc/configuration.txt 4.2 "stick-table").</summary>
public enum StickKeyType : byte { Ip, Ipv6, Integer, String, Binary }

/// <summary>
/// One `stick-table type T [len N] size N [expire T] [nopurge] [peers P] [store DATA,...]` line, in the proxy
/// <paramref name="Name"/> (a table is named by its proxy). <paramref name="KeyLength"/> is the key's bytes (4 for ip
/// and integer, 16 for ipv6, `len` for string and binary, 32 by default); <paramref name="ExpireMs"/> 0: never.
/// </summary>
public sealed record StickTableConfig(string Name, StickKeyType KeyType, int KeyLength, int Size, long ExpireMs, bool NoPurge,
    string? Peers, IReadOnlyList<StickDataSpec> Store, SourceLocation Location)
{
    /// <summary>The type as `show table` prints it (HAProxy's stktable_types[].kw).</summary>
    public string TypeName => KeyType switch
    {
        StickKeyType.Ip => "ip", StickKeyType.Ipv6 => "ipv6", StickKeyType.Integer => "integer",
        StickKeyType.String => "string", _ => "binary",
    };

    /// <summary>The store item of <paramref name="type"/>, or null when the table does not store it.</summary>
    public StickDataSpec? Find(StickDataType type)
    {
        foreach (var s in Store)
            if (s.Type == type) return s;
        return null;
    }
}

/// <summary>
/// `track-sc0|1|2 KEY [table T]` (4.2 "http-request track-sc0", "tcp-request connection track-sc0"): the connection
/// (or request) is tracked in counter <paramref name="Counter"/> on the entry of KEY in table <paramref name="Table"/>
/// (the proxy's own when not named).
/// </summary>
public sealed record TrackScConfig(int Counter, SampleExpr Key, string Table, SourceLocation Location);

/// <summary>`sc-inc-gpc0|sc-inc-gpc1|sc-inc-gpc|sc-set-gpt0` (4.2 "http-request sc-inc-gpc0").</summary>
public enum StickActionKind : byte { IncGpc0, IncGpc1, IncGpc, SetGpt0 }

/// <summary>
/// One of the actions on a tracked counter: <paramref name="Counter"/> is the sc number, <paramref name="Index"/> the
/// gpc element (`sc-inc-gpc(IDX,SC)`), <paramref name="Value"/> or <paramref name="ValueExpr"/> what sc-set-gpt0 sets.
/// </summary>
public sealed record StickActionConfig(StickActionKind Kind, int Counter, int Index, long Value, SampleExpr? ValueExpr);

/// <summary>`stick on|match|store-request|store-response` (4.2 "stick match", "stick on", "stick store-request", "stick store-response").</summary>
public enum StickRuleKind : byte { On, Match, StoreRequest, StoreResponse }

/// <summary>
/// One `stick KIND KEY [table T] [if|unless COND]` line of a backend: <see cref="StickRuleKind.On"/> matches and stores
/// (`stick match` + `stick store-request`), KEY is a sample expression, <paramref name="Table"/> the proxy's own table
/// when not named. The table stores server_id and server_key for it (HAProxy allocates both for every stick rule).
/// </summary>
public sealed record StickRuleConfig(StickRuleKind Kind, SampleExpr Key, string Table, ConditionConfig? Condition, SourceLocation Location)
{
    public bool Matches => Kind is StickRuleKind.On or StickRuleKind.Match;
    public bool StoresRequest => Kind is StickRuleKind.On or StickRuleKind.StoreRequest;
}

using Proxy.Shared.Config;
using Proxy.Shared.Tables;
using Proxy.Worker.Http;
using Proxy.Worker.Samples;
using Proxy.Worker.Tables;

namespace Proxy.Worker.Persistence;

/// <summary>
/// A backend's `stick on|match|store-request|store-response` rules compiled (doc/configuration.txt 4.2 "stick match"
/// and the others), after HAProxy's process_sticking_rules and process_store_rules: <see cref="Match"/> runs once the
/// cookie and `use-server` assigned nothing and gives the server a table entry names, <see cref="Store"/> runs once the
/// server answered (mode http) or was connected (mode tcp) and writes that server into the entries of the store rules.
/// An entry holds server_id (the server's position, HAProxy's puid when no `id` is set) and server_key (a hash of its
/// name, StickServerKey); a match looks for the name first, as HAProxy 2.6 does, so a reload that reorders the servers
/// keeps the clients where they were. Nothing here allocates.
/// </summary>
internal sealed class StickRules
{
    private readonly Rule[] _rules;
    private readonly ServerRuntime[] _servers;
    private readonly long[] _serverKeys;
    private readonly bool _persist;

    private sealed class Rule(StickRuleConfig config)
    {
        public readonly StickRuleConfig Config = config;
        public readonly CompiledSampleExpr Key = new(config.Key);
        public readonly CompiledCondition? Condition = config.Condition is { } c ? new CompiledCondition(c) : null;
        public StickTableFile? Table;
    }

    private StickRules(BackendRuntime be)
    {
        _rules = new Rule[be.Config.StickRules.Count];
        for (int i = 0; i < _rules.Length; i++) _rules[i] = new Rule(be.Config.StickRules[i]);
        _servers = be.Servers;
        _serverKeys = new long[_servers.Length];
        for (int i = 0; i < _servers.Length; i++) _serverKeys[i] = StickServerKey.Of(_servers[i].Name);
        _persist = be.Config.Persistence.Persist;
    }

    /// <summary>The compiled rules of <paramref name="be"/>, or null when it has none.</summary>
    public static StickRules? Create(BackendRuntime be) => be.Config.StickRules.Count == 0 ? null : new StickRules(be);

    /// <summary>
    /// `stick match` / `stick on`: the server of the first rule whose condition holds and whose key has an entry
    /// naming a server that may take the request: running, or any with `option persist` or <paramref name="forced"/>
    /// (`force-persist`); HAProxy's SF_DIRECT|SF_ASSIGNED. Each entry found is renewed. Null: the balancer chooses.
    /// </summary>
    public unsafe ServerRuntime? Match(SampleContext ctx, bool forced)
    {
        ServerRuntime? assigned = null;
        Span<byte> key = stackalloc byte[256];
        long now = Environment.TickCount64;
        foreach (var rule in _rules)
        {
            if (!rule.Config.Matches || !Holds(rule, ctx)) continue;
            var table = rule.Table ??= StickTables.Find(rule.Config.Table);
            int n = KeyOf(rule, table, ctx, key);
            if (n < 0) continue;
            var r = table!.Find(key[..n], now);
            if (r.IsNone) continue;
            byte* e = table.Enter(r);
            if (e == null) continue;
            long id = table.Read(e, StickDataType.ServerId, now);
            long name = table.Read(e, StickDataType.ServerKey, now);
            table.Renew(e, now);
            table.Release(e);
            if (assigned is not null) continue;
            var server = Find(name, id);
            if (server is not null && (BackendPersistence.IsRunning(server) || _persist || forced)) assigned = server;
        }
        return assigned;
    }

    /// <summary>
    /// `stick on` / `stick store-request` (<paramref name="response"/> false) or `stick store-response` (true): the
    /// key of each rule whose condition holds gets an entry naming <paramref name="server"/>, the first rule of a table
    /// only (HAProxy stores once per table and stream). An entry that existed is rewritten: a client whose server went
    /// down sticks to the one that took it.
    /// </summary>
    public unsafe void Store(SampleContext ctx, ServerRuntime server, bool response)
    {
        Span<byte> key = stackalloc byte[256];
        long now = Environment.TickCount64;
        for (int i = 0; i < _rules.Length; i++)
        {
            var rule = _rules[i];
            if ((response ? rule.Config.Kind != StickRuleKind.StoreResponse : !rule.Config.StoresRequest) || !Holds(rule, ctx)) continue;
            if (StoredEarlier(i, rule.Config.Table, response)) continue;
            var table = rule.Table ??= StickTables.Find(rule.Config.Table);
            int n = KeyOf(rule, table, ctx, key);
            if (n < 0) continue;
            var r = table!.Acquire(key[..n], now);
            if (r.IsNone) continue;   // full under `nopurge`: the first stored keeps its place (the Galera pattern)
            byte* e = table.Enter(r);
            if (e == null) continue;
            table.Set(e, StickDataType.ServerId, now, server.Index + 1);
            table.Set(e, StickDataType.ServerKey, now, _serverKeys[server.Index]);
            table.Release(e);
        }
    }

    /// <summary>Whether a rule before <paramref name="index"/> of the same phase already stores into <paramref name="table"/>.</summary>
    private bool StoredEarlier(int index, string table, bool response)
    {
        for (int j = 0; j < index; j++)
        {
            var c = _rules[j].Config;
            if (c.Table == table && (response ? c.Kind == StickRuleKind.StoreResponse : c.StoresRequest)) return true;
        }
        return false;
    }

    private static bool Holds(Rule rule, SampleContext ctx)
    {
        if (rule.Condition is null) return true;
        ctx.ResetScratch();
        return rule.Condition.Evaluate(ctx);
    }

    /// <summary>The rule's key as the table stores it, in <paramref name="key"/>; its length, -1 when there is none.</summary>
    private static int KeyOf(Rule rule, StickTableFile? table, SampleContext ctx, Span<byte> key)
    {
        if (table is null || table.Layout.KeyLength > key.Length) return -1;
        ctx.ResetScratch();
        if (!rule.Key.TryEvaluate(ctx, out var s)) return -1;
        return StickKey.Write(ctx, s, table.Config.KeyType, table.Layout.KeyLength, key);
    }

    /// <summary>The server whose name hashes to <paramref name="name"/>, else the one at position <paramref name="id"/>.</summary>
    private ServerRuntime? Find(long name, long id)
    {
        if (name != 0)
            for (int i = 0; i < _serverKeys.Length; i++)
                if (_serverKeys[i] == name) return _servers[i];
        return id >= 1 && id <= _servers.Length ? _servers[id - 1] : null;
    }
}

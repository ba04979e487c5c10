using System.Globalization;
using System.Net;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Tables;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Supervisor;

/// <summary>
/// `show table [NAME [data.TYPE OP VALUE] [key KEY]]`, `clear table NAME [data.TYPE OP VALUE] [key KEY]` and
/// `set table NAME key KEY [data.TYPE VALUE]...` (doc/management.txt 9.3), in HAProxy 2.6's format, read straight
/// from the shared mapping (StickTableStore): what every worker sees, whichever wrote it.
/// </summary>
public sealed partial class ControlCommands
{
    private Task<string> ShowTable(string[] words, CliSession session)
    {
        var tables = supervisor.Tables;
        var config = supervisor.Config;
        var sb = new StringBuilder();
        if (words.Length == 2)
        {
            // HAProxy walks its proxies from the last declared to the first.
            var all = tables.All(config);
            for (int i = all.Count - 1; i >= 0; i--) AppendHead(sb, all[i]);
            return Task.FromResult(sb.ToString());
        }
        if (tables.Find(words[2]) is not { } table) return Task.FromResult("No such table\n");
        if (!TryFilters(table, words, 3, out var filter, out var key, out string? error)) return Task.FromResult(error!);
        long now = Environment.TickCount64;
        AppendHead(sb, table);
        int shown = 0;
        foreach (var e in table.Snapshot(now))
        {
            if (key is not null && !e.Key.AsSpan().SequenceEqual(key)) continue;
            if (filter is { } f && !f.Matches(table.Config, e)) continue;
            AppendEntry(sb, table, e, config);
            shown++;
        }
        // HAProxy: a key that is not in the table prints nothing, not even the head.
        return Task.FromResult(key is not null && shown == 0 ? "" : sb.ToString());
    }

    private Task<string> ClearTable(string[] words, CliSession session)
    {
        if (words.Length < 3) return Task.FromResult("Missing table name.\n");
        if (supervisor.Tables.Find(words[2]) is not { } table) return Task.FromResult("No such table\n");
        if (!TryFilters(table, words, 3, out var filter, out var key, out string? error)) return Task.FromResult(error!);
        long now = Environment.TickCount64;
        if (filter is null)
        {
            table.Clear(key, all: key is null, now);
            return Task.FromResult("");
        }
        foreach (var e in table.Snapshot(now))
            if ((key is null || e.Key.AsSpan().SequenceEqual(key)) && filter.Value.Matches(table.Config, e))
                table.Clear(e.Key, all: false, now);
        return Task.FromResult("");
    }

    private unsafe Task<string> SetTable(string[] words, CliSession session)
    {
        if (words.Length < 3) return Task.FromResult("Missing table name.\n");
        if (supervisor.Tables.Find(words[2]) is not { } table) return Task.FromResult("No such table\n");
        if (words.Length < 5 || words[3] != "key") return Task.FromResult("Key value expected\n");
        if (ParseKey(table.Config, words[4]) is not { } key) return Task.FromResult("Unable to parse the key.\n");
        var updates = new List<(StickDataType Type, int Element, long Value)>();
        for (int i = 5; i < words.Length; i += 2)
        {
            if (!TryDataName(table.Config, words[i], out var type, out int element) || i + 1 >= words.Length)
                return Task.FromResult("Data type not stored in this table\n");
            if (!long.TryParse(words[i + 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                return Task.FromResult("Require a valid integer value to store\n");
            updates.Add((type, element, v));
        }
        long now = Environment.TickCount64;
        var r = table.Acquire(key, now);
        if (r.IsNone) return Task.FromResult("Unable to allocate a new entry\n");
        byte* e = table.Enter(r);
        if (e != null)
        {
            foreach (var (type, element, v) in updates) table.Set(e, type, now, v, element);
            table.Release(e);
        }
        return Task.FromResult("");
    }

    /// <summary>`# table: NAME, type: TYPE, size:N, used:N` (HAProxy's table_dump_head_to_buffer).</summary>
    private static void AppendHead(StringBuilder sb, StickTableFile t)
        => sb.Append(CultureInfo.InvariantCulture, $"# table: {t.Config.Name}, type: {t.Config.TypeName}, size:{t.Layout.EntryCount}, used:{t.Used}\n");

    /// <summary>`0xADDR: key=K use=N exp=MS DATA=V...` (table_dump_entry_to_buffer); gpc(N) shows gpc0..gpcN-1.</summary>
    private static void AppendEntry(StringBuilder sb, StickTableFile t, StickTableFile.EntryView e, ProxyConfig config)
    {
        long trackers = 0;
        int v = 0;
        foreach (var spec in t.Config.Store)
        {
            if (spec.Type == StickDataType.ConnCur) trackers = e.Values[v];
            v += spec.Shape == StickDataShape.Array ? spec.Count : 1;
        }
        sb.Append(CultureInfo.InvariantCulture, $"0x{0x10000000L + (long)e.Index * t.Layout.EntrySize:x}: key={FormatKey(t.Config, e.Key)} use={trackers} exp={e.ExpireIn}");
        v = 0;
        foreach (var spec in t.Config.Store)
        {
            if (spec.Shape == StickDataShape.Array)
            {
                for (int k = 0; k < spec.Count; k++) sb.Append(CultureInfo.InvariantCulture, $" gpc{k}={e.Values[v++]}");
                continue;
            }
            if (spec.Type == StickDataType.ServerKey)
            {
                sb.Append(" server_key=").Append(ServerKeyName(config, t.Config.Name, e.Values[v++]));
                continue;
            }
            sb.Append(' ').Append(spec.Shape == StickDataShape.Rate ? $"{spec.Name}({spec.Period})" : spec.Name)
              .Append('=').Append(e.Values[v++].ToString(CultureInfo.InvariantCulture));
        }
        sb.Append('\n');
    }

    /// <summary>
    /// server_key as HAProxy prints it, the server's name: the server of a backend whose `stick` rules use the table
    /// and whose name hashes to <paramref name="hash"/> (StickServerKey); empty when none (never stored, or gone).
    /// </summary>
    private static string ServerKeyName(ProxyConfig config, string table, long hash)
    {
        if (hash == 0) return "";
        foreach (var be in config.Backends)
        {
            bool uses = false;
            foreach (var rule in be.StickRules) uses |= rule.Table == table;
            if (!uses) continue;
            foreach (var s in be.Servers)
                if (StickServerKey.Of(s.Name) == hash) return s.Name;
        }
        return "";
    }

    private static string FormatKey(StickTableConfig t, byte[] key) => t.KeyType switch
    {
        StickKeyType.Ip or StickKeyType.Ipv6 when key.Length is 4 or 16 => new IPAddress(key).ToString(),
        StickKeyType.Integer when key.Length == 4 => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(key).ToString(CultureInfo.InvariantCulture),
        StickKeyType.Binary => Convert.ToHexString(key),
        _ => Encoding.UTF8.GetString(key),
    };

    /// <summary>A key as `show table ... key K` and `set table` write it, as the table's type stores it; null when it is not one.</summary>
    private static byte[]? ParseKey(StickTableConfig t, string text)
    {
        switch (t.KeyType)
        {
            case StickKeyType.Ip:
                if (!IPAddress.TryParse(text, out var a4) || a4.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return null;
                return a4.GetAddressBytes();
            case StickKeyType.Ipv6:
                if (!IPAddress.TryParse(text, out var a6)) return null;
                return a6.MapToIPv6().GetAddressBytes();
            case StickKeyType.Integer:
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n)) return null;
                var b = new byte[4];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b, n);
                return b;
            case StickKeyType.Binary:
                try
                {
                    var bytes = Convert.FromHexString(text);
                    var padded = new byte[t.KeyLength];
                    bytes.AsSpan(0, Math.Min(bytes.Length, padded.Length)).CopyTo(padded);
                    return padded;
                }
                catch (FormatException)
                {
                    return null;
                }
            default:
                var s = Encoding.UTF8.GetBytes(text);
                return s.Length > t.KeyLength ? s[..t.KeyLength] : s;
        }
    }

    /// <summary>`data.TYPE`: a stored type (gpc0.. of gpc(N) by index); false when the table does not store it.</summary>
    private static bool TryDataName(StickTableConfig t, string word, out StickDataType type, out int element)
    {
        type = default;
        element = 0;
        if (!word.StartsWith("data.", StringComparison.Ordinal)) return false;
        string name = word[5..];
        if (StickDataTypes.TryParse(name, out type) && t.Find(type) is not null) return true;
        if (t.Find(StickDataType.Gpc) is { } gpc && name.StartsWith("gpc", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out element) && element < gpc.Count)
        {
            type = StickDataType.Gpc;
            return true;
        }
        return false;
    }

    /// <summary>A `data.TYPE OP VALUE` filter (eq, ne, le, ge, lt, gt) of `show table`.</summary>
    private readonly record struct TableFilter(StickDataType Type, int Element, string Op, long Value)
    {
        public bool Matches(StickTableConfig t, StickTableFile.EntryView e)
        {
            int v = 0;
            long actual = 0;
            foreach (var spec in t.Store)
            {
                if (spec.Type == Type) { actual = e.Values[v + Element]; break; }
                v += spec.Shape == StickDataShape.Array ? spec.Count : 1;
            }
            return Op switch
            {
                "eq" => actual == Value, "ne" => actual != Value, "le" => actual <= Value,
                "ge" => actual >= Value, "lt" => actual < Value, _ => actual > Value,
            };
        }
    }

    private static bool TryFilters(StickTableFile table, string[] words, int at, out TableFilter? filter, out byte[]? key, out string? error)
    {
        filter = null;
        key = null;
        error = null;
        for (int i = at; i < words.Length; i++)
        {
            if (words[i] == "key" && i + 1 < words.Length)
            {
                if ((key = ParseKey(table.Config, words[++i])) is null) { error = "Unable to parse the key.\n"; return false; }
                continue;
            }
            if (words[i].StartsWith("data.", StringComparison.Ordinal))
            {
                if (!TryDataName(table.Config, words[i], out var type, out int element)) { error = "Data type not stored in this table\n"; return false; }
                if (i + 2 >= words.Length || words[i + 1] is not ("eq" or "ne" or "le" or "ge" or "lt" or "gt"))
                {
                    error = "Require an operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n";
                    return false;
                }
                if (!long.TryParse(words[i + 2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                {
                    error = "Require a valid integer value to compare against\n";
                    return false;
                }
                filter = new TableFilter(type, element, words[i + 1], value);
                i += 2;
                continue;
            }
            error = "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n";
            return false;
        }
        return true;
    }
}

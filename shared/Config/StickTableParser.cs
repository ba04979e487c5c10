using Proxy.Shared.Tables;

namespace Proxy.Shared.Config;

/// <summary>
/// `stick-table type ip|ipv6|integer|string [len N]|binary [len N] size N[k|m|g] [expire T] [nopurge] [peers P]
/// [store DATA,...]` (doc/configuration.txt 4.2 "stick-table"; F B, one per proxy, named by it), and the `track-sc`
/// action shared by `http-request` and `tcp-request connection|session` (4.2 "http-request track-sc0").
/// </summary>
internal static class StickTableParser
{
    /// <summary>HAProxy's default `len` of string and binary keys (STKTABLE_DEFAULT_LEN... 32 bytes).</summary>
    private const int DefaultKeyLength = 32;

    public static void Parse(ConfigDiagnostics diag, ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        const string usage = "expected 'stick-table type ip|ipv6|integer|string [len N]|binary [len N] size N [expire T] [nopurge] [peers P] [store DATA,...]'";
        if (proxy.StickTable is { } previous)
        {
            diag.Error(n, $"'stick-table': proxy '{proxy.Name}' already has a table (line {previous.Location.Line}); a proxy holds one");
            return;
        }
        StickKeyType? type = null;
        int len = 0, size = -1;
        long expire = 0;
        bool noPurge = false;
        string? peers = null;
        var store = new List<StickDataSpec>();
        for (int i = 1; i < w.Count; i++)
        {
            string arg = i + 1 < w.Count ? w[i + 1] : "";
            switch (w[i])
            {
                case "type" when arg.Length > 0:
                    type = arg switch
                    {
                        "ip" => StickKeyType.Ip, "ipv6" => StickKeyType.Ipv6, "integer" => StickKeyType.Integer,
                        "string" => StickKeyType.String, "binary" => StickKeyType.Binary, _ => null,
                    };
                    if (type is null)
                    {
                        diag.Error(n, $"'stick-table': unknown type {ConfigDiagnostics.Quote(arg)} (expected ip, ipv6, integer, string or binary)");
                        return;
                    }
                    i++;
                    if (type is StickKeyType.String or StickKeyType.Binary && i + 1 < w.Count && w[i + 1] == "len")
                    {
                        if (i + 2 >= w.Count || !LineChecks.TryInt(diag, n, "stick-table len", w[i + 2], 1, 4096, out len)) return;
                        i += 2;
                    }
                    break;
                case "size" when arg.Length > 0:
                    if (!SizeValue.TryParse(arg, out size) || size < 1)
                    {
                        diag.Error(n, $"'stick-table size': expected a number of entries like 100k, got {ConfigDiagnostics.Quote(arg)}");
                        return;
                    }
                    i++;
                    break;
                case "expire" when arg.Length > 0:
                    if (!LineChecks.TryTime(diag, n, "stick-table expire", arg, out var t)) return;
                    expire = (long)t.TotalMilliseconds;
                    i++;
                    break;
                case "nopurge":
                    noPurge = true;
                    break;
                case "peers" when arg.Length > 0:
                    peers = arg;
                    i++;
                    break;
                case "store" when arg.Length > 0:
                    if (!ParseStore(diag, n, arg, store)) return;
                    i++;
                    break;
                case "srvkey" or "write-to" or "recv-only":
                    diag.Error(n, $"'stick-table': '{w[i]}' is not supported yet");
                    return;
                default:
                    diag.Error(n, $"'stick-table': unexpected {ConfigDiagnostics.Quote(w[i])}, {usage}");
                    return;
            }
        }
        if (type is null || size < 0)
        {
            diag.Error(n, $"'stick-table': {(type is null ? "missing 'type'" : "missing 'size'")}, {usage}");
            return;
        }
        int keyLength = type switch
        {
            StickKeyType.Ip or StickKeyType.Integer => 4,
            StickKeyType.Ipv6 => 16,
            _ => len > 0 ? len : DefaultKeyLength,
        };
        // HAProxy keeps (and `show table` prints) the data in its own order of types, whatever the order written.
        store.Sort((a, b) => a.Type.CompareTo(b.Type));
        var table = new StickTableConfig(proxy.Name, type.Value, keyLength, size, expire, noPurge, peers, store, diag.At(n));
        // The file is sparse, but every entry may be written: a size whose table cannot fit in memory is refused now,
        // not when the supervisor maps it (README "bytes per entry"). Columns: 2 x the CPUs, the most slots a board gets.
        long bytes = StickTableLayout.BytesFor(table, Math.Max(2, 2 * Environment.ProcessorCount));
        long memory = MachineMemory();
        if (bytes > memory)
        {
            diag.Error(n, $"'stick-table': size {size} needs {bytes >> 20} MiB of shared memory, more than this machine's {memory >> 20} MiB");
            return;
        }
        proxy.StickTable = table;
    }

    /// <summary>`store DATA[,DATA...]`: conn_cur, http_req_rate(10s), gpc(2), gpc0_rate(1m)...</summary>
    private static bool ParseStore(ConfigDiagnostics diag, int n, string text, List<StickDataSpec> store)
    {
        foreach (var item in SplitTopLevel(text))
        {
            string name = item, arg = "";
            int open = item.IndexOf('(');
            if (open >= 0)
            {
                if (!item.EndsWith(')'))
                {
                    diag.Error(n, $"'stick-table store': missing ')' in {ConfigDiagnostics.Quote(item)}");
                    return false;
                }
                name = item[..open];
                arg = item[(open + 1)..^1];
            }
            if (!StickDataTypes.TryParse(name, out var type))
            {
                diag.Error(n, name is "gpt" or "gpc_rate" or "glitch_cnt" or "glitch_rate"
                    ? $"'stick-table store': '{name}' is not supported yet"
                    : $"'stick-table store': unknown data type {ConfigDiagnostics.Quote(name)}");
                return false;
            }
            var shape = StickDataTypes.ShapeOf(type);
            var spec = new StickDataSpec(type);
            if (shape == StickDataShape.Rate)
            {
                if (!TimeValue.TryParse(arg, out var period) || period <= TimeSpan.Zero)
                {
                    diag.Error(n, $"'stick-table store': '{name}' needs a period, like {name}(10s), got {ConfigDiagnostics.Quote(item)}");
                    return false;
                }
                spec = spec with { Period = (int)period.TotalMilliseconds };
            }
            else if (shape == StickDataShape.Array)
            {
                if (!IntValue.TryParse(arg, out int count) || count is < 1 or > 100)
                {
                    diag.Error(n, $"'stick-table store': 'gpc' needs a count from 1 to 100, like gpc(2), got {ConfigDiagnostics.Quote(item)}");
                    return false;
                }
                spec = spec with { Count = count };
            }
            else if (arg.Length > 0)
            {
                diag.Error(n, $"'stick-table store': '{name}' takes no argument, got {ConfigDiagnostics.Quote(item)}");
                return false;
            }
            foreach (var s in store)
            {
                if (s.Type != type) continue;
                diag.Error(n, $"'stick-table store': '{name}' is stored twice");
                return false;
            }
            store.Add(spec);
        }
        return true;
    }

    /// <summary>Splits `a,b(1,2),c` at the commas outside parentheses.</summary>
    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }
        parts.Add(text[start..]);
        return parts;
    }

    /// <summary>The machine's memory (MemTotal of /proc/meminfo), or the GC's view of it when that cannot be read.</summary>
    private static long MachineMemory()
    {
        try
        {
            foreach (var l in File.ReadLines("/proc/meminfo"))
            {
                if (!l.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
                var digits = l.AsSpan(9).Trim().TrimEnd("kB").Trim();
                if (long.TryParse(digits, out long kb)) return kb * 1024;
            }
        }
        catch (IOException)
        {
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>
    /// `track-scN KEY [table T]` at word <paramref name="at"/> up to <paramref name="end"/> (the condition): the key is
    /// a sample expression; without `table`, the proxy's own table (checked once every proxy is known).
    /// </summary>
    public static TrackScConfig? ParseTrack(ConfigDiagnostics diag, SampleExprParser samples, ProxyDraft proxy, ConfigLine line, int at, int end, string what)
    {
        var w = line.Words;
        int counter = w[at][^1] - '0';
        if (w[at].Length != "track-sc0".Length || counter is < 0 or > 2)
        {
            diag.Error(line.Number, $"'{what}': unknown action {ConfigDiagnostics.Quote(w[at])} (expected track-sc0, track-sc1 or track-sc2)");
            return null;
        }
        if (at + 1 >= end)
        {
            diag.Error(line.Number, $"'{what}': missing the key, expected '{w[at]} KEY [table TABLE] [if|unless COND]'");
            return null;
        }
        if (samples.ParseWhole(w[at + 1], out var error) is not { } key)
        {
            diag.Error(line.Number, $"'{what}': {error}");
            return null;
        }
        string? table = null;
        if (at + 2 < end)
        {
            if (w[at + 2] != "table" || at + 3 >= end || at + 4 != end)
            {
                diag.Error(line.Number, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[at + 2])}, expected '{w[at]} KEY [table TABLE] [if|unless COND]'");
                return null;
            }
            table = w[at + 3];
        }
        if (table is null && proxy.Capabilities == ProxyCapabilities.Defaults)
        {
            diag.Error(line.Number, $"'{what}': in a defaults section, name the table ('table TABLE')");
            return null;
        }
        var track = new TrackScConfig(counter, key, table ?? proxy.Name, diag.At(line.Number));
        proxy.TableReferences.Add((track.Table, diag.At(line.Number), what));
        return track;
    }
}

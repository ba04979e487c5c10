namespace Proxy.Shared.Config;

/// <summary>
/// `stick on|match|store-request|store-response PATTERN [table TABLE] [if|unless COND]` (doc/configuration.txt 4.2
/// "stick match", "stick on", "stick store-request", "stick store-response"; B and L only). PATTERN is a sample
/// expression; without `table`, the section's own table (checked once every proxy is known, StickTableChecks).
/// </summary>
internal static class StickRuleParser
{
    public static void Parse(ConfigDiagnostics diag, AclParser acls, ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        StickRuleKind? kind = w.Count > 1 ? w[1] switch
        {
            "on" => StickRuleKind.On, "match" => StickRuleKind.Match,
            "store-request" => StickRuleKind.StoreRequest, "store-response" => StickRuleKind.StoreResponse, _ => null,
        } : null;
        string what = kind is null ? "stick" : $"stick {w[1]}";
        if (kind is null)
        {
            diag.Error(n, $"'stick': expected 'on', 'match', 'store-request' or 'store-response', got {(w.Count > 1 ? ConfigDiagnostics.Quote(w[1]) : "nothing")}");
            return;
        }
        if (w.Count < 3 || w[2] is "table" or "if" or "unless")
        {
            diag.Error(n, $"'{what}': missing the pattern, expected '{what} PATTERN [table TABLE] [if|unless COND]'");
            return;
        }
        if (acls.Samples.ParseWhole(w[2], out var error) is not { } key)
        {
            diag.Error(n, $"'{what}': {error}");
            return;
        }
        int i = 3;
        string table = proxy.Name;
        if (i < w.Count && w[i] == "table")
        {
            if (i + 1 >= w.Count || w[i + 1].Length == 0)
            {
                diag.Error(n, $"'{what}': 'table' needs a table name");
                return;
            }
            table = w[i + 1];
            i += 2;
        }
        ConditionConfig? condition = null;
        if (i < w.Count)
        {
            if (w[i] is not ("if" or "unless"))
            {
                diag.Error(n, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[i])}, expected '{what} PATTERN [table TABLE] [if|unless COND]'");
                return;
            }
            if ((condition = acls.ParseCondition(proxy, line, i, what)) is null) return;
        }
        proxy.StickRules.Add(new StickRuleConfig(kind.Value, key, table, condition, diag.At(n)));
        proxy.TableReferences.Add((table, diag.At(n), what));
    }
}

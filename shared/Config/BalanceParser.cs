namespace Proxy.Shared.Config;

/// <summary>
/// `balance ALGORITHM [ARGS]` and `hash-type METHOD [FUNCTION [avalanche]]` (doc/configuration.txt 4.2 "balance",
/// "hash-type"). A `balance` line replaces the algorithm and its arguments but keeps the `hash-type`, and the other
/// way round, so the two lines may come in either order (HAProxy keeps them in separate bits of lbprm.algo).
/// </summary>
internal sealed class BalanceParser(ConfigDiagnostics diag)
{
    private const string Usage = "balance roundrobin|static-rr|leastconn|first|source|random[(DRAWS)]|uri|url_param NAME|hdr(NAME)";

    // Algorithms that take no argument.
    private static readonly Dictionary<string, BalanceAlgorithm> Plain = new(StringComparer.Ordinal)
    {
        ["roundrobin"] = BalanceAlgorithm.RoundRobin,
        ["static-rr"] = BalanceAlgorithm.StaticRoundRobin,
        ["leastconn"] = BalanceAlgorithm.LeastConn,
        ["first"] = BalanceAlgorithm.First,
        ["source"] = BalanceAlgorithm.Source,
    };

    // HAProxy's other algorithms: `hash EXPR` (sample expressions), rdp-cookie (needs tcp-request content rules).
    private static readonly string[] Unsupported = ["hash", "log-hash", "sticky"];

    /// <summary>Upper bound on `random(N)`: HAProxy has none, but each draw costs a look at a server on every pick.</summary>
    public const int MaxDraws = 100;

    public void ParseBalance(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        // A bare `balance` is accepted by HAProxy 2.6 and means round robin (backend_parse_balance() on an empty word).
        var name = w.Count < 2 ? "roundrobin" : w[1];
        if (w.Count < 2) line = line with { Words = ["balance", name] };
        var keep = proxy.BalanceOptions;
        var options = BalanceOptions.Default with
        {
            HashMethod = keep.HashMethod, HashFunction = keep.HashFunction, HashAvalanche = keep.HashAvalanche,
        };
        BalanceAlgorithm algorithm;
        if (Plain.TryGetValue(name, out algorithm))
        {
            if (!LineChecks.Exactly(diag, line, 1, "balance " + name)) return;
        }
        else if (name == "random" || name.StartsWith("random(", StringComparison.Ordinal))
        {
            if (!LineChecks.Exactly(diag, line, 1, "balance random[(DRAWS)]")) return;
            algorithm = BalanceAlgorithm.Random;
            if (name.Length > "random".Length && !TryDraws(n, name, ref options)) return;
        }
        else if (name == "uri")
        {
            algorithm = BalanceAlgorithm.Uri;
            if (!TryUriOptions(line, ref options)) return;
        }
        else if (name == "url_param")
        {
            algorithm = BalanceAlgorithm.UrlParam;
            if (w.Count < 3 || w[2].Length == 0)
            {
                diag.Error(n, "'balance url_param': missing argument, expected 'balance url_param NAME'");
                return;
            }
            if (w.Count > 3)
            {
                diag.Error(n, w[3] == "check_post"
                    ? "'balance url_param check_post' is not supported yet"
                    : $"'balance url_param': unexpected {ConfigDiagnostics.Quote(w[3])}, expected 'balance url_param NAME'");
                return;
            }
            options = options with { UrlParam = w[2] };
        }
        else if (name == "rdp-cookie" || name.StartsWith("rdp-cookie(", StringComparison.Ordinal))
        {
            // 4.2 "balance rdp-cookie(NAME)": the cookie of the RDP connection request (mstshash by default), hashed;
            // needs `tcp-request inspect-delay` so the request is there when the server is chosen.
            if (!LineChecks.Exactly(diag, line, 1, "balance rdp-cookie[(NAME)]")) return;
            algorithm = BalanceAlgorithm.RdpCookie;
            string cookie = name.Length > "rdp-cookie".Length && name[^1] == ')' ? name["rdp-cookie(".Length..^1] : "";
            if (name.Length > "rdp-cookie".Length && (name[^1] != ')' || cookie.Length == 0))
            {
                diag.Error(n, $"'balance': expected 'rdp-cookie' or 'rdp-cookie(NAME)', got {ConfigDiagnostics.Quote(name)}");
                return;
            }
            options = options with { RdpCookie = cookie.Length == 0 ? "mstshash" : cookie };
        }
        else if (name.StartsWith("hdr(", StringComparison.Ordinal))
        {
            algorithm = BalanceAlgorithm.Header;
            if (!TryHeader(line, ref options)) return;
        }
        else
        {
            diag.Error(n, Array.Exists(Unsupported, u => name == u || name.StartsWith(u + "(", StringComparison.Ordinal))
                ? $"'balance {name}' is not supported yet"
                : $"'balance': unknown algorithm {ConfigDiagnostics.Quote(name)} (expected roundrobin, static-rr, leastconn, first, source, random, uri, url_param, hdr(NAME) or rdp-cookie)");
            return;
        }
        proxy.Balance = algorithm;
        proxy.BalanceOptions = options;
        proxy.BalanceSource = (n, algorithm == BalanceAlgorithm.Header ? "balance hdr" : "balance " + name);
    }

    /// <summary>`random(N)`: N draws, at least 1 (HAProxy: "number of draws must be at least 1"); `random()` is the default 2.</summary>
    private bool TryDraws(int n, string word, ref BalanceOptions options)
    {
        if (word[^1] != ')' || word[6] != '(')
        {
            diag.Error(n, $"'balance': expected 'random' or 'random(DRAWS)', got {ConfigDiagnostics.Quote(word)}");
            return false;
        }
        var inner = word[7..^1];
        if (inner.Length == 0) return true;
        if (!LineChecks.TryInt(diag, n, "balance random", inner, 1, MaxDraws, out int draws)) return false;
        options = options with { RandomDraws = draws };
        return true;
    }

    /// <summary>`uri [len N] [depth N] [whole] [path-only]`, in any order; len and depth are positive (as in HAProxy).</summary>
    private bool TryUriOptions(ConfigLine line, ref BalanceOptions options)
    {
        var w = line.Words;
        for (int i = 2; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "whole": options = options with { UriWhole = true }; break;
                case "path-only": options = options with { UriPathOnly = true }; break;
                case "len" or "depth":
                    var option = "balance uri " + w[i];
                    if (i + 1 >= w.Count)
                    {
                        diag.Error(line.Number, $"'{option}': missing argument, expected '{option} NUMBER'");
                        return false;
                    }
                    if (!LineChecks.TryInt(diag, line.Number, option, w[i + 1], 1, int.MaxValue, out int value)) return false;
                    options = w[i] == "len" ? options with { UriLength = value } : options with { UriDepth = value };
                    i++;
                    break;
                default:
                    diag.Error(line.Number, $"'balance uri': unknown option {ConfigDiagnostics.Quote(w[i])} (expected len, depth, whole or path-only)");
                    return false;
            }
        }
        return true;
    }

    /// <summary>`hdr(NAME) [use_domain_only]`; NAME is a header field name (RFC 9110 5.1 token), matched without case.</summary>
    private bool TryHeader(ConfigLine line, ref BalanceOptions options)
    {
        var w = line.Words;
        var word = w[1];
        var name = word.Length > 5 && word[^1] == ')' ? word[4..^1] : "";
        if (name.Length == 0 || !IsToken(name))
        {
            diag.Error(line.Number, $"'balance': expected 'hdr(NAME)' with a header name, got {ConfigDiagnostics.Quote(word)}");
            return false;
        }
        for (int i = 2; i < w.Count; i++)
        {
            if (w[i] != "use_domain_only")
            {
                diag.Error(line.Number, $"'balance hdr': unknown option {ConfigDiagnostics.Quote(w[i])} (expected use_domain_only)");
                return false;
            }
            options = options with { UseDomainOnly = true };
        }
        options = options with { Header = name };
        return true;
    }

    private static bool IsToken(string s)
    {
        foreach (char c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) return false;
        return true;
    }

    /// <summary>`hash-balance-factor N`: 0 (off) or more than 100, as HAProxy requires (4.2).</summary>
    public void ParseHashBalanceFactor(ProxyDraft proxy, ConfigLine line)
    {
        if (!LineChecks.Exactly(diag, line, 1, "hash-balance-factor FACTOR")
            || !LineChecks.TryInt(diag, line.Number, "hash-balance-factor", line.Words[1], 0, 65535, out int factor)) return;
        if (factor is > 0 and <= 100)
        {
            diag.Error(line.Number, "'hash-balance-factor' must be 0 or greater than 100");
            return;
        }
        proxy.BalanceOptions = proxy.BalanceOptions with { HashBalanceFactor = factor };
        proxy.HashBalanceFactorLine = line.Number;
    }

    /// <summary>`hash-type map-based|consistent [sdbm|djb2|wt6|crc32 [avalanche]]`; the function defaults to sdbm.</summary>
    public void ParseHashType(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 2)
        {
            diag.Error(n, "'hash-type': missing argument, expected 'hash-type map-based|consistent [sdbm|djb2|wt6|crc32] [avalanche]'");
            return;
        }
        HashMethod method;
        switch (w[1])
        {
            case "map-based": method = HashMethod.MapBased; break;
            case "consistent": method = HashMethod.Consistent; break;
            default:
                diag.Error(n, $"'hash-type': unknown method {ConfigDiagnostics.Quote(w[1])} (expected map-based or consistent)");
                return;
        }
        var function = HashFunction.Sdbm;
        if (w.Count > 2)
        {
            switch (w[2])
            {
                case "sdbm": function = HashFunction.Sdbm; break;
                case "djb2": function = HashFunction.Djb2; break;
                case "wt6": function = HashFunction.Wt6; break;
                case "crc32": function = HashFunction.Crc32; break;
                case "none":
                    // HAProxy's `none` uses a key that is already a number (`balance hash` with a converter).
                    diag.Error(n, "'hash-type': function 'none' is not supported yet");
                    return;
                default:
                    diag.Error(n, $"'hash-type': unknown function {ConfigDiagnostics.Quote(w[2])} (expected sdbm, djb2, wt6 or crc32)");
                    return;
            }
        }
        bool avalanche = false;
        if (w.Count > 3)
        {
            if (w[3] != "avalanche")
            {
                diag.Error(n, $"'hash-type': unknown modifier {ConfigDiagnostics.Quote(w[3])} (expected avalanche)");
                return;
            }
            avalanche = true;
        }
        if (w.Count > 4)
        {
            diag.Error(n, $"'hash-type': unexpected {ConfigDiagnostics.Quote(w[4])}, expected 'hash-type METHOD [FUNCTION] [avalanche]'");
            return;
        }
        proxy.BalanceOptions = proxy.BalanceOptions with { HashMethod = method, HashFunction = function, HashAvalanche = avalanche };
    }
}

namespace Proxy.Shared.Config;

/// <summary>
/// `compression algo ALGO...`, `compression type MIME...` and `compression offload` (doc/configuration.txt 4.2
/// "compression"), in defaults, frontend, backend and listen sections. Each `algo` and `type` line adds to the list
/// (a proxy's lines add to what it inherited from its defaults section, as HAProxy's lists are shared then extended);
/// `offload` in a defaults section is HAProxy's warning and has no effect there.
/// </summary>
internal sealed class CompressionParser(ConfigDiagnostics diag)
{
    private const string Usage = "compression algo ALGO... | compression type MIME... | compression offload";

    public void Parse(ProxyDraft proxy, ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        if (w.Count < 2)
        {
            diag.Error(n, $"'compression': missing argument, expected '{Usage}'");
            return;
        }
        if (proxy.Capabilities != ProxyCapabilities.Defaults) proxy.FirstHttpOnlyKeyword ??= (n, "compression");
        switch (w[1])
        {
            case "algo":
                if (w.Count < 3)
                {
                    diag.Error(n, "'compression algo' expects an algorithm: gzip, deflate, raw-deflate or identity");
                    return;
                }
                for (int i = 2; i < w.Count; i++)
                {
                    if (TryAlgorithm(w[i], out var algo)) proxy.CompressionAlgorithms.Add(algo);
                    else diag.Error(n, $"'compression algo': unknown algorithm {ConfigDiagnostics.Quote(w[i])}, expected gzip, deflate, raw-deflate or identity");
                }
                break;
            case "type":
                if (w.Count < 3)
                {
                    diag.Error(n, "'compression type' expects a MIME type");
                    return;
                }
                for (int i = 2; i < w.Count; i++) proxy.CompressionTypes.Add(w[i]);
                break;
            case "offload":
                if (!LineChecks.Exactly(diag, line, 0, "compression offload", keywordWords: 2)) return;
                if (proxy.Capabilities == ProxyCapabilities.Defaults)
                    diag.Warning(n, "'compression offload' ignored in a defaults section (HAProxy does the same)");
                else
                    proxy.CompressionOffload = true;
                break;
            case "direction" or "algo-req" or "algo-res" or "type-req" or "type-res" or "minsize-req" or "minsize-res":
                diag.Error(n, $"'compression {w[1]}' is not supported (HAProxy 2.6 compresses responses only)");
                break;
            default:
                diag.Error(n, $"'compression': unknown option {ConfigDiagnostics.Quote(w[1])}, expected '{Usage}'");
                break;
        }
    }

    /// <summary>HAProxy's comp_algos[] configuration names.</summary>
    public static bool TryAlgorithm(string name, out CompressionAlgorithm algo)
    {
        switch (name)
        {
            case "gzip": algo = CompressionAlgorithm.Gzip; return true;
            case "deflate": algo = CompressionAlgorithm.Deflate; return true;
            case "raw-deflate": algo = CompressionAlgorithm.RawDeflate; return true;
            case "identity": algo = CompressionAlgorithm.Identity; return true;
            default: algo = default; return false;
        }
    }
}

namespace Proxy.Shared.Config;

/// <summary>
/// `peers NAME` sections (doc/configuration.txt 3.5). Accepted so real configs load: a stick table here lives in shared
/// memory that every worker sees and that outlives reloads, which is what HAProxy's local peer is for. No entries are
/// exchanged with other hosts: a `peer`/`server` naming a remote peer gets a warning saying so. The section's names
/// let `stick-table ... peers NAME` be checked.
/// </summary>
internal sealed class PeersSectionParser(ConfigDiagnostics diag)
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>`peers NAME`: a new section.</summary>
    public void Start(ConfigLine line)
    {
        if (line.Words.Count != 2)
        {
            diag.Error(line.Number, "'peers': expected 'peers NAME'");
            return;
        }
        if (!_names.Add(line.Words[1]))
            diag.Error(line.Number, $"'peers': a peers section named '{line.Words[1]}' already exists");
    }

    public void ParseLine(ConfigLine line)
    {
        var w = line.Words;
        switch (line.Keyword)
        {
            case "peer" or "server":
                if (w.Count < 2)
                {
                    diag.Error(line.Number, $"'{line.Keyword}': expected '{line.Keyword} NAME [ADDRESS:PORT]'");
                    return;
                }
                // HAProxy's local peer is the one named like `localpeer` (default: the host name); it keeps the table.
                if (w[1] != Environment.MachineName && w.Count > 2)
                    diag.Warning(line.Number, $"'{line.Keyword} {w[1]}': no entries are exchanged with remote peers here; the stick tables live in shared memory that every worker and a reload keep (see README, stick tables)");
                return;
            case "bind" or "default-bind" or "default-server" or "disabled" or "enable" or "log" or "shards":
                return;   // the listener a remote peer would connect to: nothing connects here
            case "table":
                diag.Error(line.Number, "'table' in a peers section is not supported yet: declare the table with 'stick-table' in a backend");
                return;
            default:
                diag.Error(line.Number, $"unknown keyword {ConfigDiagnostics.Quote(line.Keyword)} in a peers section");
                return;
        }
    }

    /// <summary>`stick-table ... peers NAME` must name a peers section.</summary>
    public void Check(IReadOnlyList<ProxyDraft> proxies)
    {
        foreach (var p in proxies)
            if (p.StickTable is { Peers: { } peers } table && !_names.Contains(peers))
                diag.Error(table.Location, $"'stick-table': no peers section named {ConfigDiagnostics.Quote(peers)}");
    }
}

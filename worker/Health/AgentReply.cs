namespace Proxy.Worker.Health;

/// <summary>
/// One `agent-check` answer (doc/configuration.txt 5.2 "agent-check"; HAProxy's tcpcheck_agent_expect_reply): the line
/// up to the first CR or LF, words split on spaces, tabs and commas, in any order: `N%` (weight relative to the
/// configured one), `maxconn:N`, `ready|drain|maint` (administrative state), `up|down|fail|stopped` (operational state,
/// the last three optionally followed by `#description`). What is not advertised is left as it is.
/// </summary>
internal sealed record AgentReply(bool? Up, string? Admin, int? Percent, int? MaxConn, string? Description, string Word)
{
    /// <summary>Parses <paramref name="text"/>; null when it advertises nothing known (HAProxy ignores such an answer).</summary>
    public static AgentReply? Parse(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        if (end >= 0) text = text[..end];
        string? description = null;
        // "optionally followed by a description string after a sharp ('#')": the rest of the line.
        int sharp = text.IndexOf('#');
        if (sharp >= 0)
        {
            description = text[(sharp + 1)..].Trim();
            text = text[..sharp];
        }
        bool? up = null;
        string? admin = null, word = null;
        int? percent = null, maxConn = null;
        foreach (var w in text.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            var lower = w.ToLowerInvariant();
            switch (lower)
            {
                case "up": up = true; word = lower; continue;
                case "down" or "fail" or "stopped": up = false; word = lower; continue;
                case "ready" or "drain" or "maint": admin = lower; continue;
            }
            if (lower.EndsWith('%') && int.TryParse(lower.AsSpan(0, lower.Length - 1), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out int p))
                percent = p;
            else if (lower.StartsWith("maxconn:", StringComparison.Ordinal) && int.TryParse(lower.AsSpan(8),
                    System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int m))
                maxConn = m;
        }
        if (up is null && admin is null && percent is null && maxConn is null) return null;
        return new AgentReply(up, admin, percent, maxConn, description, word ?? "");
    }

    /// <summary>HAProxy's weight from a percentage, of the configured (initial) weight; null above 256 ("Relative weight too large").</summary>
    public static int? WeightOf(int percent, int initialWeight) =>
        (long)initialWeight * percent / 100 is var w && w <= 256 ? (int)w : null;
}

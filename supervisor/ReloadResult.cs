namespace Proxy.Supervisor;

/// <summary>What a reload did, as `proxyctl reload` prints it.</summary>
public sealed record ReloadResult(bool Ok, string Message)
{
    public static ReloadResult Failed(string reason) => new(false, reason);

    public static ReloadResult Succeeded(IReadOnlyList<string> changes, int draining, int generation)
    {
        var text = new System.Text.StringBuilder();
        text.Append($"Reloaded: generation {generation} serving\n");
        foreach (var c in changes) text.Append("  ").Append(c).Append('\n');
        if (changes.Count == 0) text.Append("  no listener, backend or server added or removed\n");
        text.Append($"{draining} old worker(s) draining\n");
        return new ReloadResult(true, text.ToString());
    }
}

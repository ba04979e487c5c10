namespace Proxy.Shared.Config;

/// <summary>
/// A backend's `fullconn` (4.2) when the file sets none, as HAProxy 2.6's proxy_adjust_all_maxconn(): 10% of the sum
/// of the `maxconn` of the frontends that may reach it (their `default_backend`, a listen section without one
/// reaching itself, and their `use_backend` rules, each backend counted once per frontend), rounded up, at least 1.
/// </summary>
internal static class FullConnDefaults
{
    /// <summary>The effective `fullconn` of <paramref name="backend"/> among <paramref name="proxies"/>.</summary>
    public static int Of(ProxyDraft backend, IReadOnlyList<ProxyDraft> proxies, GlobalSettings global)
    {
        if (backend.FullConn > 0) return backend.FullConn;
        long total = 0;
        foreach (var p in proxies)
        {
            if (!p.IsFrontend || p.Disabled) continue;
            long maxConn = p.MaxConn ?? global.MaxConn;
            if (p.DefaultBackend is { } name)
            {
                if (name == backend.Name) total += maxConn;
            }
            else if (p == backend)
            {
                total += maxConn;   // a listen section without default_backend is its own
            }
            // A rule naming the default backend, or a backend an earlier rule named, adds nothing more.
            foreach (var rule in p.UseBackends)
            {
                if (rule.Backend != backend.Name) continue;
                if (rule.Backend != p.DefaultBackend) total += maxConn;
                break;
            }
        }
        return (int)Math.Clamp((total + 9) / 10, 1, int.MaxValue);
    }
}

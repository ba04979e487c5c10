namespace Proxy.Shared.Config;

/// <summary>
/// What this proxy says about itself where HAProxy's language asks: the version that `.if version_atleast()` and
/// `version_before()` compare with and that `haproxy -v` prints, and the build features `.if feature()` tests.
/// The version is the one whose configuration language this proxy implements (HAProxy 2.6, as Debian 12 ships it).
/// </summary>
public static class HaproxyCompat
{
    /// <summary>The HAProxy version this proxy reports.</summary>
    public const string Version = "2.6.12";

    /// <summary>
    /// HAProxy build features (`haproxy -vv`, "Feature list") that hold here: THREAD because `nbthread` starts workers,
    /// CPU_AFFINITY for `cpu-map`, LINUX_SPLICE for `option splice-*`, ZLIB for `compression`, GETADDRINFO for server names.
    /// </summary>
    public static readonly IReadOnlySet<string> Features = new HashSet<string>(StringComparer.Ordinal)
    {
        "THREAD", "CPU_AFFINITY", "LINUX_SPLICE", "ZLIB", "GETADDRINFO", "ACCEPT4", "PRCTL", "POLL", "EPOLL",
    };

    /// <summary>
    /// Compares dotted versions numerically (2.6 = 2.6.0 &lt; 2.6.12 &lt; 2.10), as HAProxy's compare_current_version();
    /// a suffix after the numbers (`-dev`, `-rc1`) is ignored. Null when a version has no number.
    /// </summary>
    public static int? CompareVersions(string left, string right)
    {
        if (Parts(left) is not { } a || Parts(right) is not { } b) return null;
        for (int i = 0; i < Math.Max(a.Count, b.Count); i++)
        {
            int x = i < a.Count ? a[i] : 0, y = i < b.Count ? b[i] : 0;
            if (x != y) return x.CompareTo(y);
        }
        return 0;
    }

    private static List<int>? Parts(string version)
    {
        var parts = new List<int>();
        foreach (var piece in version.Split('.'))
        {
            int digits = 0;
            while (digits < piece.Length && char.IsAsciiDigit(piece[digits])) digits++;
            if (digits == 0 || digits > 6) return parts.Count > 0 ? parts : null;
            parts.Add(int.Parse(piece.AsSpan(0, digits), System.Globalization.CultureInfo.InvariantCulture));
            if (digits < piece.Length) break;
        }
        return parts.Count > 0 ? parts : null;
    }
}

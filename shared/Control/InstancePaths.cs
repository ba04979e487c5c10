using System.Security.Cryptography;
using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Shared.Control;

/// <summary>
/// Where a running instance can be found. An instance is named by its control socket: the config's
/// `stats socket` path, or, when the config has none, a path derived from the config file's full path
/// so `proxyctl stop -f FILE` finds what `proxyctl start -f FILE` started.
/// </summary>
public static class InstancePaths
{
    public static string ControlSocket(ProxyConfig config)
        => config.Global.StatsSocket?.Path ?? DefaultControlSocket(config.SourcePath);

    /// <summary>
    /// The control socket named by the file at <paramref name="configPath"/>. A file with errors still names
    /// its instance (an operator must be able to stop an instance whose file they just broke), so its
    /// `stats socket` line is looked for word by word.
    /// </summary>
    public static string ControlSocketOf(string configPath)
    {
        // Read once, bounded (ConfigLoader.TryReadText): a FIFO is not read twice, /dev/zero not at all.
        if (ConfigLoader.TryReadText(configPath, out string text) is not null) return DefaultControlSocket(configPath);
        var result = ConfigLoader.Parse(text, configPath);
        if (result.Config is { } config) return ControlSocket(config);
        foreach (var line in text.Split('\n'))
        {
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            // The first Unix one, as the parsed config's StatsSocket (a TCP or fd@ socket is not proxyctl's).
            if (words.Length >= 3 && words[0] == "stats" && words[1] == "socket"
                && (words[2].StartsWith('/') || !(words[2].Contains('@') || words[2].Contains(':'))))
                return words[2];
        }
        return DefaultControlSocket(configPath);
    }

    /// <summary>The stats board file: beside the control socket, same name, `.stats` extension.</summary>
    public static string StatsBoard(ProxyConfig config) => Path.ChangeExtension(ControlSocket(config), ".stats");

    /// <summary>The stats board of the instance the file at <paramref name="configPath"/> names (see <see cref="ControlSocketOf"/>).</summary>
    public static string StatsBoardOf(string configPath) => Path.ChangeExtension(ControlSocketOf(configPath), ".stats");

    public static string DefaultControlSocket(string configPath)
    {
        string full = Path.GetFullPath(configPath);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(full));
        string dir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } run ? run : Path.GetTempPath();
        return Path.Combine(dir, $"proxy-{Convert.ToHexString(hash, 0, 6).ToLowerInvariant()}.sock");
    }
}

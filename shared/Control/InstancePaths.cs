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

    public static string DefaultControlSocket(string configPath)
    {
        string full = Path.GetFullPath(configPath);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(full));
        string dir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } run ? run : Path.GetTempPath();
        return Path.Combine(dir, $"proxy-{Convert.ToHexString(hash, 0, 6).ToLowerInvariant()}.sock");
    }
}

using Proxy.Shared.Config;
using Proxy.Shared.Interop;

namespace Proxy.Supervisor;

/// <summary>
/// What the supervisor checks beyond the parser before starting (or reloading) workers: things that
/// depend on this machine, so a worker never fails with them after the old generation was drained.
/// </summary>
public static class StartupChecks
{
    public static List<string> Run(ProxyConfig config)
    {
        var problems = new List<string>();
        var g = config.Global;
        // `user`/`group` are applied by each worker; a name that does not resolve must fail here, not in a worker.
        if (g.User is { } user && Privileges.LookupUser(user) is null)
            problems.Add($"{config.SourcePath}: global 'user': unknown user '{user}'");
        if (g.Group is { } group && Privileges.LookupGroup(group) is null)
            problems.Add($"{config.SourcePath}: global 'group': unknown group '{group}'");
        if (g.Chroot is { } dir && !Directory.Exists(dir))
            problems.Add($"{config.SourcePath}: global 'chroot': directory '{dir}' does not exist");
        return problems;
    }
}

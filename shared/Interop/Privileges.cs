using System.Reflection;
using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace Proxy.Shared.Interop;

/// <summary>
/// `user`, `group` and `chroot` (HAProxy's global keywords): a worker started as root drops to them once
/// it holds its listening sockets, so ports below 1024 work and a compromised worker holds no root.
/// </summary>
public static unsafe class Privileges
{
    /// <summary>Resolves a user name (or number) through /etc/passwd to its uid and primary gid.</summary>
    public static (uint Uid, uint Gid)? LookupUser(string name)
    {
        foreach (var fields in Entries("/etc/passwd"))
            if (fields.Length >= 4 && (fields[0] == name || fields[2] == name)
                && uint.TryParse(fields[2], out uint uid) && uint.TryParse(fields[3], out uint gid))
                return (uid, gid);
        return uint.TryParse(name, out uint n) ? (n, n) : null;
    }

    /// <summary>Resolves a group name (or number) through /etc/group.</summary>
    public static uint? LookupGroup(string name)
    {
        foreach (var fields in Entries("/etc/group"))
            if (fields.Length >= 3 && (fields[0] == name || fields[2] == name) && uint.TryParse(fields[2], out uint gid))
                return gid;
        return uint.TryParse(name, out uint n) ? n : null;
    }

    private static IEnumerable<string[]> Entries(string file)
    {
        if (!File.Exists(file)) yield break;
        foreach (var line in File.ReadLines(file))
            if (line.Length > 0 && line[0] != '#') yield return line.Split(':');
    }

    /// <summary>
    /// The ids the global `user` and `group` name: the user's uid and primary gid, the group's gid overriding it.
    /// Returns null, or which name is unknown.
    /// </summary>
    public static string? Resolve(string? user, string? group, out uint? uid, out uint? gid)
    {
        uid = gid = null;
        if (user is not null)
        {
            var u = LookupUser(user);
            if (u is null) return $"unknown user '{user}'";
            (uid, gid) = (u.Value.Uid, u.Value.Gid);
        }
        if (group is not null)
        {
            gid = LookupGroup(group);
            if (gid is null) return $"unknown group '{group}'";
        }
        return null;
    }

    /// <summary>
    /// Enters <paramref name="chroot"/> (if any), then sets groups, gid and uid, in that order (a process
    /// that gave up root first could no longer change its groups). Needs root. Returns null, or what failed.
    /// </summary>
    public static string? Drop(string? user, string? group, string? chroot)
    {
        if (Resolve(user, group, out uint? uid, out uint? gid) is { } unknown) return unknown;
        if (chroot is not null)
        {
            PreloadAssemblies(); // after chroot, the runtime can no longer load code from disk
            fixed (byte* dir = System.Text.Encoding.UTF8.GetBytes(chroot + "\0"))
                if (LibChroot(dir) == -1) return $"chroot({chroot}) failed: errno {Marshal.GetLastPInvokeError()}";
            fixed (byte* root = "/\0"u8)
                if (chdir(root) == -1) return $"chdir(/) failed: errno {Marshal.GetLastPInvokeError()}";
        }
        if (gid is { } g)
        {
            if (LibSetgroups(0, null) == -1) return $"setgroups failed: errno {Marshal.GetLastPInvokeError()}";
            if (setgid(g) == -1) return $"setgid({g}) failed: errno {Marshal.GetLastPInvokeError()}";
        }
        if (uid is { } id && setuid(id) == -1) return $"setuid({id}) failed: errno {Marshal.GetLastPInvokeError()}";
        return null;
    }

    /// <summary>Loads every assembly reachable from the entry assembly, so nothing needs the disk after chroot.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026",
        Justification = "Under Native AOT the code is already in the executable; the walk then finds nothing to load.")]
    private static void PreloadAssemblies()
    {
        // Native AOT (the worker): the code is in the executable, and GetReferencedAssemblies throws
        // PlatformNotSupportedException there, so `chroot` killed every worker before this check.
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported) return;
        var seen = new HashSet<string>();
        var stack = new Stack<Assembly>();
        if (Assembly.GetEntryAssembly() is { } entry) stack.Push(entry);
        while (stack.Count > 0)
        {
            var asm = stack.Pop();
            if (!seen.Add(asm.FullName ?? "")) continue;
            foreach (var reference in asm.GetReferencedAssemblies())
            {
                try
                {
                    stack.Push(Assembly.Load(reference));
                }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    // an optional reference that is not shipped: nothing to preload
                }
            }
        }
    }

    [DllImport("libc", EntryPoint = "chroot", SetLastError = true)]
    private static extern int LibChroot(byte* path);

    [DllImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    private static extern int LibSetgroups(nuint size, uint* list);
}

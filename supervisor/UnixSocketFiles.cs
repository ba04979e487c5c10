using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Shared.Interop;

namespace Proxy.Supervisor;

/// <summary>What the supervisor does to the files of the UNIX sockets it binds (`stats socket`, `bind unix@`).</summary>
internal static class UnixSocketFiles
{
    /// <summary>True when a process accepts connections on <paramref name="path"/> (a file, or UnixAddress's abstract form).</summary>
    public static bool Answers(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(UnixAddress.EndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sets the file's mode (null: the umask's) and owner: `uid`/`gid` win over `user`/`group`, which name them
    /// (HAProxy's bind options of a UNIX socket). Returns null, or why it failed.
    /// </summary>
    public static string? SetModeAndOwner(string path, int? mode, uint? uid, string? user, uint? gid, string? group)
    {
        if (mode is { } m) File.SetUnixFileMode(path, (UnixFileMode)m);
        if (Privileges.Resolve(user, group, out uint? namedUid, out uint? namedGid) is { } unknown)
            return unknown;
        uid ??= namedUid;
        gid ??= group is null ? null : namedGid;
        if ((uid ?? gid) is not null && Posix.ChangeOwner(path, uid, gid) is { } error)
            return $"cannot change its owner: {error}";
        return null;
    }
}

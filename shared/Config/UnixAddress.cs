using System.Net.Sockets;
using System.Text;

namespace Proxy.Shared.Config;

/// <summary>
/// UNIX socket addresses of `bind` and `server` lines (doc/configuration.txt 11 "Address formats"): `unix@PATH` or a
/// path starting with '/', and `abns@NAME`, a socket in Linux's abstract namespace (no file; the name starts with a
/// NUL byte). The model keeps a path as written (made absolute) and an abstract name as "\0NAME".
/// </summary>
public static class UnixAddress
{
    /// <summary>sizeof(sockaddr_un.sun_path) on Linux.</summary>
    private const int SunPathLength = 108;

    /// <summary>
    /// True when <paramref name="item"/> is a UNIX address form; <paramref name="path"/> is then the model's path, or
    /// null after an error was reported through <paramref name="error"/>.
    /// </summary>
    internal static bool TryParse(string keyword, string item, Action<string> error, out string? path)
    {
        path = null;
        string rest;
        bool isAbstract = false;
        if (item.StartsWith("unix@", StringComparison.Ordinal)) rest = item[5..];
        else if (item.StartsWith("abns@", StringComparison.Ordinal)) { rest = item[5..]; isAbstract = true; }
        else if (item.StartsWith('/')) rest = item;
        else return false;
        if (rest.Length == 0)
        {
            error($"'{keyword}': missing the socket {(isAbstract ? "name" : "path")} in {ConfigDiagnostics.Quote(item)}");
            return true;
        }
        if (rest.Contains('\0'))
        {
            error($"'{keyword}': invalid socket address {ConfigDiagnostics.Quote(item)}");
            return true;
        }
        // A relative path is the supervisor's working directory's, as HAProxy's (which has no `unix-bind prefix` here);
        // made absolute once so the workers, which may chdir/chroot, reach the same file.
        string candidate = isAbstract ? "\0" + rest : Path.GetFullPath(rest);
        // A path needs its terminating NUL in sun_path; an abstract name fills it (HAProxy pads it with NULs).
        int max = isAbstract ? SunPathLength : SunPathLength - 1;
        if (Encoding.UTF8.GetByteCount(candidate) > max)
        {
            error($"'{keyword}': socket address {ConfigDiagnostics.Quote(item)} is too long (at most {max - (isAbstract ? 1 : 0)} bytes on Linux)");
            return true;
        }
        path = candidate;
        return true;
    }

    /// <summary>True for an `abns@` name.</summary>
    public static bool IsAbstract(string path) => path.StartsWith('\0');

    /// <summary>The address as HAProxy writes it: `unix@/PATH` or `abns@NAME`.</summary>
    public static string Display(string path) => IsAbstract(path) ? "abns@" + path[1..] : "unix@" + path;

    /// <summary>
    /// The socket address to bind or connect to. An abstract name is padded with NULs to the whole of sun_path, as
    /// HAProxy 2.6 binds and connects `abns@` sockets (its address length is sizeof(struct sockaddr_un)), so that a name
    /// bound by HAProxy is reached from here and the other way round.
    /// </summary>
    public static UnixDomainSocketEndPoint EndPoint(string path) =>
        new(IsAbstract(path) ? path + new string('\0', SunPathLength - Encoding.UTF8.GetByteCount(path)) : path);
}

using System.Net;
using Proxy.Shared.Config;
using Proxy.Worker.ProxyProtocol;

namespace Proxy.Worker.Health;

/// <summary>
/// Whether and how a health check starts with a PROXY header (5.2 "check-send-proxy"): always with `check-send-proxy`,
/// and, as HAProxy, by default when the server's traffic has `send-proxy*` and the check goes to the server itself (no
/// `port` nor `addr`). v2 when the server has `send-proxy-v2`, else v1. A check has no client: v1 carries the check
/// connection's own addresses (HAProxy's make_proxy_line with the check connection as "remote"), v2 the LOCAL command,
/// or with the global `pp2-never-send-local` the PROXY command with those addresses (HAProxy before 2.2).
/// </summary>
internal readonly record struct CheckProxyHeader(bool Send, bool V2, bool Local, ProxyV2Options Options)
{
    public static CheckProxyHeader For(ServerConfig server, bool pp2NeverSendLocal)
    {
        var pp = server.ProxyProtocol;
        var check = server.CheckSettings;
        bool send = pp.CheckSendProxy || (pp.Sends && check.Port is null && check.Address is null);
        return new CheckProxyHeader(send, pp.SendV2, !pp2NeverSendLocal, pp.SendV2 ? pp.V2Options : ProxyV2Options.None);
    }

    /// <summary>The header for a check connection from <paramref name="local"/> to <paramref name="server"/> (allocates: once per check, off the request path).</summary>
    public byte[] Build(IPEndPoint? local, IPEndPoint? server)
    {
        Span<byte> buffer = stackalloc byte[ProxyHeaderWriter.MaxLength];
        int n = V2 ? ProxyHeaderWriter.WriteV2(buffer, local, server, Local, Options, default) : ProxyHeaderWriter.WriteV1(buffer, local, server);
        return buffer[..n].ToArray();
    }
}

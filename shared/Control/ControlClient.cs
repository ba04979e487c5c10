using System.Net.Sockets;
using System.Text;

namespace Proxy.Shared.Control;

/// <summary>
/// One command on the control socket, HAProxy's non-interactive way: send a line, read until the
/// supervisor closes the connection.
/// </summary>
public static class ControlClient
{
    /// <summary>Returns the reply, or throws SocketException when nothing listens at <paramref name="path"/>.</summary>
    public static async Task<string> SendAsync(string path, string command, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
        byte[] line = Encoding.UTF8.GetBytes(command + "\n");
        await socket.SendAsync(line, SocketFlags.None, cts.Token);
        var reply = new MemoryStream();
        byte[] buffer = new byte[16384];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0) break;
            reply.Write(buffer, 0, n);
        }
        return Encoding.UTF8.GetString(reply.GetBuffer(), 0, (int)reply.Length);
    }
}

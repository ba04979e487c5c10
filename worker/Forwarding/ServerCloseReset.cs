using System.Net.Sockets;
using Tmds.Linux;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// How a server connection closes, as HAProxy closes one (tcp_connect_server marks every TCP server connection
/// FD_LINGER_RISK, "close hard if needed"; conn_sock_read0 clears it): when the proxy closes first, before the server's
/// FIN was read, the close sends a reset (SO_LINGER 0) instead of a FIN, so the proxy's side keeps no TIME_WAIT.
/// A FIN would leave one per server connection for 60 s on the proxy's ephemeral port: with `Connection: close`
/// clients that is one per request, about 470 new connections per second to one server address before connect()
/// runs out of ports (28,232 ports / 60 s; loopback alone escapes it through tcp_tw_reuse), and the kernel's port
/// search in connect() grows with them. Measured on the close bench: perf/README.md, "server connections close with a reset".
/// A connection whose server closed first (its FIN read) closes normally: the TIME_WAIT is the server's.
/// </summary>
internal static unsafe class ServerCloseReset
{
    /// <summary>Arms the reset on <paramref name="socket"/>'s close (its next close sends RST); a socket already closed is left alone.</summary>
    public static void Arm(Socket socket)
    {
        var handle = socket.SafeHandle;
        if (handle.IsClosed) return;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);   // the descriptor cannot be closed (and its number reused) meanwhile
            linger off = new() { l_onoff = 1, l_linger = 0 };
            LibC.setsockopt((int)handle.DangerousGetHandle(), LibC.SOL_SOCKET, LibC.SO_LINGER, &off, sizeof(linger));
        }
        catch (ObjectDisposedException)
        {
            // closed by another thread (an abort) between the check and the reference: nothing to arm
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }
}

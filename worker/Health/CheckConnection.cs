using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Health;

/// <summary>
/// A check's TCP connection: the connect bounded by the connect timeout, then the PROXY header when the check sends
/// one. Shared by the HTTP/layer-4 probe and the tcp-check script (each of its `connect` steps).
/// </summary>
internal static class CheckConnection
{
    /// <summary>
    /// Connects <paramref name="socket"/> to <paramref name="target"/>; null when connected (and the header sent), else
    /// the failed check's outcome (L4TOUT, L4CON). <paramref name="total"/> bounds the whole check, <paramref name="stop"/> the engine.
    /// </summary>
    public static async Task<CheckOutcome?> ConnectAsync(Socket socket, IPEndPoint target, CheckProxyHeader header,
        TimeSpan connectTimeout, CancellationToken total, CancellationToken stop)
    {
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(total))
        {
            connect.CancelAfter(connectTimeout);
            try
            {
                await socket.ConnectAsync(target, connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                stop.ThrowIfCancellationRequested();
                return new CheckOutcome(CheckStatusCode.L4Tout, 0, null);
            }
            catch (SocketException e)
            {
                return new CheckOutcome(CheckStatusCode.L4Con, 0, e.Message);
            }
        }
        if (!header.Send) return null;
        try
        {
            byte[] bytes = header.Build(socket.LocalEndPoint as IPEndPoint, socket.RemoteEndPoint as IPEndPoint);
            await socket.SendAsync(bytes, SocketFlags.None, total).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            stop.ThrowIfCancellationRequested();
            return new CheckOutcome(CheckStatusCode.L4Tout, 0, null);
        }
        catch (SocketException e)
        {
            return new CheckOutcome(CheckStatusCode.L4Con, 0, e.Message);
        }
    }
}

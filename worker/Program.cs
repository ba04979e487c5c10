using System.Globalization;
using NLog;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;
using Proxy.Shared.Logging;
using Proxy.Worker;

// proxy-worker --channel-fd FD --slot K
// Started only by the supervisor, which hands it FD: its end of a socketpair made for this worker alone.

int channelFd = -1;
int slot = 0;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case WorkerChannel.FdArgument when i + 1 < args.Length
            && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int fd) && fd > 2:
            channelFd = fd; i++; break;
        case "--slot" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int k):
            slot = k; i++; break;
        default:
            Console.Error.WriteLine($"proxy-worker: unknown or invalid argument '{args[i]}' (workers are started by the supervisor)");
            return 2;
    }
}
if (channelFd < 0)
{
    Console.Error.WriteLine($"proxy-worker: started by the supervisor only (missing {WorkerChannel.FdArgument})");
    return 2;
}

LogSetup.ConfigureWorker();
try
{
    using var channel = SocketPair.Adopt(channelFd);
    return await WorkerHost.RunAsync(channel);
}
catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
{
    LogManager.GetLogger("worker").Error($"worker slot {slot + 1}: {e.Message}");
    return 1;
}
finally
{
    LogManager.Shutdown();
}

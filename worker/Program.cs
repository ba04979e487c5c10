using NLog;
using Proxy.Shared.Control;
using Proxy.Shared.Logging;
using Proxy.Worker;

// proxy-worker --channel NAME --slot K
// Started only by the supervisor, which passes the one-time token in PROXY_WORKER_TOKEN.

string? channel = null;
int slot = 0;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--channel" when i + 1 < args.Length: channel = args[++i]; break;
        case "--slot" when i + 1 < args.Length: slot = int.Parse(args[++i]); break;
        default:
            Console.Error.WriteLine($"proxy-worker: unknown argument '{args[i]}' (workers are started by the supervisor)");
            return 2;
    }
}
string? token = Environment.GetEnvironmentVariable(WorkerChannel.TokenVariable);
if (channel is null || token is null)
{
    Console.Error.WriteLine("proxy-worker: started by the supervisor only (missing --channel or token)");
    return 2;
}
Environment.SetEnvironmentVariable(WorkerChannel.TokenVariable, null);

LogSetup.ConfigureWorker();
try
{
    return await WorkerHost.RunAsync(channel, token);
}
catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
{
    LogManager.GetLogger("worker").Error($"worker slot {slot + 1}: {e.Message}");
    return 1;
}
finally
{
    LogManager.Shutdown();
}

using System.Net;
using System.Net.Sockets;
using Proxy.Shared.Config;
using Proxy.Worker;

namespace Proxy.Tests.Worker;

/// <summary>
/// A started engine on one listener, set up as in production: the test keeps the listening socket (the
/// "supervisor's copy") and the engine gets a Socket on a dup of its descriptor.
/// </summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private EngineHarness(ProxyEngine engine, Socket supervisorCopy, IPEndPoint endPoint)
    {
        Engine = engine;
        SupervisorCopy = supervisorCopy;
        EndPoint = endPoint;
    }

    public ProxyEngine Engine { get; }
    public Socket SupervisorCopy { get; }
    public IPEndPoint EndPoint { get; }

    public static EngineHarness Start(Func<IPEndPoint, ProxyConfig> makeConfig, NLog.ILogger? log = null)
    {
        var listener = TcpTestKit.Listen();
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        var config = makeConfig(ep);
        var fe = config.Frontends[0];
        var engine = new ProxyEngine(config, [new BoundListener(fe, fe.Binds[0], TcpTestKit.Duplicate(listener))], log ?? TcpTestKit.NullLog);
        engine.Start();
        return new EngineHarness(engine, listener, ep);
    }

    public static EngineHarness Start(IReadOnlyList<ServerConfig> servers, BalanceAlgorithm balance = BalanceAlgorithm.RoundRobin,
        Timeouts? feTimeouts = null, Timeouts? beTimeouts = null, int retries = 3, bool redispatch = false, int feMaxConn = 0,
        NLog.ILogger? log = null)
        => Start(ep => TcpTestKit.Config(
            TcpTestKit.Frontend(ep, feTimeouts, feMaxConn),
            TcpTestKit.Backend(servers, balance, beTimeouts, retries, redispatch)), log);

    public Task<Socket> ConnectAsync() => TcpTestKit.ConnectAsync(EndPoint);

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        SupervisorCopy.Dispose();
    }
}

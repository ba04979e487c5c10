using System.Net.Sockets;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Forwarding;

// One http session object serves one client connection after another (HttpSessionPool), with its parts (the client's
// BufferedSocket, the ServerConnector, the HttpServerConnection, the sample context): how a connection's run ends,
// when the object may start again, and what starting again resets. The constructor and Reuse leave the same state
// (HttpSessionReuseTests compares every field of a reused session with a new one's).
internal sealed partial class HttpSession
{
    private bool _recyclable;      // the connection ended with nothing of it left running: the object may serve another
    private long _retiredStamp;    // SessionTableReaders' stamp when the session left the engine's table

    public override void Execute() => _ = RunAsync();

    /// <summary>
    /// The session has left the engine's table and closed both sides: it may serve another connection once every
    /// thread that read the table before has gone (<see cref="MayBeReused"/>), if nothing of this one is left: no
    /// transaction (one an operation might still hold after a failure), no server permit, no queue place, no attempt.
    /// Kept for that, it holds none of this connection's variables, captures, tracker, TLS state or addresses; its
    /// disposed sockets and the last forwardfor line stay until <see cref="Reuse"/> replaces them.
    /// </summary>
    private void Retire()
    {
        _retiredStamp = _engine.SessionReaders.StampAfterRemoval();
        _recyclable = Transaction is null && _connector.IsIdle;
        if (!_recyclable) return;
        Clear();
        // RunAsync's last step: nothing of it touches the session after this, and only this thread rents from its pool.
        HttpSessionPool.Return(this);
    }

    /// <summary>Whether no other thread (the timer, `show sess`, a kill) can still hold this session from its last connection.</summary>
    internal bool MayBeReused => _engine.SessionReaders.IsQuietSince(_retiredStamp);

    /// <summary>Starts the session again for <paramref name="client"/>, every field as the constructor leaves it.</summary>
    internal void Reuse(ProxyEngine engine, FrontendRuntime fe, Socket client)
    {
        BeginConnection(client);
        Clear();
        _recyclable = false;
        _retiredStamp = 0;
        _server.Reuse(engine.BufferSize);
        _client.Reuse(client, engine.BufferSize);
        Bind(engine, fe);
    }

    /// <summary>Every per-connection field back to the constructor's value, but the run's own (_recyclable, _retiredStamp).</summary>
    private void Clear()
    {
        ClearConnection();
        _tx = null!;
        _out = [];
        _requests = 0;
        _phase = 0;
        _phaseStart = 0;
        _clientBusy = 0;
        _clientWaitSince = 0;
        _clientTimedOut = 0;
        _aborted = 0;
        _cause = 0;
        _serverTimedOut = 0;
        _requestRejected = 0;
        _tarpitMs = 0;
        _tarpitExpired = 0;
        _continueSent = false;
        _clientSaidLast = false;
        _compressor = null;
        _chunkPayload = default;
        _afterHead = null;
        // _addedLines stays: each line is rebuilt when its header name or address differs (HttpSession.AddedHeaders.cs).
        _connector.Clear();
    }
}

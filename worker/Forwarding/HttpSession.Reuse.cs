using System.Net.Sockets;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Forwarding;

// One http session object serves one client connection after another (HttpSessionPool), with its parts (the client's
// BufferedSocket, the ServerConnector, the HttpServerConnection, the sample context): how a connection's run ends,
// when the object may start again, and what starting again resets. The constructor and Reuse leave the same state
// (HttpSessionReuseTests compares every field of a reused session with a new one's).
internal sealed partial class HttpSession
{
    private ValueTask _run;        // RunAsync while it is suspended, ended by OnRunEnded
    private Action? _runEnded;     // OnRunEnded, made once per session object
    private bool _recyclable;      // the connection ended with nothing of it left running: the object may serve another
    private long _retiredStamp;    // SessionTableReaders' stamp when the session left the engine's table

    public override void Execute()
    {
        var run = RunAsync();
        if (run.IsCompleted)
        {
            EndRun(run);
            return;
        }
        _run = run;
        run.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_runEnded ??= OnRunEnded);
    }

    private void OnRunEnded()
    {
        var run = _run;
        _run = default;
        EndRun(run);
    }

    /// <summary>The connection is over: RunAsync's state goes back to its pool, and the session to HttpSessionPool when it may serve another.</summary>
    private void EndRun(ValueTask run)
    {
        run.GetAwaiter().GetResult();   // RunAsync never throws
        if (_recyclable) HttpSessionPool.Return(this);
    }

    /// <summary>
    /// The session has left the engine's table and closed both sides: it may serve another connection once every
    /// thread that read the table before has gone (<see cref="MayBeReused"/>), if nothing of this one is left: no
    /// transaction (one an operation might still hold after a failure), no server permit, no queue place, no attempt.
    /// </summary>
    private void Retire()
    {
        _retiredStamp = _engine.SessionReaders.StampAfterRemoval();
        _recyclable = Transaction is null && _connector.IsIdle;
    }

    /// <summary>Whether no other thread (the timer, `show sess`, a kill) can still hold this session from its last connection.</summary>
    internal bool MayBeReused => _engine.SessionReaders.IsQuietSince(_retiredStamp);

    /// <summary>Starts the session again for <paramref name="client"/>, every field as the constructor leaves it.</summary>
    internal void Reuse(ProxyEngine engine, FrontendRuntime fe, Socket client)
    {
        BeginConnection(client);
        _req = null!;
        _resp = null!;
        _tx = null!;
        _out = [];
        _clientEndPoint = null;
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
        _compressor = null;
        _chunkPayload = default;
        _afterHead = null;
        _run = default;
        _recyclable = false;
        _retiredStamp = 0;
        // _addedLines stays: each line is rebuilt when its header name or address differs (HttpSession.AddedHeaders.cs).
        _connector.Clear();
        _server.Reuse(engine.BufferSize);
        _client.Reuse(client, engine.BufferSize);
        Bind(engine, fe);
    }
}

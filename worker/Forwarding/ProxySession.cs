namespace Proxy.Worker.Forwarding;

/// <summary>
/// What the engine needs from a client connection, whatever its mode: a place in the session table the
/// coarse timer scans (<see cref="CheckTimeouts"/>), its frontend (for its connection permit) and a way to abort it.
/// </summary>
internal abstract class ProxySession : IThreadPoolWorkItem
{
    internal int SessionIndex = -1;   // index in the engine's session table

    internal abstract FrontendRuntime Frontend { get; }

    /// <summary>Closes everything now; pending operations complete with errors. Idempotent.</summary>
    internal abstract void Abort();

    /// <summary>True once <see cref="Abort"/> (or an I/O failure) has started closing the session.</summary>
    internal abstract bool IsAborted { get; }

    /// <summary>Called by the engine's timer with Environment.TickCount64; never blocks, never does I/O but closing.</summary>
    internal abstract void CheckTimeouts(long now);

    public abstract void Execute();
}

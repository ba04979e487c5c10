namespace Proxy.Worker;

/// <summary>
/// The threads that read the engine's session table besides the sessions' own (the engine's timer, `show sess`, a
/// server's sessions killed on its state change, the engine's disposal), counted so that an http session object can
/// serve another connection (HttpSessionPool) only once none of them can still hold it from its last one: a timer
/// pass that read the session just before it ended would otherwise time out, shut down or abort the next
/// connection's socket. Lock-free, as the table itself: a reader counts itself in (<see cref="Enter"/>) before it
/// reads a slot; a session that left its slot takes a <see cref="StampAfterRemoval"/>, and is reusable once
/// <see cref="IsQuietSince"/> says every reader of that moment has gone (the count came back to zero since).
/// The engine's timer reads the table ten times a second for well under a millisecond, so a session is almost always
/// reusable at once.
/// </summary>
internal sealed class SessionTableReaders
{
    /// <summary>The stamp of a session that no reader could hold when it left the table.</summary>
    public const long Unread = -1;

    private int _active;       // readers inside the table now
    private long _quietCount;  // how many times _active came back to zero

    /// <summary>Counts a reader in until the returned scope is disposed; enter before reading any slot.</summary>
    public Scope Enter()
    {
        Interlocked.Increment(ref _active);   // a full fence: the slots are read after it
        return new Scope(this);
    }

    /// <summary>
    /// For a session whose slot was just cleared: <see cref="Unread"/> when no reader is inside (one entering now sees
    /// the cleared slot), else the quiet count to wait past.
    /// </summary>
    public long StampAfterRemoval()
    {
        // Dekker's pattern with Enter: the cleared slot is visible before _active is read here, and a reader's
        // increment before its reads of the slots, so either this sees the reader or the reader sees the slot empty.
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref _active) == 0 ? Unread : Interlocked.Read(ref _quietCount);
    }

    /// <summary>Whether no reader can still hold a session stamped <paramref name="stamp"/> (all of that moment's have left).</summary>
    public bool IsQuietSince(long stamp) => stamp == Unread || Interlocked.Read(ref _quietCount) != stamp;

    public readonly struct Scope(SessionTableReaders readers) : IDisposable
    {
        public void Dispose()
        {
            if (Interlocked.Decrement(ref readers._active) == 0) Interlocked.Increment(ref readers._quietCount);
        }
    }
}

namespace Proxy.Worker;

/// <summary>
/// The threads that read the engine's session table besides the sessions' own (the engine's timer, `show sess`, a
/// server's sessions killed on its state change, the engine's disposal), counted so that an http session object can
/// serve another connection (HttpSessionPool) only once none of them can still hold it from its last one: a timer
/// pass that read the session just before it ended would otherwise time out, shut down or abort the next
/// connection's socket. Lock-free, as the table itself: a reader counts itself in (<see cref="Enter"/>) before it
/// reads a slot; a session that left its slot takes a <see cref="StampAfterRemoval"/>, and is reusable once
/// <see cref="IsQuietSince"/> says every reader of that moment has gone (the count came back to zero since: the epoch moved).
/// The engine's timer reads the table ten times a second for well under a millisecond, so a session is almost always
/// reusable at once.
/// </summary>
internal sealed class SessionTableReaders
{
    /// <summary>The stamp of a session that no reader could hold when it left the table.</summary>
    public const long Unread = -1;

    // One word, so that the count's return to zero and the epoch's step are one atomic change: with two, a reader
    // leaving last could be overtaken between them by a reader entering and a session stamped on the old epoch, whose
    // step then came from the first reader's exit while the second still held the session (review finding).
    // Low 32 bits: readers inside the table now; high 32: how many times that count came back to zero.
    private long _state;

    /// <summary>Counts a reader in until the returned scope is disposed; enter before reading any slot.</summary>
    public Scope Enter()
    {
        Interlocked.Increment(ref _state);   // a full fence: the slots are read after it
        return new Scope(this);
    }

    /// <summary>
    /// For a session whose slot was just cleared: <see cref="Unread"/> when no reader is inside (one entering now sees
    /// the cleared slot), else the epoch to wait past.
    /// </summary>
    public long StampAfterRemoval()
    {
        // Dekker's pattern with Enter: the cleared slot is visible before _state is read here, and a reader's
        // increment before its reads of the slots, so either this sees the reader or the reader sees the slot empty.
        Interlocked.MemoryBarrier();
        long state = Interlocked.Read(ref _state);
        return (uint)state == 0 ? Unread : Epoch(state);
    }

    /// <summary>Whether no reader can still hold a session stamped <paramref name="stamp"/> (all of that moment's have left).</summary>
    public bool IsQuietSince(long stamp) => stamp == Unread || Epoch(Interlocked.Read(ref _state)) != stamp;

    private static long Epoch(long state) => state >>> 32;

    private void Leave()
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            long next = (uint)state == 1 ? (long)((ulong)(Epoch(state) + 1) << 32) : state - 1;
            if (Interlocked.CompareExchange(ref _state, next, state) == state) return;
        }
    }

    public readonly struct Scope(SessionTableReaders readers) : IDisposable
    {
        public void Dispose() => readers.Leave();
    }
}

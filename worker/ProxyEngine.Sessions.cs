using System.Text;

namespace Proxy.Worker;

// `show sess` (doc/management.txt 9.3): the supervisor asks each worker over its channel; the answer is read from the
// session table the engine's timer scans, off the request path (no lock: a slot is a reference, read once; the
// reader counted in SessionReaders, so that no session object it may hold serves another connection meanwhile).
public sealed partial class ProxyEngine
{
    /// <summary>
    /// One HAProxy `show sess` line per live session of this worker. A session's id is this worker's slot (from 1)
    /// in the high 32 bits and its place in the table below, so ids from different workers never collide.
    /// </summary>
    public List<string> DescribeSessions(int workerSlot)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        long now = Environment.TickCount64;
        var sessions = _sessions;
        using var reading = SessionReaders.Enter();
        for (int i = 0; i < sessions.Length; i++)
        {
            if (Volatile.Read(ref sessions[i]) is not { } session) continue;
            line.Clear();
            session.Describe(line, ((long)(workerSlot + 1) << 32) | (uint)i, now);
            lines.Add(line.ToString());
        }
        return lines;
    }

    /// <summary>This worker's live sessions, read as <see cref="DescribeSessions"/> reads them (tests).</summary>
    internal IEnumerable<Forwarding.ProxySession> LiveSessions()
    {
        var sessions = _sessions;
        using var reading = SessionReaders.Enter();   // left when the caller's enumeration ends
        for (int i = 0; i < sessions.Length; i++)
            if (Volatile.Read(ref sessions[i]) is { } session) yield return session;
    }
}

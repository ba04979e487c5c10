namespace Proxy.Shared.Tables;

// The run-time API's view of a table (`show table`): a copy of the live entries, read on the supervisor's side.
public sealed unsafe partial class StickTableFile
{
    /// <summary>One live entry as `show table` prints it.</summary>
    public readonly record struct EntryView(int Index, byte[] Key, long ExpireIn, long[] Values);

    /// <summary>
    /// Copies the live entries (each under its bucket lock) for `show table`: the key, the time left before expiry
    /// (ms, 0 when none), and the value of each stored type in <see cref="StickTableConfig.Store"/> order (gpc(N): its
    /// N values in a row). Supervisor side; allocates.
    /// </summary>
    public List<EntryView> Snapshot(long now)
    {
        var list = new List<EntryView>();
        int limit = Math.Min(Volatile.Read(ref *(int*)(_base + HNextUnused)), Layout.EntryCount);
        for (int i = 0; i < limit; i++)
        {
            byte* e = Entry(i);
            int b = LinkedBucket(e);
            if (b < 0) continue;
            int* bucket = Bucket(b);
            Lock(bucket);
            if (LinkedBucket(e) == b && !Expired(e, now))
            {
                var key = new ReadOnlySpan<byte>(e + EKey, Math.Min((int)*(ushort*)(e + EKeyLength), Layout.KeyLength)).ToArray();
                long exp = *(long*)(e + EExpire);
                var values = new List<long>();
                foreach (var spec in Config.Store)
                {
                    if (spec.Shape == StickDataShape.Array)
                        for (int k = 0; k < spec.Count; k++) values.Add(Read(e, spec.Type, now, k));
                    else values.Add(Read(e, spec.Type, now));
                }
                list.Add(new EntryView(i, key, exp == 0 ? 0 : Math.Max(0, exp - now), values.ToArray()));
            }
            Unlock(bucket);
        }
        return list;
    }
}

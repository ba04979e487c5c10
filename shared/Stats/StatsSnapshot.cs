namespace Proxy.Shared.Stats;

/// <summary>One worker slot in use, as a snapshot saw it.</summary>
public sealed record StatsWorker(
    int Slot, int Pid, long Generation, int Cpu, WorkerSlotState State,
    DateTimeOffset StartedAt, DateTimeOffset LastHeartbeat, IReadOnlyList<long> InfoValues)
{
    /// <summary>Starting, running or draining: its gauges count.</summary>
    public bool IsLive => State is WorkerSlotState.Starting or WorkerSlotState.Running or WorkerSlotState.Draining;

    public long Info(InfoField field) => InfoValues[(int)field];
}

/// <summary>
/// The values of one object: either one worker's (<see cref="Pid"/> its pid, <see cref="Slot"/> its slot)
/// or the total over every process, live and gone (<see cref="Pid"/> 0, <see cref="Slot"/> -1).
/// </summary>
public sealed record StatsRow(StatObjectDescriptor Object, int ObjectIndex, int Pid, int Slot, IReadOnlyList<long> Values)
{
    public bool IsTotal => Slot < 0;

    public long this[StatField field] => Values[(int)field];
}

/// <summary>A consistent copy of a board at one instant, aggregated (see <see cref="StatKind"/>).</summary>
public sealed class StatsSnapshot
{
    internal StatsSnapshot(
        DateTimeOffset takenAt, DateTimeOffset createdAt, long generation, int supervisorPid,
        IReadOnlyList<StatObjectDescriptor> objects, IReadOnlyList<StatsWorker> workers,
        IReadOnlyList<StatsRow> totals, IReadOnlyList<StatsRow> workerRows, IReadOnlyList<long> infoTotals)
    {
        TakenAt = takenAt;
        CreatedAt = createdAt;
        Generation = generation;
        SupervisorPid = supervisorPid;
        Objects = objects;
        Workers = workers;
        Totals = totals;
        WorkerRows = workerRows;
        InfoTotals = infoTotals;
    }

    public DateTimeOffset TakenAt { get; }

    /// <summary>When the supervisor process started the board (kept across reloads, reset by a restart): the base of Uptime_sec.</summary>
    public DateTimeOffset CreatedAt { get; }

    public long Generation { get; }

    public int SupervisorPid { get; }

    public IReadOnlyList<StatObjectDescriptor> Objects { get; }

    /// <summary>Slots in use (any state but Free), by slot index.</summary>
    public IReadOnlyList<StatsWorker> Workers { get; }

    /// <summary>One total row per object, in board order (pid 0: every process, live and gone).</summary>
    public IReadOnlyList<StatsRow> Totals { get; }

    /// <summary>One row per object per slot in use, grouped by slot.</summary>
    public IReadOnlyList<StatsRow> WorkerRows { get; }

    /// <summary>Info values aggregated over every process, indexed by <see cref="InfoField"/>.</summary>
    public IReadOnlyList<long> InfoTotals { get; }

    public long Info(InfoField field) => InfoTotals[(int)field];

    /// <summary>`show info` CurrConns: the frontends' scur, over every live worker or of <paramref name="worker"/>.</summary>
    public long CurrConns(StatsWorker? worker = null) => SumOverFrontends(StatField.Scur, worker);

    /// <summary>`show info` CumConns: the frontends' stot (every connection a frontend accepted), live and gone workers.</summary>
    public long CumConns(StatsWorker? worker = null) => SumOverFrontends(StatField.Stot, worker);

    /// <summary>`show info` CumReq: the frontends' req_tot (HTTP requests received).</summary>
    public long CumReq(StatsWorker? worker = null) => SumOverFrontends(StatField.ReqTot, worker);

    /// <summary>`show info` CurrSslConns and CumSslConns: the frontends' open TLS sessions and completed handshakes.</summary>
    public long CurrSslConns(StatsWorker? worker = null) => SumOverFrontends(StatField.SslCur, worker);

    public long CumSslConns(StatsWorker? worker = null) => SumOverFrontends(StatField.SslSess, worker);

    // The process-wide counts are the frontends' own, counted live on the board: one source, never a second copy.
    private long SumOverFrontends(StatField field, StatsWorker? worker)
    {
        long sum = 0;
        foreach (var r in worker is null ? Totals : WorkerRows)
        {
            if (r.Object.Kind == StatObjectKind.Frontend && (worker is null || r.Slot == worker.Slot)) sum += r[field];
        }
        return sum;
    }

    /// <summary>
    /// `show info`'s Stopping for the instance: every live worker drains. During a reload the old
    /// generation drains beside a running new one, which is not stopping.
    /// </summary>
    public bool Stopping => Workers.Any(w => w.IsLive) && Workers.Where(w => w.IsLive).All(w => w.State == WorkerSlotState.Draining);

    /// <summary>The total row of the object named "pxname/svname".</summary>
    public StatsRow Total(string key) =>
        Totals.FirstOrDefault(r => r.Object.Key == key) ?? throw new KeyNotFoundException($"no object '{key}' in the snapshot");

    /// <summary>The total of one field of one object.</summary>
    public long Total(string key, StatField field) => Total(key)[field];
}

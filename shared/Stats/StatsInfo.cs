using System.Globalization;
using System.Text;

namespace Proxy.Shared.Stats;

/// <summary>One `show info` line: a name and either a number or a text.</summary>
public readonly record struct StatsInfoValue(string Name, long? Number, string? Text)
{
    public override string ToString() => Number?.ToString(CultureInfo.InvariantCulture) ?? Text ?? "";
}

/// <summary>
/// HAProxy's `show info` ("Name: value" lines) for the whole instance or for one worker. The
/// instance's Pid is the supervisor's; Uptime is the supervisor process's age (it survives reloads, not restarts:
/// the totals carried over from a previous run are a separate matter).
/// </summary>
public static class StatsInfo
{
    /// <summary>This build's version, as `show info`, the stats page and haproxy_process_build_info show it.</summary>
    public static string ProductVersion { get; } = typeof(StatsInfo).Assembly.GetName().Version?.ToString(3) ?? "0";

    /// <summary>The info values, in `show info` order; <paramref name="worker"/> null gives the totals over every process.</summary>
    public static IReadOnlyList<StatsInfoValue> Values(StatsSnapshot snapshot, StatsWorker? worker = null,
        string name = "proxy", string? version = null)
    {
        long Info(InfoField f) => worker?.Info(f) ?? snapshot.Info(f);
        var since = worker?.StartedAt ?? snapshot.CreatedAt;
        long uptime = Math.Max(0, (long)(snapshot.TakenAt - since).TotalSeconds);
        bool stopping = worker is null ? snapshot.Stopping : worker.State == WorkerSlotState.Draining;
        return
        [
            new("Name", null, name),
            new("Version", null, version ?? ProductVersion),
            new("Nbproc", snapshot.Workers.Count(w => w.IsLive), null),
            new("Process_num", worker?.Slot + 1 ?? 0, null),
            new("Pid", worker?.Pid ?? snapshot.SupervisorPid, null),
            new("Uptime", null, FormatUptime(uptime)),
            new("Uptime_sec", uptime, null),
            new("Maxconn", Info(InfoField.MaxConn), null),
            new("CurrConns", snapshot.CurrConns(worker), null),
            new("CumConns", snapshot.CumConns(worker), null),
            new("CumReq", snapshot.CumReq(worker), null),
            new("ConnRate", Info(InfoField.ConnRate), null),
            new("ConnRateLimit", Info(InfoField.ConnRateLimit), null),
            new("MaxConnRate", Info(InfoField.ConnRateMax), null),
            new("SessRate", Info(InfoField.SessRate), null),
            new("SessRateLimit", Info(InfoField.SessRateLimit), null),
            new("MaxSessRate", Info(InfoField.SessRateMax), null),
            new("CompressBpsIn", Info(InfoField.CompressBpsIn), null),
            new("CompressBpsOut", Info(InfoField.CompressBpsOut), null),
            new("CompressBpsRateLim", Info(InfoField.CompressBpsRateLim), null),
            new("CurrSslConns", snapshot.CurrSslConns(worker), null),
            new("CumSslConns", snapshot.CumSslConns(worker), null),
            new("SslRate", Info(InfoField.SslRate), null),
            new("MaxSslRate", Info(InfoField.SslRateMax), null),
            new("SslFrontendKeyRate", Info(InfoField.SslKeyRate), null),
            new("SslFrontendMaxKeyRate", Info(InfoField.SslKeyRateMax), null),
            // HAProxy's: the share of this second's handshakes that resumed a session.
            // The two rates are read a moment apart: clamped to 0-100.
            new("SslFrontendSessionReuse_pct", Info(InfoField.SslRate) is var rate and > 0 ? Math.Clamp(100 - Info(InfoField.SslKeyRate) * 100 / rate, 0, 100) : 0, null),
            new("Stopping", stopping ? 1 : 0, null),
            new("Generation", worker?.Generation ?? snapshot.Generation, null),
        ];
    }

    /// <summary>Writes "Name: value" lines, as the control socket answers `show info`.</summary>
    public static void Write(TextWriter output, StatsSnapshot snapshot, StatsWorker? worker = null, string name = "proxy", string? version = null)
    {
        var sb = new StringBuilder();
        foreach (var v in Values(snapshot, worker, name, version))
            sb.Append(v.Name).Append(": ").Append(v.ToString()).Append('\n');
        output.Write(sb);
    }

    public static string Render(StatsSnapshot snapshot, StatsWorker? worker = null, string name = "proxy", string? version = null)
    {
        var sw = new StringWriter();
        Write(sw, snapshot, worker, name, version);
        return sw.ToString();
    }

    // HAProxy's "Uptime: 0d 0h01m23s".
    private static string FormatUptime(long seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{seconds / 86400}d {seconds / 3600 % 24}h{seconds / 60 % 60:00}m{seconds % 60:00}s");
}

using System.Text;
using System.Text.Json;

namespace Proxy.Shared.Stats;

/// <summary>
/// The board as JSON, written by hand with Utf8JsonWriter (no reflection, AOT-safe):
/// <c>{"info": {...}, "workers": [{"pid","slot","generation","cpu","state",...}], "stats": [rows]}</c>.
/// Rows use the `show stat` column names, omit empty cells, and carry "pid": the worker's, or 0 for a total.
/// </summary>
public static class StatsJson
{
    public static void Write(Stream output, StatsSnapshot snapshot, bool perProcess = true, string name = "proxy", string? version = null)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
        Write(json, snapshot, perProcess, name, version);
    }

    public static void Write(Utf8JsonWriter json, StatsSnapshot snapshot, bool perProcess = true, string name = "proxy", string? version = null)
    {
        json.WriteStartObject();

        json.WriteStartObject("info");
        foreach (var v in StatsInfo.Values(snapshot, null, name, version))
        {
            if (v.Number is { } n) json.WriteNumber(v.Name, n);
            else json.WriteString(v.Name, v.Text);
        }
        json.WriteEndObject();

        json.WriteStartArray("workers");
        foreach (var w in snapshot.Workers)
        {
            json.WriteStartObject();
            json.WriteNumber("pid", w.Pid);
            json.WriteNumber("slot", w.Slot);
            json.WriteNumber("generation", w.Generation);
            json.WriteNumber("cpu", w.Cpu);
            json.WriteString("state", StateName(w.State));
            json.WriteString("started", w.StartedAt);
            json.WriteNumber("uptime_sec", Math.Max(0, (long)(snapshot.TakenAt - w.StartedAt).TotalSeconds));
            json.WriteNumber("heartbeat_age_ms", Math.Max(0, (long)(snapshot.TakenAt - w.LastHeartbeat).TotalMilliseconds));
            json.WriteNumber("CurrConns", snapshot.CurrConns(w));
            json.WriteNumber("CumConns", snapshot.CumConns(w));
            json.WriteNumber("CumReq", snapshot.CumReq(w));
            for (int i = 0; i < StatFields.InfoCount; i++)
                json.WriteNumber(StatFields.Name((InfoField)i), w.Info((InfoField)i));
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("stats");
        foreach (var (row, ids) in StatsRowOrder.Rows(snapshot, perProcess))
        {
            json.WriteStartObject();
            for (int c = 0; c < StatsColumns.Names.Count; c++)
            {
                if (StatsColumns.Cell(c, row, ids, snapshot.TakenAt) is not { } cell) continue;
                if (cell.IsNumber) json.WriteNumber(StatsColumns.Names[c], long.Parse(cell.Text, System.Globalization.CultureInfo.InvariantCulture));
                else json.WriteString(StatsColumns.Names[c], cell.Text);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteEndObject();
        json.Flush();
    }

    public static string Render(StatsSnapshot snapshot, bool perProcess = true, string name = "proxy", string? version = null)
    {
        using var buffer = new MemoryStream();
        Write(buffer, snapshot, perProcess, name, version);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The lower-case state name used in JSON and tables ("running", "draining"...).</summary>
    public static string StateName(WorkerSlotState state) => state switch
    {
        WorkerSlotState.Free => "free",
        WorkerSlotState.Starting => "starting",
        WorkerSlotState.Running => "running",
        WorkerSlotState.Draining => "draining",
        WorkerSlotState.Exited => "exited",
        _ => "unknown",
    };
}

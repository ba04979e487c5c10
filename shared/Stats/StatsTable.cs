using System.Text;

namespace Proxy.Shared.Stats;

/// <summary>
/// A readable fixed-width table for `proxyctl stats`: the totals by default, and each worker's rows
/// (with their pid) on request. Columns are a useful subset of `show stat`, in its order.
/// </summary>
public static class StatsTable
{
    private static readonly string[] s_columns =
        ["pxname", "svname", "status", "weight", "qcur", "scur", "smax", "slim", "stot", "bin", "bout",
         "ereq", "econ", "eresp", "hrsp_5xx", "rate", "req_tot", "pid"];

    private static readonly int[] s_columnIndex = s_columns.Select(c => StatsColumns.Names.ToList().IndexOf(c)).ToArray();

    public static void Write(TextWriter output, StatsSnapshot snapshot, bool perProcess = false)
    {
        var rows = StatsRowOrder.Rows(snapshot, perProcess);
        var cells = new string[rows.Count + 1][];
        cells[0] = s_columns;
        for (int r = 0; r < rows.Count; r++)
        {
            var (row, ids) = rows[r];
            cells[r + 1] = s_columnIndex
                .Select(c => StatsColumns.Cell(c, row, ids, snapshot.TakenAt)?.Text ?? "-").ToArray();
        }
        var widths = new int[s_columns.Length];
        foreach (var line in cells)
            for (int c = 0; c < widths.Length; c++) widths[c] = Math.Max(widths[c], line[c].Length);

        var sb = new StringBuilder();
        foreach (var line in cells)
        {
            for (int c = 0; c < widths.Length; c++)
            {
                // Names left-aligned, numbers right-aligned, as people read them.
                bool left = c < 3;
                if (c > 0) sb.Append("  ");
                sb.Append(left ? line[c].PadRight(widths[c]) : line[c].PadLeft(widths[c]));
            }
            sb.Append('\n');
        }
        output.Write(sb);
    }

    public static string Render(StatsSnapshot snapshot, bool perProcess = false)
    {
        var sw = new StringWriter();
        Write(sw, snapshot, perProcess);
        return sw.ToString();
    }
}

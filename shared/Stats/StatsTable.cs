using System.Text;

namespace Proxy.Shared.Stats;

/// <summary>
/// A readable fixed-width table for `proxyctl stats`: the totals by default, and each worker's rows
/// (with their pid) on request. Columns are the `show stat` ones that <see cref="StatSchema"/> marks InTable, in its order.
/// </summary>
public static class StatsTable
{
    private static readonly int[] s_columnIndex =
        Enumerable.Range(0, StatsColumns.Names.Count).Where(c => StatsColumns.Entry(c).InTable).ToArray();

    private static readonly string[] s_columns = s_columnIndex.Select(c => StatsColumns.Names[c]).ToArray();

    // Names left-aligned, numbers right-aligned, as people read them.
    private static readonly bool[] s_leftAligned =
        s_columnIndex.Select(c => StatsColumns.Entry(c).Cell is StatCell.PxName or StatCell.SvName or StatCell.Status).ToArray();

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
                bool left = s_leftAligned[c];
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

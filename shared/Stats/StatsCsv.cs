using System.Text;

namespace Proxy.Shared.Stats;

/// <summary>HAProxy's `show stat` CSV: a "# " header line, then one line per row, each field followed by a comma.</summary>
public static class StatsCsv
{
    /// <summary>The header line, without its newline: "# pxname,svname,qcur,...,uweight,".</summary>
    public static string Header { get; } = "# " + string.Join(',', StatsColumns.Names) + ",";

    /// <summary>
    /// Writes the CSV of <paramref name="snapshot"/>: the totals (pid 0, every process, live and gone)
    /// and, with <paramref name="perProcess"/>, one block per worker (pid = its pid). <paramref name="include"/>, when
    /// given, keeps only the rows it accepts (the stats page's `stats scope` and `;up`).
    /// </summary>
    public static void Write(TextWriter output, StatsSnapshot snapshot, bool perProcess = false, Func<StatsRow, bool>? include = null) =>
        Write(output, snapshot, Included(StatsRowOrder.Rows(snapshot, perProcess), include));

    private static IEnumerable<(StatsRow Row, RowIds Ids)> Included(IEnumerable<(StatsRow Row, RowIds Ids)> rows, Func<StatsRow, bool>? include)
    {
        foreach (var r in rows)
            if (include is null || include(r.Row)) yield return r;
    }

    /// <summary>The CSV of the rows given, in their order (the runtime API's `show stat IID TYPE SID` filters them).</summary>
    internal static void Write(TextWriter output, StatsSnapshot snapshot, IEnumerable<(StatsRow Row, RowIds Ids)> rows)
    {
        output.Write(Header);
        output.Write('\n');
        var line = new StringBuilder();
        foreach (var (row, ids) in rows)
        {
            line.Clear();
            for (int c = 0; c < StatsColumns.Names.Count; c++)
            {
                if (StatsColumns.Cell(c, row, ids, snapshot.TakenAt) is { } cell) AppendEscaped(line, cell.Text);
                line.Append(',');
            }
            line.Append('\n');
            output.Write(line);
        }
    }

    public static string Render(StatsSnapshot snapshot, bool perProcess = false)
    {
        var sw = new StringWriter { NewLine = "\n" };
        Write(sw, snapshot, perProcess);
        return sw.ToString();
    }

    // HAProxy's csv_enc(): quote a field holding a comma, quote or line break, doubling inner quotes.
    private static void AppendEscaped(StringBuilder sb, string text)
    {
        if (text.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            sb.Append(text);
            return;
        }
        sb.Append('"').Append(text.Replace("\"", "\"\"")).Append('"');
    }
}

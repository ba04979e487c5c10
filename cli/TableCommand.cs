namespace Proxy.Cli;

/// <summary>
/// `proxyctl table show [NAME [data.TYPE OP VALUE] [key KEY]]`, `proxyctl table clear NAME [data.TYPE OP VALUE] [key KEY]`,
/// `proxyctl table set NAME key KEY data.TYPE VALUE...`: the runtime API's `show|clear|set table` (doc/management.txt
/// 9.3) on the instance's control socket, answered as HAProxy prints them.
/// </summary>
public static class TableCommand
{
    public static Task<int> RunAsync(TableOptions o)
    {
        var words = o.Words.ToList();
        if (words.Count == 0 || words[0] is not ("show" or "clear" or "set"))
        {
            Console.Error.WriteLine("usage: proxyctl table show [NAME [data.TYPE OP VALUE] [key KEY]] | clear NAME [key KEY] | set NAME key KEY data.TYPE VALUE -f FILE");
            return Task.FromResult(2);
        }
        return RuntimeCommand.RunLineAsync(o, string.Join(' ', [words[0], "table", .. words.Skip(1)]));
    }
}

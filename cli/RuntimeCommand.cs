namespace Proxy.Cli;

/// <summary>
/// `proxyctl cmd|show|set|enable|disable|clear WORDS...`: one runtime API line on the control socket (the config's
/// first Unix `stats socket`), its answer printed as HAProxy gives it. The runtime API has no status code, so an
/// answer in HAProxy's error wording goes to stderr with exit code 1.
/// </summary>
public static class RuntimeCommand
{
    public static Task<int> RunAsync(RuntimeCommandOptions o, string? verb)
        => RunLineAsync(o, (verb is null ? "" : verb + " ") + string.Join(' ', o.Words));

    /// <summary>Sends <paramref name="command"/> and prints its answer (stderr and exit code 1 for an error).</summary>
    public static async Task<int> RunLineAsync(InstanceOptions o, string command)
    {
        var (reply, socket) = await Commands.SendToInstanceAsync(o, command);
        if (reply is null)
        {
            Console.Error.WriteLine($"not running: nothing answers on control socket {socket}");
            return 1;
        }
        // Every answer ends with an empty line (HAProxy's end of answer); the terminal needs only the text.
        string text = reply == "\n" ? "" : reply.EndsWith("\n\n", StringComparison.Ordinal) ? reply[..^1] : reply;
        if (IsError(text))
        {
            Console.Error.Write(text);
            return 1;
        }
        Console.Write(text);
        return 0;
    }

    /// <summary>The first words of HAProxy's refusals and errors (cli.c, server.c, stats.c), and of this proxy's "not supported".</summary>
    private static readonly string[] ErrorStarts =
    [
        "Permission denied", "Unknown command", "No such", "Require", "Invalid", "usage:", "Can't find", "Value out of range",
        "Absolute weight", "'set ", "'show ", "'add ", "'del ", "'enable ", "'disable ", "'shutdown ", "health checks are not",
        "agent checks are not", "Variable not found", "Expects",
        // show|clear|set table (cli_parse_table_req and friends)
        "Missing table name", "Key value expected", "Unable to", "Data type not stored", "Optional argument",
    ];

    public static bool IsError(string reply)
    {
        foreach (var start in ErrorStarts)
            if (reply.StartsWith(start, StringComparison.Ordinal)) return true;
        return false;
    }
}

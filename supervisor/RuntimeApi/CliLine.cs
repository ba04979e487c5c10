using System.Text;

namespace Proxy.Supervisor.RuntimeApi;

/// <summary>
/// One line read on a stats socket, cut as HAProxy's cli_parse_request() cuts it: commands separated by `;`, words
/// by spaces or tabs, a backslash making the next character literal (`\;`, `\ `, `\\`). Empty commands are dropped.
/// </summary>
public static class CliLine
{
    /// <summary>HAProxy's MAX_CLI_ARGS: words past it are not read.</summary>
    public const int MaxWords = 64;

    public static List<string[]> Split(string line)
    {
        var commands = new List<string[]>();
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        void EndWord()
        {
            if (inWord && words.Count < MaxWords) words.Add(word.ToString());
            word.Clear();
            inWord = false;
        }
        void EndCommand()
        {
            EndWord();
            if (words.Count > 0) commands.Add([.. words]);
            words.Clear();
        }
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (c == ';') EndCommand();
            else if (c is ' ' or '\t' or '\r') EndWord();
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        EndCommand();
        return commands;
    }
}

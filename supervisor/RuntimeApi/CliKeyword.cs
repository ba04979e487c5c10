namespace Proxy.Supervisor.RuntimeApi;

/// <summary>
/// One runtime API command, as an entry of HAProxy's cli_kw lists: the words that name it, its usage and help line
/// (what `help` prints), the lowest level that may run it, and what it does with its words.
/// </summary>
public sealed record CliKeyword(string[] Words, string Usage, string Help, CliLevel Level, Func<string[], CliSession, Task<string>> Run)
{
    /// <summary>The `help` line: usage padded to 40 columns, as HAProxy prints it.</summary>
    public string HelpLine => $"  {Usage.PadRight(40)}: {Help}\n";

    /// <summary>True when <paramref name="words"/> start with this keyword's words.</summary>
    public bool Matches(string[] words)
    {
        if (words.Length < Words.Length) return false;
        for (int i = 0; i < Words.Length; i++)
            if (words[i] != Words[i]) return false;
        return true;
    }
}

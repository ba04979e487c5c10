namespace Proxy.Shared.Config;

/// <summary>
/// HAProxy's conditional blocks and messages (doc/configuration.txt 2.4 "Conditional blocks"): `.if COND`, `.elif COND`,
/// `.else`, `.endif` keep or drop the lines between them, and `.notice`, `.warning`, `.alert`, `.diag` print a message
/// (`.alert` fails the configuration, `.diag` is shown only in HAProxy's diagnostic mode, so never here).
/// A condition is words joined by `&&` and `||` (`&&` binds tighter), each one optionally negated by `!`:
/// a number (true unless 0), an empty word (false), or one of the predicates `defined(NAME)`, `feature(NAME)`,
/// `streq(A,B)`, `strneq(A,B)`, `version_atleast(VER)`, `version_before(VER)`. This proxy reports HAProxy version
/// <see cref="HaproxyCompat.Version"/> and the features in <see cref="HaproxyCompat.Features"/>.
/// </summary>
internal sealed class ConditionalBlocks(ConfigDiagnostics diag, Func<string, string?> env)
{
    /// <summary>One open `.if`: whether its current branch is kept, whether a branch was taken, where it opened.</summary>
    private sealed class Block
    {
        public bool Active;
        public bool Taken;
        public bool SeenElse;
        public bool ParentActive;
        public int Line;
    }

    private readonly Stack<Block> _blocks = new();

    /// <summary>Whether the lines read now are kept (every open block is in a kept branch).</summary>
    public bool Active => _blocks.Count == 0 || _blocks.Peek().Active;

    /// <summary>Whether <paramref name="keyword"/> is one of the dot directives handled here.</summary>
    public static bool IsDirective(string keyword) =>
        keyword is ".if" or ".elif" or ".else" or ".endif" or ".notice" or ".warning" or ".alert" or ".diag";

    /// <summary>Handles a directive line (tokenized whatever the state: the nesting must be followed in dropped blocks too).</summary>
    public void Handle(ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        switch (line.Keyword)
        {
            case ".if":
            {
                bool parent = Active;
                bool value = parent && Evaluate(line);
                _blocks.Push(new Block { Active = value, Taken = value, ParentActive = parent, Line = n });
                return;
            }
            case ".elif":
            {
                if (!TryCurrent(line, out var block)) return;
                if (block.SeenElse) { diag.Error(n, "'.elif' after '.else'"); return; }
                bool value = block.ParentActive && !block.Taken && Evaluate(line);
                block.Active = value;
                block.Taken |= value;
                return;
            }
            case ".else":
            {
                if (!TryCurrent(line, out var block)) return;
                if (block.SeenElse) { diag.Error(n, "'.else' after '.else'"); return; }
                if (w.Count > 1) diag.Error(n, $"'.else': unexpected {ConfigDiagnostics.Quote(w[1])}");
                block.SeenElse = true;
                block.Active = block.ParentActive && !block.Taken;
                block.Taken = true;
                return;
            }
            case ".endif":
                if (TryCurrent(line, out _)) _blocks.Pop();
                if (w.Count > 1) diag.Error(n, $"'.endif': unexpected {ConfigDiagnostics.Quote(w[1])}");
                return;
        }
        if (!Active) return;
        var message = string.Join(' ', w.Skip(1));
        switch (line.Keyword)
        {
            case ".notice": diag.Notice(n, message); break;
            case ".warning": diag.Warning(n, message); break;
            case ".alert": diag.Error(n, message); break;
            case ".diag": break;               // HAProxy prints these only with -dD (diagnostic mode)
        }
    }

    /// <summary>At the end of the file: every `.if` must be closed.</summary>
    public void Finish()
    {
        foreach (var block in _blocks)
            diag.Error(block.Line, "'.if' without a matching '.endif'");
    }

    private bool TryCurrent(ConfigLine line, out Block block)
    {
        if (_blocks.TryPeek(out block!)) return true;
        diag.Error(line.Number, $"'{line.Keyword}' without a matching '.if'");
        return false;
    }

    /// <summary>`TERM [&& TERM]... [|| TERM [&& TERM]...]` (the words after the line's first).</summary>
    internal bool Evaluate(ConfigLine line)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            diag.Error(line.Number, $"'{line.Keyword}': missing the condition");
            return false;
        }
        bool any = false, all = true;
        for (int i = 1; i < w.Count; i++)
        {
            if (w[i] == "||")
            {
                any |= all;
                all = true;
                continue;
            }
            if (w[i] == "&&") continue;
            all &= Term(line.Number, w[i]);
        }
        return any | all;
    }

    private bool Term(int n, string word)
    {
        if (word.StartsWith('!')) return !Term(n, word[1..]);
        if (word.Length == 0) return false;
        if (IntValue.TryParse(word, out int number)) return number != 0;
        int open = word.IndexOf('(');
        if (open < 0 || word[^1] != ')')
        {
            diag.Error(n, $"unknown condition {ConfigDiagnostics.Quote(word)} (expected a number or defined(), feature(), streq(), strneq(), version_atleast(), version_before())");
            return false;
        }
        var name = word[..open];
        var args = word[(open + 1)..^1].Split(',');
        int want = name is "streq" or "strneq" ? 2 : 1;
        if (args.Length != want)
        {
            diag.Error(n, $"'{name}()' takes {want} argument{(want == 1 ? "" : "s")}, got {ConfigDiagnostics.Quote(word)}");
            return false;
        }
        switch (name)
        {
            case "defined": return env(args[0]) is not null;
            case "feature": return HaproxyCompat.Features.Contains(args[0]);
            case "streq": return args[0] == args[1];
            case "strneq": return args[0] != args[1];
            case "version_atleast" or "version_before":
                if (HaproxyCompat.CompareVersions(HaproxyCompat.Version, args[0]) is not { } c)
                {
                    diag.Error(n, $"'{name}()': expected a version like 2.4 or 2.6.12, got {ConfigDiagnostics.Quote(args[0])}");
                    return false;
                }
                return name == "version_atleast" ? c >= 0 : c < 0;
            default:
                diag.Error(n, $"unknown predicate {ConfigDiagnostics.Quote(name)} (expected defined, feature, streq, strneq, version_atleast or version_before)");
                return false;
        }
    }
}

using System.Text;

namespace Proxy.Shared.Config;

/// <summary>One non-empty line cut into words; <see cref="Broken"/> when the tokenizer already reported an error on it.</summary>
internal sealed record ConfigLine(int Number, IReadOnlyList<string> Words, bool Broken)
{
    public string Keyword => Words[0];
}

/// <summary>
/// Cuts the text into lines of words exactly as HAProxy's parse_line() (src/tools.c) does for
/// configuration files (doc/configuration.txt section 2.2 "Quoting and escaping", 2.3 "Environment variables"):
/// - words are separated by unescaped, unquoted blanks; `#` outside quotes starts a comment;
/// - a backslash escapes `\ `, `\\`, `\#`, `\'`, `\"`, gives `\t` `\n` `\r` `\xHH`, and stays literal otherwise;
///   it has no meaning inside single quotes;
/// - single quotes protect everything; double quotes protect blanks and expand `$NAME`, `${NAME}` and
///   `${NAME-default}` (and `\$` gives a dollar). Outside quotes a defined variable is expanded too, an undefined one
///   kept as written, as HAProxy 2.6 does.
/// There is no line continuation in HAProxy's language, so none here.
/// Unlike HAProxy, an undefined variable without a default is an error rather than an empty word:
/// an empty address or path is never what the author meant.
/// </summary>
internal static class ConfigTokenizer
{
    /// <summary>HAProxy's MAX_LINE_ARGS: more words on a line is an error there too.</summary>
    public const int MaxWordsPerLine = 64;

    /// <summary>Returns the non-empty lines of <paramref name="text"/>; problems go to <paramref name="diag"/>.</summary>
    /// <remarks>
    /// Lines go through HAProxy's conditional blocks (<see cref="ConditionalBlocks"/>): a line in a dropped branch is
    /// not returned, and its problems are not reported (HAProxy 2.6 drops it before parsing its keyword).
    /// `setenv`, `presetenv`, `unsetenv` and `resetenv` change the variables that the lines after them expand
    /// (<see cref="EnvironmentOverlay"/>), as in HAProxy, which applies each global line as it reads it.
    /// </remarks>
    public static List<ConfigLine> Tokenize(string text, Func<string, string?> env, ConfigDiagnostics diag)
    {
        var lines = new List<ConfigLine>();
        var overlay = new EnvironmentOverlay(env);
        var blocks = new ConditionalBlocks(diag, overlay.Get);
        var dropped = new ConfigDiagnostics(diag.FileName);   // where the problems of dropped lines go
        int lineNumber = 0;
        int start = 0;
        while (start <= text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0) end = text.Length;
            lineNumber++;
            var raw = text.AsSpan(start, end - start);
            if (raw.Length > 0 && raw[^1] == '\r') raw = raw[..^1];   // CRLF files
            start = end + 1;
            var line = TokenizeLine(raw, lineNumber, overlay.Get, blocks.Active ? diag : dropped);
            if (line is null) continue;
            if (ConditionalBlocks.IsDirective(line.Keyword))
            {
                if (!line.Broken) blocks.Handle(line);
                continue;
            }
            if (!blocks.Active) continue;
            if (!line.Broken) overlay.Apply(line);
            lines.Add(line);
        }
        blocks.Finish();
        return lines;
    }

    private static bool IsBlank(char c) => c is ' ' or '\t' or '\v' or '\f' or '\r';

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    /// <summary>Tokenizes one line (without its end of line); returns null for a blank or comment-only line.</summary>
    private static ConfigLine? TokenizeLine(ReadOnlySpan<char> s, int lineNumber, Func<string, string?> env, ConfigDiagnostics diag)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;      // a word has started (even an empty quoted one: "" is a word)
        bool squote = false, dquote = false;
        int quoteStart = -1;
        bool broken = false;
        bool warnedDollar = false;

        void EndWord()
        {
            if (!inWord) return;
            words.Add(word.ToString());
            word.Clear();
            inWord = false;
        }

        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '\0')
            {
                diag.Error(lineNumber, "line contains a NUL byte: is this a text file?");
                return new ConfigLine(lineNumber, words.Count > 0 ? words : [""], Broken: true);
            }
            if (c == '#' && !squote && !dquote)
                break;                                          // comment to end of line
            if (c == '"' && !squote)
            {
                dquote = !dquote; quoteStart = i; inWord = true; i++;
                continue;
            }
            if (c == '\'' && !dquote)
            {
                squote = !squote; quoteStart = i; inWord = true; i++;
                continue;
            }
            if (c == '\\' && !squote)
            {
                char next = i + 1 < s.Length ? s[i + 1] : '\0';
                inWord = true;
                switch (next)
                {
                    case ' ' or '\\' or '#' or '\'' or '"': word.Append(next); i += 2; continue;
                    case 't': word.Append('\t'); i += 2; continue;
                    case 'n': word.Append('\n'); i += 2; continue;
                    case 'r': word.Append('\r'); i += 2; continue;
                    case '$' when dquote: word.Append('$'); i += 2; continue;
                    case 'x':
                        if (i + 3 < s.Length && IsHex(s[i + 2]) && IsHex(s[i + 3]))
                        {
                            word.Append((char)Convert.ToByte(s.Slice(i + 2, 2).ToString(), 16));
                            i += 4;
                            continue;
                        }
                        diag.Error(lineNumber, "invalid escape: '\\x' must be followed by two hexadecimal digits");
                        broken = true;
                        word.Append('\\'); i++;
                        continue;
                    default: word.Append('\\'); i++; continue;     // not an escape sequence: kept as is
                }
            }
            if (IsBlank(c) && !squote && !dquote)
            {
                EndWord();
                i++;
                continue;
            }
            if (c == '$' && dquote)
            {
                inWord = true;
                i = ExpandVariable(s, i, lineNumber, env, diag, word, ref broken);
                continue;
            }
            if (c == '$' && !squote && i + 1 < s.Length && (s[i + 1] == '{' || char.IsAsciiLetter(s[i + 1]) || s[i + 1] == '_'))
            {
                // Outside quotes HAProxy 2.6 expands `$NAME` and `${NAME}` when the variable is defined, and keeps the
                // text as written when it is not (checked with haproxy -c); a warning says so rather than leave a
                // puzzling literal.
                var expanded = new StringBuilder();
                var quiet = new ConfigDiagnostics(diag.FileName);
                bool failed = false;
                int next = ExpandVariable(s, i, lineNumber, env, quiet, expanded, ref failed);
                if (!failed && !quiet.HasErrors)
                {
                    inWord = true;
                    word.Append(expanded);
                    i = next;
                    continue;
                }
                if (!warnedDollar)
                {
                    diag.Warning(lineNumber, $"{ConfigDiagnostics.Quote(s[i..next].ToString())} is not defined: kept as written (HAProxy expands a variable outside double quotes only when it is defined)");
                    warnedDollar = true;
                }
            }
            inWord = true;
            word.Append(c);
            i++;
        }

        if (squote || dquote)
        {
            diag.Error(lineNumber, $"unmatched {(squote ? "single" : "double")} quote at column {quoteStart + 1}");
            broken = true;
        }
        EndWord();
        if (words.Count == 0)
            return broken ? new ConfigLine(lineNumber, [""], true) : null;
        if (words.Count > MaxWordsPerLine)
        {
            diag.Error(lineNumber, $"too many words on one line ({words.Count}, at most {MaxWordsPerLine})");
            broken = true;
        }
        return new ConfigLine(lineNumber, words, broken);
    }

    /// <summary>
    /// Expands the variable whose `$` is at <paramref name="i"/> into <paramref name="word"/>;
    /// returns the index after it. Forms: `$NAME`, `${NAME}`, `${NAME-default}`, and HAProxy's
    /// pseudo-variables `.LINE` and `.FILE`.
    /// </summary>
    private static int ExpandVariable(ReadOnlySpan<char> s, int i, int lineNumber, Func<string, string?> env,
        ConfigDiagnostics diag, StringBuilder word, ref bool broken)
    {
        int p = i + 1;
        bool brace = p < s.Length && s[p] == '{';
        if (brace) p++;
        int nameStart = p;
        if (p >= s.Length || !(char.IsAsciiLetter(s[p]) || s[p] == '_' || s[p] == '.'))
        {
            diag.Error(lineNumber, "'$' must be followed by a variable name (write '\\$' for a dollar sign)");
            broken = true;
            return p;
        }
        if (s[p] == '.') p++;
        while (p < s.Length && (char.IsAsciiLetterOrDigit(s[p]) || s[p] == '_')) p++;
        string name = s[nameStart..p].ToString();
        string? defaultValue = null;
        if (brace)
        {
            if (p < s.Length && s[p] == '-')
            {
                int close = s[p..].IndexOf('}');
                if (close >= 0)
                {
                    defaultValue = s.Slice(p + 1, close - 1).ToString();
                    p += close;
                }
            }
            if (p < s.Length && s[p] == '[')
            {
                diag.Error(lineNumber, $"'${{{name}[*]}}': word expansion of variables is not supported yet");
                broken = true;
                int close = s[p..].IndexOf('}');
                return close < 0 ? s.Length : p + close + 1;
            }
            if (p >= s.Length || s[p] != '}')
            {
                diag.Error(lineNumber, $"missing '}}' after '${{{name}'");
                broken = true;
                return p;
            }
            p++;
        }

        string? value = name switch
        {
            ".LINE" => diag.At(lineNumber).Line.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ".FILE" => diag.At(lineNumber).File,
            _ when name.StartsWith('.') => null,
            _ => env(name),
        };
        if (value is null && name.StartsWith('.') && name is not ".LINE" and not ".FILE")
        {
            diag.Error(lineNumber, $"unknown pseudo-variable '{name}' (supported: .LINE, .FILE)");
            broken = true;
            return p;
        }
        value ??= defaultValue;
        if (value is null)
        {
            diag.Error(lineNumber, $"environment variable '{name}' is not defined");
            broken = true;
            return p;
        }
        word.Append(value);
        return p;
    }
}

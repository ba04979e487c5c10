namespace Proxy.Shared.Config;

/// <summary>Argument-count checks shared by the section parsers, so every message has the same shape.</summary>
internal static class LineChecks
{
    /// <summary>
    /// Checks that <paramref name="line"/> has exactly <paramref name="count"/> words after its first
    /// <paramref name="keywordWords"/> words; reports `'KEYWORD': expected 'USAGE'` otherwise.
    /// </summary>
    public static bool Exactly(ConfigDiagnostics diag, ConfigLine line, int count, string usage, int keywordWords = 1)
    {
        var keyword = string.Join(' ', line.Words.Take(keywordWords));
        int have = line.Words.Count - keywordWords;
        if (have < count)
        {
            diag.Error(line.Number, $"'{keyword}': missing argument, expected '{usage}'");
            return false;
        }
        if (have > count)
        {
            diag.Error(line.Number, $"'{keyword}': unexpected {ConfigDiagnostics.Quote(line.Words[keywordWords + count])}, expected '{usage}'");
            return false;
        }
        return true;
    }

    /// <summary>Parses a decimal integer in [min, max]; reports `'KEYWORD': expected ...` otherwise.</summary>
    public static bool TryInt(ConfigDiagnostics diag, int line, string keyword, string text, int min, int max, out int value)
    {
        if (IntValue.TryParse(text, out value) && value >= min && value <= max)
            return true;
        diag.Error(line, $"'{keyword}': expected an integer between {min} and {max}, got {ConfigDiagnostics.Quote(text)}");
        return false;
    }

    /// <summary>Parses a time (default unit ms); reports `'KEYWORD': expected a time like 5s, got 'X'` otherwise.</summary>
    public static bool TryTime(ConfigDiagnostics diag, int line, string keyword, string text, out TimeSpan value)
    {
        if (TimeValue.TryParse(text, out value))
            return true;
        diag.Error(line, TimeValue.Expected(keyword, text));
        return false;
    }
}

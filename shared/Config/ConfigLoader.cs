namespace Proxy.Shared.Config;

/// <summary>One problem found in a configuration file, printed as `FILE:LINE: message`.</summary>
public sealed record ConfigError(SourceLocation Location, string Message)
{
    public override string ToString() => $"{Location.File}:{Location.Line}: {Message}";
}

/// <summary>The outcome of reading a file: the model when there is no error, and every error and warning found.</summary>
public sealed record ConfigResult(ProxyConfig? Config, IReadOnlyList<ConfigError> Errors, IReadOnlyList<ConfigError> Warnings)
{
    public bool IsValid => Config is not null && Errors.Count == 0;

    /// <summary>The file's `.notice` messages, in order.</summary>
    public IReadOnlyList<ConfigError> Notices { get; init; } = [];
}

/// <summary>Entry point of the configuration language: read, tokenize, parse and validate, collecting every error.</summary>
public static class ConfigLoader
{
    /// <summary>
    /// The largest configuration file read (16 MiB, about 300,000 lines). HAProxy sets no limit; one is needed so
    /// `-f /dev/stdin` fed without end, or a FIFO, cannot grow the supervisor without bound.
    /// </summary>
    public const int MaxConfigFileBytes = 16 << 20;

    /// <summary>Reads and parses the file at <paramref name="path"/>; an unreadable file is one error, never an exception.</summary>
    public static ConfigResult Load(string path)
    {
        if (TryReadText(path, out string text) is { } error)
            return new ConfigResult(null, [new ConfigError(new SourceLocation(path, 0), $"cannot read configuration file: {error}")], []);
        var result = Parse(text, path, Environment.GetEnvironmentVariable);
        return MissingFinalLineFeed(path, text) is { } missingLf ? result with { Config = null, Errors = [.. result.Errors, missingLf] } : result;
    }

    /// <summary>
    /// HAProxy 2.6 refuses a file whose last line has no LF, as possibly cut short (cfgparse.c readcfgfile(): "Missing LF
    /// on last line, file might have been truncated at position N"); so does this proxy. Null when the file ends well.
    /// </summary>
    internal static ConfigError? MissingFinalLineFeed(string path, string text)
    {
        if (text.Length == 0 || text[^1] == '\n') return null;
        int lastLine = text.Count(c => c == '\n') + 1;
        return new ConfigError(new SourceLocation(path, lastLine),
            $"missing LF on the last line: the file might have been truncated at position {text.Length - text.LastIndexOf('\n')}");
    }

    /// <summary>
    /// Reads the configuration file's text: a regular file, /dev/null, or a FIFO or pipe (waiting for its writer), of
    /// at most <see cref="MaxConfigFileBytes"/>; a byte order mark picks the encoding (UTF-8 without one), as
    /// File.ReadAllText. Returns null, or why the file cannot be read.
    /// </summary>
    public static string? TryReadText(string path, out string text)
    {
        text = "";
        if (BoundedFileReader.TryRead(path, MaxConfigFileBytes, "the configuration size limit", allowFifo: true, out byte[] bytes) is { } error)
            return error;
        using var reader = new StreamReader(new MemoryStream(bytes), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        text = reader.ReadToEnd();
        return null;
    }

    /// <summary>
    /// Parses <paramref name="text"/> as if read from <paramref name="fileName"/>; <paramref name="env"/> resolves
    /// `${NAME}` (null: the process environment). Never throws on bad input: every problem is an error in the result.
    /// </summary>
    public static ConfigResult Parse(string text, string fileName, Func<string, string?>? env = null) =>
        Parse(text, fileName, env, AddressParser.SystemResolver);

    /// <summary>The same, with the host name resolver supplied (tests use one that needs no DNS).</summary>
    internal static ConfigResult Parse(string text, string fileName, Func<string, string?>? env, HostResolver resolver,
        IReadOnlyList<(int FirstLine, string File)>? files = null)
    {
        var diag = new ConfigDiagnostics(fileName) { Files = files ?? [(1, fileName)] };
        return new ConfigParser(diag, resolver).Parse(text ?? "", env ?? Environment.GetEnvironmentVariable);
    }
}

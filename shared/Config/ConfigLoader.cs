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
}

/// <summary>Entry point of the configuration language: read, tokenize, parse and validate, collecting every error.</summary>
public static class ConfigLoader
{
    /// <summary>Reads and parses the file at <paramref name="path"/>; an unreadable file is one error, never an exception.</summary>
    public static ConfigResult Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new ConfigResult(null, [new ConfigError(new SourceLocation(path, 0), $"cannot read configuration file: {e.Message}")], []);
        }
        return Parse(text, path, Environment.GetEnvironmentVariable);
    }

    /// <summary>
    /// Parses <paramref name="text"/> as if read from <paramref name="fileName"/>; <paramref name="env"/> resolves
    /// `${NAME}` (null: the process environment). Never throws on bad input: every problem is an error in the result.
    /// </summary>
    public static ConfigResult Parse(string text, string fileName, Func<string, string?>? env = null) =>
        Parse(text, fileName, env, AddressParser.SystemResolver);

    /// <summary>The same, with the host name resolver supplied (tests use one that needs no DNS).</summary>
    internal static ConfigResult Parse(string text, string fileName, Func<string, string?>? env, HostResolver resolver)
    {
        var diag = new ConfigDiagnostics(fileName);
        return new ConfigParser(diag, resolver).Parse(text ?? "", env ?? Environment.GetEnvironmentVariable);
    }
}

namespace Proxy.Shared.Config;

/// <summary>
/// Collects every error and warning of one parse, YARP-style: parsing goes on after a problem
/// so that one run of `proxyctl check` reports all of them, each as `FILE:LINE: message`.
/// </summary>
internal sealed class ConfigDiagnostics(string fileName)
{
    private readonly List<ConfigError> _errors = [];
    private readonly List<ConfigError> _warnings = [];
    private readonly List<ConfigError> _notices = [];

    public string FileName { get; } = fileName;
    public IReadOnlyList<ConfigError> Errors => _errors;
    public IReadOnlyList<ConfigError> Warnings => _warnings;
    /// <summary>`.notice` messages: printed, neither an error nor a warning.</summary>
    public IReadOnlyList<ConfigError> Notices => _notices;
    public bool HasErrors => _errors.Count > 0;

    /// <summary>
    /// Where each file starts in the text parsed, when several files are parsed as one (HAProxy's `-f` given more than
    /// once, ConfigFiles): a line of the joined text is reported as its own FILE:LINE. One file: just <see cref="FileName"/>.
    /// </summary>
    public IReadOnlyList<(int FirstLine, string File)> Files { get; init; } = [(1, fileName)];

    /// <summary>The file and line that line <paramref name="line"/> of the text parsed came from.</summary>
    public SourceLocation At(int line)
    {
        var (first, file) = Files[0];
        for (int i = 1; i < Files.Count && Files[i].FirstLine <= line; i++) (first, file) = Files[i];
        return new(file, line <= 0 ? line : line - first + 1);
    }

    public void Error(int line, string message) => _errors.Add(new ConfigError(At(line), message));
    public void Error(SourceLocation location, string message) => _errors.Add(new ConfigError(location, message));
    public void Warning(int line, string message) => _warnings.Add(new ConfigError(At(line), message));
    public void Warning(SourceLocation location, string message) => _warnings.Add(new ConfigError(location, message));
    public void Notice(int line, string message) => _notices.Add(new ConfigError(At(line), message));

    /// <summary>Quotes a user-supplied word for a message, keeping messages one line and printable.</summary>
    public static string Quote(string word)
    {
        const int max = 64;
        var shown = word.Length > max ? word[..max] + "..." : word;
        var chars = shown.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (char.IsControl(chars[i])) chars[i] = '?';
        return "'" + new string(chars) + "'";
    }
}

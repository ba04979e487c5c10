namespace Proxy.Shared.Config;

/// <summary>
/// Several configuration files read as one, as HAProxy's `-f FILE|DIR` given more than once (doc/management.txt 3):
/// the files in the order given, a directory standing for its `*.cfg` files in lexical order. Their texts are parsed
/// as one, and every message is given back its own FILE:LINE.
/// </summary>
public static class ConfigFiles
{
    /// <summary>The files <paramref name="paths"/> stand for (a directory: its `*.cfg` files, sorted); null and an error when one cannot be listed.</summary>
    public static List<string>? Expand(IReadOnlyList<string> paths, out string? error)
    {
        error = null;
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (!Directory.Exists(path))
            {
                files.Add(path);
                continue;
            }
            try
            {
                var inDir = Directory.GetFiles(path, "*.cfg");
                Array.Sort(inDir, StringComparer.Ordinal);
                files.AddRange(inDir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = $"{path}: cannot list the directory: {e.Message}";
                return null;
            }
        }
        return files;
    }

    /// <summary>Reads and parses the files as one configuration; one file is <see cref="ConfigLoader.Load"/>.</summary>
    public static ConfigResult Load(IReadOnlyList<string> paths)
    {
        if (Expand(paths, out var listError) is not { } files)
            return new ConfigResult(null, [new ConfigError(new SourceLocation(paths[0], 0), listError!)], []);
        if (files.Count == 0)
            return new ConfigResult(null, [new ConfigError(new SourceLocation(paths[0], 0), "no configuration file (an empty directory?)")], []);
        if (files.Count == 1)
            return ConfigLoader.Load(files[0]) is var single && single.Config is { } c
                ? single with { Config = c with { SourcePaths = [.. paths] } } : single;

        // One text, and for each file the line its text starts at.
        var text = new System.Text.StringBuilder();
        var starts = new List<(int FirstLine, string File)>();
        var errors = new List<ConfigError>();
        int line = 0;
        foreach (var file in files)
        {
            if (ConfigLoader.TryReadText(file, out string content) is { } readError)
            {
                errors.Add(new ConfigError(new SourceLocation(file, 0), $"cannot read configuration file: {readError}"));
                continue;
            }
            if (ConfigLoader.MissingFinalLineFeed(file, content) is { } missingLf) errors.Add(missingLf);
            starts.Add((line + 1, file));
            text.Append(content);
            if (content.Length > 0 && content[^1] != '\n') text.Append('\n');
            line += content.Count(ch => ch == '\n') + (content.Length > 0 && content[^1] != '\n' ? 1 : 0);
        }
        if (starts.Count == 0)
            return new ConfigResult(null, errors, []);
        // Each line is reported as its own FILE:LINE, and each file starts outside any section and from the working
        // directory (`default-path`), as HAProxy reads one file after the other (ConfigParser).
        var result = ConfigLoader.Parse(text.ToString(), starts[0].File, Environment.GetEnvironmentVariable, AddressParser.SystemResolver, starts);
        var allErrors = errors.Concat(result.Errors).ToList();
        return new ConfigResult(allErrors.Count > 0 ? null : result.Config! with { SourcePaths = [.. paths] },
            allErrors, result.Warnings) { Notices = result.Notices };
    }
}

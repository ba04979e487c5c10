namespace Proxy.Shared.Config;

/// <summary>
/// `default-path current|config|parent|origin PATH` (doc/configuration.txt 3.1): the directory relative file names
/// resolve from (errorfile, crt, crt-base, ca-file, crl-file, crt-list, `-f` pattern files, `http-request return
/// file`...). HAProxy chdir()s while it parses; here the parse of this thread keeps the directory instead, so the
/// process's own working directory never changes. It holds for the lines after it up to the end of its file: each
/// configuration file starts again from the working directory (HAProxy 2.6 behaves so; measured with `haproxy -c`
/// and two `-f`).
/// </summary>
internal static class DefaultPath
{
    [ThreadStatic] private static string? _directory;

    /// <summary>The directory in force, or null for the working directory (`current`).</summary>
    public static string? Directory => _directory;

    /// <summary><paramref name="path"/> as the file reader should open it: absolute ones unchanged, relative ones from the directory in force.</summary>
    public static string Resolve(string path) =>
        _directory is { } dir && path.Length > 0 && !Path.IsPathRooted(path) ? Path.Combine(dir, path) : path;

    /// <summary>Back to the working directory: at the start and end of a parse, and at the start of each file.</summary>
    public static void Reset() => _directory = null;

    /// <summary>
    /// Applies a `default-path` line of <paramref name="configFile"/>: `current` the working directory, `config` the
    /// file's directory, `parent` that directory's parent, `origin PATH` PATH (itself relative to the working directory).
    /// </summary>
    public static void Set(string mode, string? origin, string configFile)
    {
        string configDir = Path.GetDirectoryName(Path.GetFullPath(configFile)) ?? "/";
        _directory = mode switch
        {
            "config" => configDir,
            "parent" => Path.GetDirectoryName(configDir) ?? "/",
            "origin" => Path.GetFullPath(origin!),
            _ => null,
        };
    }
}

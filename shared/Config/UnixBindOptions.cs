using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>
/// The `bind` options of a UNIX listener's file (doc/configuration.txt 5.1 "mode", "uid", "user", "gid", "group"):
/// its permissions and owner, set by the supervisor once it has bound the socket.
/// </summary>
internal static class UnixBindOptions
{
    public static bool IsOption(string word) => word is "mode" or "uid" or "user" or "gid" or "group";

    /// <summary>
    /// Applies the option at <paramref name="i"/> (and its value, moving <paramref name="i"/> past it) to
    /// <paramref name="file"/>; false after an error.
    /// </summary>
    public static bool TryParse(ConfigDiagnostics diag, ConfigLine line, ref int i, ref UnixSocketFile file)
    {
        var w = line.Words;
        string option = w[i];
        if (i + 1 >= w.Count || w[i + 1].Length == 0)
        {
            diag.Error(line.Number, $"'bind': option '{option}' needs a value");
            return false;
        }
        string value = w[++i];
        switch (option)
        {
            case "mode" when value.Length <= 4 && value.All(c => c is >= '0' and <= '7'):
                file = file with { Mode = Convert.ToInt32(value, 8) };
                return true;
            case "mode":
                diag.Error(line.Number, $"'bind': 'mode' expects an octal permission like 660, got {ConfigDiagnostics.Quote(value)}");
                return false;
            case "uid" or "gid" when !uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _):
                diag.Error(line.Number, $"'bind': '{option}' expects a number, got {ConfigDiagnostics.Quote(value)}");
                return false;
            case "uid":
                file = file with { Uid = uint.Parse(value, CultureInfo.InvariantCulture) };
                return true;
            case "gid":
                file = file with { Gid = uint.Parse(value, CultureInfo.InvariantCulture) };
                return true;
            case "user":
                file = file with { User = value };
                return true;
            default:
                file = file with { Group = value };
                return true;
        }
    }
}

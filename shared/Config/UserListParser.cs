namespace Proxy.Shared.Config;

/// <summary>
/// `userlist NAME` sections (doc/configuration.txt 3.4 "Userlists"):
/// `group NAME [users USER,...]` and `user NAME password HASH | insecure-password PASSWORD [groups GROUP,...]`.
/// They are read in a pass of their own before the proxies, because HAProxy resolves `http_auth(NAME)` after the
/// whole file is parsed: a proxy may name a userlist written below it. A `password` hash is checked with crypt(3)
/// now, as HAProxy does, so a format libxcrypt does not know is an error rather than a user who can never log in.
/// </summary>
internal sealed class UserListParser(ConfigDiagnostics diag)
{
    private readonly Dictionary<string, UserListConfig> _lists = new(StringComparer.Ordinal);

    /// <summary>The userlists read, by name.</summary>
    public IReadOnlyDictionary<string, UserListConfig> Lists => _lists;

    /// <summary>Reads every `userlist` section of <paramref name="lines"/>; <paramref name="isSection"/> tells a line that opens any section.</summary>
    public void ParseAll(IReadOnlyList<ConfigLine> lines, Func<string, bool> isSection)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            var header = lines[i];
            if (header.Broken || header.Keyword != "userlist") continue;
            int end = i + 1;
            while (end < lines.Count && (lines[end].Broken || !isSection(lines[end].Keyword))) end++;
            ParseSection(header, lines, i + 1, end);
            i = end - 1;
        }
    }

    private void ParseSection(ConfigLine header, IReadOnlyList<ConfigLine> lines, int from, int to)
    {
        if (header.Words.Count != 2)
        {
            diag.Error(header.Number, header.Words.Count < 2 ? "'userlist': missing the userlist name" : $"'userlist': unexpected {ConfigDiagnostics.Quote(header.Words[2])}, expected 'userlist NAME'");
            return;
        }
        string name = header.Words[1];
        var users = new List<(string Name, string Password, bool Insecure, List<string> Groups, int Line)>();
        var groups = new List<(string Name, List<string> Users, int Line)>();
        for (int i = from; i < to; i++)
        {
            var line = lines[i];
            if (line.Broken) continue;
            var w = line.Words;
            switch (line.Keyword)
            {
                case "group":
                    if (w.Count < 2 || (w.Count != 2 && (w.Count != 4 || w[2] != "users")))
                    {
                        diag.Error(line.Number, "'group': expected 'group NAME [users USER,...]'");
                        continue;
                    }
                    if (groups.Exists(g => g.Name == w[1]))
                    {
                        diag.Error(line.Number, $"'group': userlist '{name}' already has a group {ConfigDiagnostics.Quote(w[1])}");
                        continue;
                    }
                    groups.Add((w[1], w.Count == 4 ? SplitList(w[3]) : [], line.Number));
                    break;
                case "user":
                    if (ParseUser(line, name) is { } user)
                    {
                        if (users.Exists(u => u.Name == user.Name))
                            diag.Error(line.Number, $"'user': userlist '{name}' already has a user {ConfigDiagnostics.Quote(user.Name)}");
                        else
                            users.Add((user.Name, user.Password, user.Insecure, user.Groups, line.Number));
                    }
                    break;
                default:
                    diag.Error(line.Number, $"{ConfigDiagnostics.Quote(line.Keyword)} is not a userlist keyword (expected 'user' or 'group')");
                    break;
            }
        }
        // 3.4: the groups a user names, and the users a group names, must be declared in the same userlist.
        var memberOf = users.ToDictionary(u => u.Name, u => new List<string>(), StringComparer.Ordinal);
        foreach (var u in users)
        {
            foreach (var g in u.Groups)
            {
                if (!groups.Exists(x => x.Name == g)) diag.Error(u.Line, $"'user {u.Name}': no group {ConfigDiagnostics.Quote(g)} in userlist '{name}'");
                else if (!memberOf[u.Name].Contains(g)) memberOf[u.Name].Add(g);
            }
        }
        foreach (var g in groups)
        {
            foreach (var member in g.Users)
            {
                if (!memberOf.TryGetValue(member, out var of)) diag.Error(g.Line, $"'group {g.Name}': no user {ConfigDiagnostics.Quote(member)} in userlist '{name}'");
                else if (!of.Contains(g.Name)) of.Add(g.Name);
            }
        }
        if (_lists.TryGetValue(name, out var first))
        {
            // HAProxy warns and ignores the second one (cfg_parse_users: "ignoring duplicated userlist").
            diag.Warning(header.Number, $"'userlist {name}': a userlist of that name exists at line {first.Location.Line}: this one is ignored");
            return;
        }
        _lists[name] = new UserListConfig(name, users.ConvertAll(u => new UserListUser(u.Name, u.Password, u.Insecure, memberOf[u.Name])),
            groups.ConvertAll(g => g.Name), diag.At(header.Number));
    }

    /// <summary>`user NAME password HASH | insecure-password PASSWORD [groups G,...]`; null (reported) when invalid.</summary>
    private (string Name, string Password, bool Insecure, List<string> Groups)? ParseUser(ConfigLine line, string list)
    {
        var w = line.Words;
        const string usage = "expected 'user NAME password HASH | insecure-password PASSWORD [groups GROUP,...]'";
        if (w.Count < 2)
        {
            diag.Error(line.Number, $"'user': missing the user name, {usage}");
            return null;
        }
        string? password = null;
        bool insecure = false;
        List<string> groups = [];
        for (int i = 2; i < w.Count; i += 2)
        {
            if (i + 1 >= w.Count || w[i] is not ("password" or "insecure-password" or "groups"))
            {
                diag.Error(line.Number, $"'user {w[1]}': unexpected {ConfigDiagnostics.Quote(w[i])}, {usage}");
                return null;
            }
            if (w[i] == "groups")
            {
                groups = SplitList(w[i + 1]);
                continue;
            }
            if (password is not null)
            {
                diag.Error(line.Number, $"'user {w[1]}': only one of 'password' and 'insecure-password'");
                return null;
            }
            password = w[i + 1];
            insecure = w[i] == "insecure-password";
            if (!insecure && Interop.Crypt.CheckHash(password) is { } why)
            {
                diag.Error(line.Number, $"'user {w[1]}' in userlist '{list}': the password hash {ConfigDiagnostics.Quote(password)} cannot be used: {why} (use a hash from 'openssl passwd -6', -5 or -1, or 'mkpasswd')");
                return null;
            }
        }
        if (password is null)
        {
            // HAProxy accepts a user without a password, who then never logs in; here that is a mistake to point at.
            diag.Error(line.Number, $"'user {w[1]}': missing 'password HASH' or 'insecure-password PASSWORD'");
            return null;
        }
        return (w[1], password, insecure, groups);
    }

    private static List<string> SplitList(string text) => [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}

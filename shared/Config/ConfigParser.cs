namespace Proxy.Shared.Config;

/// <summary>
/// Walks the tokenized lines section by section (doc/configuration.txt section 2.1 and 4) and hands each
/// keyword line to the parser of its section. Sections:
/// - `global`: process-wide settings, <see cref="GlobalSectionParser"/>;
/// - `defaults [NAME] [from NAME]`: every defaults section, named or not, becomes the one that following
///   proxies inherit from (each replaces the previous); a named one can also be picked with `from NAME`;
/// - `frontend NAME [from NAME]`, `backend NAME [from NAME]`, `listen NAME [from NAME]`: proxies,
///   <see cref="ProxySectionParser"/>; a `listen` is a frontend and a backend in one.
/// Cross-section checks and the final model are <see cref="ConfigValidator"/>'s job.
/// </summary>
internal sealed class ConfigParser
{
    private enum Section { None, Global, Proxy, Skipped, Peers, Resolvers, UserList, HttpErrors }

    private readonly ConfigDiagnostics _diag;
    private readonly GlobalSectionParser _global;
    private readonly ProxySectionParser _proxyParser;
    private readonly PeersSectionParser _peers;
    private readonly ResolversSectionParser _resolvers;
    private readonly UserListParser _userLists;
    private readonly List<ProxyDraft> _proxies = [];
    private readonly Dictionary<string, ProxyDraft> _namedDefaults = new(StringComparer.Ordinal);
    private ProxyDraft _currentDefaults = NewDefaults("", default);

    private Section _section = Section.None;
    private ProxyDraft? _proxy;
    private Dictionary<int, byte[]>? _httpErrors;   // the `http-errors` section being read

    public ConfigParser(ConfigDiagnostics diag, HostResolver resolver)
    {
        _diag = diag;
        _global = new GlobalSectionParser(diag);
        _proxyParser = new ProxySectionParser(diag, resolver, () => _global.BufSize) { Tls = _global.Tls };
        _peers = new PeersSectionParser(diag);
        _resolvers = new ResolversSectionParser(diag, resolver);
        _userLists = new UserListParser(diag);
        _proxyParser.UserLists = _userLists.Lists;
    }

    /// <summary>Parses every line, then validates; the model is returned only when no error was found.</summary>
    public ConfigResult Parse(string text, Func<string, string?> env)
    {
        var lines = ConfigTokenizer.Tokenize(text, env, _diag).ToList();
        // `userlist` sections first (3.4): `http_auth(NAME)` may name one written further down, as HAProxy allows.
        _userLists.ParseAll(lines, k => IsSectionKeyword(k) || KnownKeywords.UnsupportedSections.Contains(k));
        try
        {
            ParseLines(lines);
        }
        finally
        {
            DefaultPath.Reset();   // what a `default-path` set ends with the parse
        }

        var global = _global.Build();
        _peers.Check(_proxies);
        _resolvers.Finish();
        var config = new ConfigValidator(_diag).Validate(_diag.FileName, global, _proxies) with { Resolvers = _resolvers.Sections };
        ServerResolutionOptions.CheckReferences(_diag, config);
        // 3.1 "zero-warning": HAProxy refuses to start once any warning was emitted ("Some warnings were found and
        // 'zero-warning' is set. Aborting."); the error names the keyword's own line. A warning that a keyword "has no
        // effect here" is this proxy's own note, which HAProxy never emits: it does not count, or a file HAProxy
        // accepts would be refused.
        int counted = 0;
        foreach (var warning in _diag.Warnings)
            if (!warning.Message.Contains("no effect", StringComparison.Ordinal)) counted++;
        if (global.ZeroWarning && counted > 0 && !_diag.HasErrors)
            _diag.Error(_global.ZeroWarningLine, $"'zero-warning': {counted} warning(s) found and 'zero-warning' is set");
        return new ConfigResult(_diag.HasErrors ? null : config, _diag.Errors, _diag.Warnings) { Notices = _diag.Notices };
    }

    private void ParseLines(List<ConfigLine> lines)
    {
        foreach (var line in lines)
        {
            StartFileIfNew(line.Number);
            if (IsSectionKeyword(line.Keyword) || line.Keyword == "peers" || KnownKeywords.UnsupportedSections.Contains(line.Keyword))
            {
                StartSection(line);
                continue;
            }
            if (line.Broken)
            {
                // Already reported, and its words cannot be trusted; but a broken `bind` is still a bind
                // line, so the frontend is not also reported as having none.
                if (_section == Section.Proxy && line.Keyword == "bind")
                    _proxy!.HasBindLine = true;
                continue;
            }
            switch (_section)
            {
                case Section.None:
                    _diag.Error(line.Number, $"{ConfigDiagnostics.Quote(line.Keyword)} is outside of any section (expected 'global', 'defaults', 'frontend', 'backend' or 'listen' first)");
                    break;
                case Section.Global:
                    _global.ParseLine(line);
                    break;
                case Section.Proxy:
                    _proxyParser.ParseLine(_proxy!, line);
                    break;
                case Section.Peers:
                    _peers.ParseLine(line);
                    break;
                case Section.Skipped:
                    break;                     // inside an unsupported section: its header was the error
                case Section.Resolvers:
                    _resolvers.ParseLine(line);
                    break;
                case Section.UserList:
                    break;                     // read before the proxies (UserListParser)
                case Section.HttpErrors:
                    _proxyParser.Http.ParseHttpErrorsLine(_httpErrors!, line);
                    break;
            }
        }
    }

    private int _fileIndex;

    /// <summary>
    /// Several files (`-f` more than once) are read one after the other, as HAProxy's readcfgfile() does: each starts
    /// outside any section, and from the working directory (`default-path` holds to the end of its own file).
    /// </summary>
    private void StartFileIfNew(int lineNumber)
    {
        var files = _diag.Files;
        if (_fileIndex + 1 >= files.Count || files[_fileIndex + 1].FirstLine > lineNumber) return;
        while (_fileIndex + 1 < files.Count && files[_fileIndex + 1].FirstLine <= lineNumber) _fileIndex++;
        _section = Section.None;
        _proxy = null;
        DefaultPath.Reset();
    }

    private static bool IsSectionKeyword(string word) => word is "global" or "defaults" or "frontend" or "backend" or "listen" or "resolvers" or "userlist" or "peers" or "mailers" or "http-errors";

    private static ProxyDraft NewDefaults(string name, SourceLocation location) =>
        new() { Name = name, Capabilities = ProxyCapabilities.Defaults, Location = location };

    private void StartSection(ConfigLine line)
    {
        var keyword = line.Keyword;
        var args = line.Words;
        _proxy = null;
        if (line.Broken)
        {
            _section = Section.Skipped;        // a header we cannot read: skip its body rather than misfile it
            return;
        }
        switch (keyword)
        {
            case "global":
                _section = Section.Global;
                if (args.Count > 1)
                    _diag.Error(line.Number, $"'global' takes no argument, got {ConfigDiagnostics.Quote(args[1])}");
                return;
            case "defaults":
                StartDefaults(line);
                return;
            case "frontend" or "backend" or "listen":
                StartProxy(line);
                return;
            case "peers":
                _section = Section.Peers;
                _peers.Start(line);
                return;
            case "resolvers":
                _section = _resolvers.Start(line) ? Section.Resolvers : Section.Skipped;
                return;
            case "userlist":
                _section = Section.UserList;
                return;
            case "mailers":
                // 3.6 "Mailers": the section is read (its `mailer` and `timeout mail` lines are not used): no mail is sent.
                _diag.Warning(line.Number, "'mailers' has no effect here: no mail is sent (email alerts are not implemented; server state changes are only logged)");
                _section = Section.Skipped;
                return;
            case "http-errors":
                _httpErrors = _proxyParser.Http.StartHttpErrors(line);
                _section = _httpErrors is null ? Section.Skipped : Section.HttpErrors;
                return;
            default:
                _diag.Error(line.Number, $"'{keyword}' sections are not supported yet");
                _section = Section.Skipped;
                return;
        }
    }

    /// <summary>`defaults [NAME] [from NAME]`: the new defaults replace the current ones for what follows.</summary>
    private void StartDefaults(ConfigLine line)
    {
        var args = line.Words;
        string name = "";
        int i = 1;
        if (args.Count > 1 && args[1] != "from")
        {
            name = args[1];
            CheckName("defaults", name, line.Number);
            i = 2;
        }
        var draft = NewDefaults(name, _diag.At(line.Number));
        if (ParseFrom("defaults", line, i) is { } parent)
            draft.InheritFrom(parent);
        if (name.Length > 0)
        {
            if (_namedDefaults.TryGetValue(name, out var previous))
                _diag.Error(line.Number, $"'defaults': a defaults section named '{name}' already exists at line {previous.Location.Line}");
            else
                _namedDefaults[name] = draft;
        }
        _currentDefaults = draft;
        _proxy = draft;
        _section = Section.Proxy;
    }

    /// <summary>`frontend|backend|listen NAME [from DEFAULTS]`.</summary>
    private void StartProxy(ConfigLine line)
    {
        var keyword = line.Keyword;
        var caps = keyword switch
        {
            "frontend" => ProxyCapabilities.Frontend,
            "backend" => ProxyCapabilities.Backend,
            _ => ProxyCapabilities.Listen,
        };
        bool valid = true;
        string name = "";
        if (line.Words.Count < 2 || line.Words[1] == "from")
        {
            _diag.Error(line.Number, $"'{keyword}': missing the {keyword} name");
            valid = false;
        }
        else
        {
            name = line.Words[1];
            valid = CheckName(keyword, name, line.Number);
        }
        var draft = new ProxyDraft { Name = name, Capabilities = caps, Location = _diag.At(line.Number) };
        var defaults = ParseFrom(keyword, line, name.Length > 0 ? 2 : 1) ?? _currentDefaults;
        draft.InheritFrom(defaults);
        if (defaults.HasRules)
        {
            // 4.2 "http-request": a defaults section with rules serves frontends or backends, never both (nor a listen).
            defaults.RuleUsers |= caps;
            if ((defaults.RuleUsers & ProxyCapabilities.Listen) == ProxyCapabilities.Listen)
                _diag.Error(line.Number, $"'{keyword} {name}': defaults section '{defaults.Name}' has http-request/http-response rules, so it cannot serve both frontends and backends (nor a listen section)");
        }
        if (valid)
            _proxies.Add(draft);
        _proxy = draft;                        // an invalid header still gets its body checked
        _section = Section.Proxy;
    }

    /// <summary>Reads an optional `from NAME` at <paramref name="i"/>; returns the named defaults or null.</summary>
    private ProxyDraft? ParseFrom(string keyword, ConfigLine line, int i)
    {
        var args = line.Words;
        if (args.Count <= i)
            return null;
        if (args[i] != "from")
        {
            _diag.Error(line.Number, $"'{keyword}': unexpected {ConfigDiagnostics.Quote(args[i])} (expected 'from DEFAULTS-NAME' or nothing)");
            return null;
        }
        if (args.Count <= i + 1)
        {
            _diag.Error(line.Number, $"'{keyword}': 'from' needs the name of a defaults section");
            return null;
        }
        if (args.Count > i + 2)
            _diag.Error(line.Number, $"'{keyword}': unexpected {ConfigDiagnostics.Quote(args[i + 2])} after 'from {args[i + 1]}'");
        if (_namedDefaults.TryGetValue(args[i + 1], out var found))
            return found;
        _diag.Error(line.Number, $"'{keyword}': no defaults section named {ConfigDiagnostics.Quote(args[i + 1])} before this line");
        return null;
    }

    /// <summary>HAProxy's rule for proxy names (invalid_char()): letters, digits, '-', '_', '.' and ':' only.</summary>
    private bool CheckName(string keyword, string name, int line)
    {
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_' and not '.' and not ':')
            {
                _diag.Error(line, $"'{keyword}': invalid character {ConfigDiagnostics.Quote(c.ToString())} in name {ConfigDiagnostics.Quote(name)} (allowed: letters, digits, '-', '_', '.', ':')");
                return false;
            }
        }
        if (name.Length == 0)
        {
            _diag.Error(line, $"'{keyword}': the name must not be empty");
            return false;
        }
        return true;
    }
}

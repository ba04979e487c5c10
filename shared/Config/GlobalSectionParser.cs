namespace Proxy.Shared.Config;

/// <summary>
/// The `global` section (doc/configuration.txt section 3). Several `global` sections merge into one,
/// as in HAProxy; a later value of a single-valued keyword replaces an earlier one.
/// </summary>
internal sealed class GlobalSectionParser(ConfigDiagnostics diag)
{
    /// <summary>Every global keyword implemented here, so proxy sections can say "only in global".</summary>
    public static readonly HashSet<string> Keywords =
    [
        "maxconn", "nbproc", "cpu-map", "pidfile", "stats", "user", "group", "chroot", "daemon", "log",
        "hard-stop-after", "nosplice", "pp2-never-send-local", "tune.bufsize", "tune.http.maxhdr", "worker-watchdog",
        "maxcomprate", "maxcompcpuusage", "maxzlibmem", "tune.comp.maxlevel",
        "set-var", "set-var-fmt",
    ];

    /// <summary>HAProxy's LONGBITS-era limit was 64 processes; a workload wanting more is past this design.</summary>
    public const int MaxProcesses = 1024;

    /// <summary>CPU numbers accepted by `cpu-map` (Linux CONFIG_NR_CPUS is at most 8192).</summary>
    public const int MaxCpu = 8191;

    private GlobalSettings _settings = GlobalSettings.Default;
    private readonly List<CpuMapEntry> _cpuMaps = [];
    private readonly List<LogTarget> _logs = [];
    private int _nbProcLine;
    private readonly ProcessSettingsParser _process = new(diag);
    private readonly GlobalVariableParser _variables = new(diag);

    /// <summary>`tune.bufsize` as set so far: files read while parsing (errorfile) must fit in it, as in HAProxy.</summary>
    public int BufSize => _settings.BufSize;

    /// <summary>The TLS globals (TlsParser.cs); binds read their defaults from it as they are parsed.</summary>
    public TlsParser Tls { get; } = new(diag);

    /// <summary>The line of `zero-warning` (0: none).</summary>
    public int ZeroWarningLine => _process.ZeroWarningLine;

    public GlobalSettings Build() => _settings with { CpuMaps = _cpuMaps.ToArray(), Logs = _logs.ToArray(), Tls = Tls.Build(), Variables = _variables.Build() };

    public void ParseLine(ConfigLine line)
    {
        var w = line.Words;
        int n = line.Number;
        switch (line.Keyword)
        {
            case "maxconn":
                // `maxconn N`: the process-wide limit on concurrent connections.
                if (LineChecks.Exactly(diag, line, 1, "maxconn NUMBER") && LineChecks.TryInt(diag, n, "maxconn", w[1], 1, int.MaxValue, out int maxConn))
                    _settings = _settings with { MaxConn = maxConn };
                break;
            case "nbproc":
                // `nbproc N|auto`: worker processes; auto (null) is one per CPU the supervisor may use.
                if (!LineChecks.Exactly(diag, line, 1, "nbproc NUMBER|auto")) break;
                if (_process.NbThreadLine != 0)
                {
                    diag.Error(n, $"'nbproc': 'nbthread' (line {_process.NbThreadLine}) already sets the number of workers; keep one of them");
                    break;
                }
                _nbProcLine = n;
                if (w[1] == "auto")
                    _settings = _settings with { NbProc = null };
                else if (LineChecks.TryInt(diag, n, "nbproc", w[1], 1, MaxProcesses, out int nbProc))
                    _settings = _settings with { NbProc = nbProc };
                break;
            case "cpu-map":
                if (CpuMapParser.Parse(diag, line) is { } entry)
                    _cpuMaps.Add(entry);
                break;
            case "pidfile":
                if (LineChecks.Exactly(diag, line, 1, "pidfile PATH") && NonEmpty(n, "pidfile", w[1]))
                    _settings = _settings with { PidFile = w[1] };
                break;
            case "stats":
                _settings = StatsSocketParser.Parse(diag, line, _settings);
                break;
            case "user":
                if (LineChecks.Exactly(diag, line, 1, "user NAME") && NonEmpty(n, "user", w[1]))
                    _settings = _settings with { User = w[1] };
                break;
            case "group":
                if (LineChecks.Exactly(diag, line, 1, "group NAME") && NonEmpty(n, "group", w[1]))
                    _settings = _settings with { Group = w[1] };
                break;
            case "chroot":
                if (LineChecks.Exactly(diag, line, 1, "chroot DIRECTORY") && NonEmpty(n, "chroot", w[1]))
                    _settings = _settings with { Chroot = w[1] };
                break;
            case "nosplice":
                if (LineChecks.Exactly(diag, line, 0, "nosplice"))
                    _settings = _settings with { NoSplice = true };
                break;
            case "pp2-never-send-local":
                // `pp2-never-send-local` (3.1): v2 health checks send PROXY with their own addresses rather than LOCAL.
                if (LineChecks.Exactly(diag, line, 0, "pp2-never-send-local"))
                    _settings = _settings with { Pp2NeverSendLocal = true };
                break;
            case "daemon":
                if (LineChecks.Exactly(diag, line, 0, "daemon"))
                    _settings = _settings with { Daemon = true };
                break;
            case "log":
                if (w.Count == 2 && w[1] == "global")
                    diag.Error(n, "'log global' is only allowed in defaults, frontend, backend and listen sections");
                else if (LogLineParser.Parse(diag, line) is { } log)
                    _logs.Add(log);
                break;
            case "hard-stop-after":
                // `hard-stop-after T`: the longest an old worker may drain after a reload or soft stop.
                if (LineChecks.Exactly(diag, line, 1, "hard-stop-after TIME") && LineChecks.TryTime(diag, n, "hard-stop-after", w[1], out var hardStop))
                    _settings = _settings with { HardStopAfter = hardStop };
                break;
            case "tune.bufsize":
                // `tune.bufsize SIZE`: per-connection buffer; HAProxy needs room for a request line and headers.
                if (!LineChecks.Exactly(diag, line, 1, "tune.bufsize SIZE")) break;
                if (SizeValue.TryParse(w[1], out int size) && size >= 1024 && size <= (1 << 28))
                    _settings = _settings with { BufSize = size };
                else
                    diag.Error(n, $"'tune.bufsize': expected a size between 1k and 256m like 16384 or 16k, got {ConfigDiagnostics.Quote(w[1])}");
                break;
            case "tune.http.maxhdr":
                // `tune.http.maxhdr N`: HAProxy accepts 1 to 32767 headers per message.
                if (LineChecks.Exactly(diag, line, 1, "tune.http.maxhdr NUMBER") && LineChecks.TryInt(diag, n, "tune.http.maxhdr", w[1], 1, 32767, out int maxHdr))
                    _settings = _settings with { MaxHeaders = maxHdr };
                break;
            // Compression limits (section 3.2); when one is reached responses pass uncompressed, never fail.
            case "maxcomprate":
                if (LineChecks.Exactly(diag, line, 1, "maxcomprate NUMBER") && LineChecks.TryInt(diag, n, "maxcomprate", w[1], 0, int.MaxValue / 1024, out int compRate))
                    _settings = _settings with { MaxCompRate = compRate };
                break;
            case "maxcompcpuusage":
                if (LineChecks.Exactly(diag, line, 1, "maxcompcpuusage NUMBER") && LineChecks.TryInt(diag, n, "maxcompcpuusage", w[1], 0, 100, out int compCpu))
                    _settings = _settings with { MaxCompCpuUsage = compCpu };
                break;
            case "maxzlibmem":
                if (LineChecks.Exactly(diag, line, 1, "maxzlibmem NUMBER") && LineChecks.TryInt(diag, n, "maxzlibmem", w[1], 0, 1 << 20, out int zlibMem))
                    _settings = _settings with { MaxZlibMem = zlibMem };
                break;
            case "tune.comp.maxlevel":
                if (LineChecks.Exactly(diag, line, 1, "tune.comp.maxlevel NUMBER") && LineChecks.TryInt(diag, n, "tune.comp.maxlevel", w[1], 1, 9, out int compLevel))
                    _settings = _settings with { CompMaxLevel = compLevel };
                break;
            case "worker-watchdog":
                // This proxy's own keyword (README, "Differences from HAProxy"): HAProxy 2.6 kills a stuck process
                // after about 2 s by itself; here the supervisor watches each worker's heartbeat on the board.
                if (!LineChecks.Exactly(diag, line, 1, "worker-watchdog TIME")
                    || !LineChecks.TryTime(diag, n, "worker-watchdog", w[1], out var watchdog)) break;
                if (watchdog != TimeSpan.Zero && watchdog < GlobalSettings.MinWorkerWatchdog)
                    diag.Error(n, $"'worker-watchdog': expected 0 (off) or at least {GlobalSettings.MinWorkerWatchdog.TotalSeconds:0}s (workers beat every 500ms), got {ConfigDiagnostics.Quote(w[1])}");
                else
                    _settings = _settings with { WorkerWatchdog = watchdog };
                break;
            case "set-var" or "set-var-fmt":
                // 3.1: process-wide variables set once, before any traffic (GlobalVariableParser.cs).
                _variables.ParseLine(line);
                break;
            default:
                if (Tls.TryParseGlobal(line)) break;
                if (!_process.TryParse(line, ref _settings, _nbProcLine))
                    ReportOther(line);
                break;
        }
    }

    private bool NonEmpty(int line, string keyword, string value)
    {
        if (value.Length > 0) return true;
        diag.Error(line, $"'{keyword}': the value must not be empty");
        return false;
    }

    /// <summary>An unimplemented keyword: wrong section, known to HAProxy but not supported yet, or unknown.</summary>
    private void ReportOther(ConfigLine line)
    {
        var keyword = line.Keyword;
        if (ProxySectionParser.IsProxyKeyword(keyword))
            diag.Error(line.Number, $"'{keyword}' is not allowed in the global section");
        else if (KnownKeywords.IsUnsupportedGlobal(keyword))
            diag.Error(line.Number, $"'{keyword}' is not supported yet");
        else
            diag.Error(line.Number, $"unknown keyword {ConfigDiagnostics.Quote(keyword)} in the global section");
    }
}

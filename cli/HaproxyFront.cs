using System.Runtime.InteropServices;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Control;
using Proxy.Shared.Interop;

namespace Proxy.Cli;

/// <summary>
/// HAProxy's command line (doc/management.txt section 3), answered when this program is run under the name `haproxy`
/// (the package's link /usr/lib/proxy/haproxy), so scripts, container images, systemd units and test drivers written
/// for HAProxy start this proxy unchanged. README "HAProxy's command line" has the table of flags; exit codes are
/// HAProxy's: 0 success, 1 a bad configuration, a failed start or a usage error, and for `-cc` 0 true, 1 false, 2 error.
/// </summary>
internal static partial class HaproxyFront
{
    private const int Failure = 1;

    /// <summary>Whether the program was started as `haproxy` (argv[0] as given, read from /proc, since a link keeps it).</summary>
    public static bool IsInvokedAsHaproxy()
    {
        try
        {
            var cmdline = File.ReadAllBytes("/proc/self/cmdline");
            int end = Array.IndexOf(cmdline, (byte)0);
            var argv0 = Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
            return Path.GetFileName(argv0) == "haproxy";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private sealed class Options
    {
        public readonly List<string> Files = [];
        public bool Check, Quiet, Verbose, Daemon, Foreground, SystemdNotify;
        public int Version;                    // 1: -v, 2: -vv
        public string? PidFile, Condition;
        public readonly List<int> OldPids = [];
        public bool TerminateOld;              // -st rather than -sf
        public readonly List<string> Notes = [];
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var o = new Options();
        if (Parse(args, o) is { } usageError)
        {
            Console.Error.WriteLine($"[ALERT] {usageError}");
            Console.Error.WriteLine(Usage);
            return Failure;
        }
        if (o.Version > 0)
        {
            PrintVersion(o.Version == 2);
            return 0;
        }
        if (o.Condition is not null) return EvaluateCondition(o.Condition);
        if (o.Files.Count == 0)
        {
            Console.Error.WriteLine("[ALERT] No configuration file specified (-f FILE)");
            Console.Error.WriteLine(Usage);
            return Failure;
        }
        var result = ConfigFiles.Load(o.Files);
        o.Quiet |= result.Config?.Global.Quiet == true;   // the global `quiet` is the file's `-q`
        if (!o.Quiet || !result.IsValid)
        {
            foreach (var n in result.Notices) Console.Error.WriteLine($"[NOTICE]   : {n}");
            if (!o.Quiet) foreach (var w in result.Warnings) Console.Error.WriteLine($"[WARNING]  : {w}");
            foreach (var e in result.Errors) Console.Error.WriteLine($"[ALERT]    : {e}");
        }
        if (!result.IsValid)
        {
            Console.Error.WriteLine("[ALERT]    : Fatal errors found in configuration.");
            return Failure;
        }
        if (o.Check)
        {
            if (!o.Quiet) Console.WriteLine("Configuration file is valid");
            return 0;
        }
        foreach (var note in o.Notes)
            if (!o.Quiet) Console.Error.WriteLine($"[NOTICE]   : {note}");
        var config = result.Config!;
        if (o.OldPids.Count > 0 && await ReloadRunningAsync(config, o) is { } reloaded) return reloaded;

        // HAProxy: `-D` or `daemon` in the file detach, unless -d, -db or -Ws keep it in the foreground.
        bool daemon = !o.Foreground && (o.Daemon || config.Global.Daemon);
        var supervisorArgs = new List<string>();
        foreach (var file in o.Files) { supervisorArgs.Add("-f"); supervisorArgs.Add(Path.GetFullPath(file)); }
        if (o.PidFile is { } pid) { supervisorArgs.Add("--pidfile"); supervisorArgs.Add(Path.GetFullPath(pid)); }
        if (o.SystemdNotify) supervisorArgs.Add("--sd-notify");
        // Old processes that are not this configuration's supervisor (an older instance, HAProxy itself): the new one
        // shares their listeners and, once it serves, sends them SIGUSR1 (-sf) or SIGTERM (-st), as HAProxy does.
        foreach (int old in o.OldPids) { supervisorArgs.Add(o.TerminateOld ? "--terminate" : "--finish"); supervisorArgs.Add(old.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
        if (daemon) return await Commands.StartSupervisorAsync(supervisorArgs, foreground: false);
        // In the foreground the supervisor takes this process's place (execv): systemd's main PID, signals and exit
        // status are the supervisor's own, as with HAProxy's master.
        return ExecSupervisor(supervisorArgs);
    }

    /// <summary>`-sf/-st PIDS`: when one of them is this configuration's running supervisor, it reloads in place.</summary>
    private static async Task<int?> ReloadRunningAsync(ProxyConfig config, Options o)
    {
        string socket = InstancePaths.ControlSocket(config);
        string reply;
        try
        {
            reply = await ControlClient.SendAsync(socket, "show info", TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException or IOException)
        {
            return null;                       // nothing runs there: start as usual
        }
        var pidLine = reply.Split('\n').FirstOrDefault(l => l.StartsWith("Pid: ", StringComparison.Ordinal));
        if (pidLine is null || !int.TryParse(pidLine[5..], out int running) || !o.OldPids.Contains(running)) return null;
        // The running supervisor hands its listeners to new workers and lets the old ones finish: HAProxy's
        // `-sf` (and `-st`, whose old workers here also finish, within `hard-stop-after`).
        var answer = await ControlClient.SendAsync(socket, "reload", TimeSpan.FromSeconds(60));
        bool ok = answer.StartsWith("Success=1", StringComparison.Ordinal);
        if (!o.Quiet || !ok) Console.Error.Write(answer);
        if (ok && o.PidFile is { } pidFile) File.WriteAllText(pidFile, running + "\n");
        return ok ? 0 : Failure;
    }

    private static int EvaluateCondition(string condition)
    {
        var (value, error) = ConfigCondition.Evaluate(condition, Environment.GetEnvironmentVariable);
        if (error is not null)
        {
            Console.Error.WriteLine($"[ALERT] failed to evaluate condition: {error}");
            return 2;
        }
        return value ? 0 : 1;
    }

    /// <summary>Fills <paramref name="o"/>; returns a usage error or null.</summary>
    private static string? Parse(string[] args, Options o)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (a)
            {
                case "-v" or "-vv":
                    o.Version = a.Length - 1;
                    return null;               // HAProxy prints the version and exits at once
                case "-f":
                    if (Next() is not { } file) return "'-f' needs a file or directory";
                    o.Files.Add(file);
                    break;
                case "--":
                    o.Files.AddRange(args.Skip(i + 1));
                    i = args.Length;
                    break;
                case "-c": o.Check = true; break;
                case "-cc":
                    if (Next() is not { } cond) return "'-cc' needs a condition";
                    o.Condition = cond;
                    break;
                case "-q": o.Quiet = true; break;
                case "-V": o.Verbose = true; break;
                case "-d" or "-db": o.Foreground = true; break;
                case "-D": o.Daemon = true; break;
                case "-W": break;              // master-worker: the supervisor always is the master
                case "-Ws": o.Foreground = true; o.SystemdNotify = true; break;
                case "-p":
                    if (Next() is not { } pidFile) return "'-p' needs a file";
                    o.PidFile = pidFile;
                    break;
                case "-sf" or "-st":
                    o.TerminateOld = a == "-st";
                    while (i + 1 < args.Length && int.TryParse(args[i + 1], out int pid)) { o.OldPids.Add(pid); i++; }
                    break;
                case "-x":
                    if (Next() is null) return "'-x' needs a socket path";
                    o.Notes.Add("'-x': not needed here, a reload hands the listeners to the new workers itself");
                    break;
                case "-S":
                    if (Next() is null) return "'-S' needs a socket path";
                    o.Notes.Add("'-S': the master CLI here is the control socket that `stats socket` names");
                    break;
                case "-L":
                    if (Next() is null) return "'-L' needs a peer name";
                    o.Notes.Add("'-L': no effect, `peers` sections are not supported");
                    break;
                default:
                    return $"unknown option '{a}'";
            }
        }
        return null;
    }

    private static void PrintVersion(bool verbose)
    {
        var own = typeof(HaproxyFront).Assembly.GetName().Version;
        Console.WriteLine($"HAProxy version {HaproxyCompat.Version} (proxy {own}, a HAProxy 2.6 compatible load balancer)");
        if (!verbose) return;
        Console.WriteLine("Running on: " + RuntimeInformation.OSDescription);
        Console.WriteLine("Feature list : " + string.Join(' ', HaproxyCompat.Features.Order(StringComparer.Ordinal).Select(f => "+" + f)));
        Console.WriteLine($"Built with .NET {Environment.Version}; processes: one supervisor and N workers (nbthread N)");
    }

    private const string Usage =
        "Usage : haproxy [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -W ] [ -Ws ] [ -q ] [ -c ] [ -cc <cond> ]\n" +
        "        [ -p <pidfile> ] [ -sf/-st <pid>* ] [ -x <unix_socket> ] [ -S <socket> ] [ -L <name> ] [ -- <cfgfile>* ]";

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int execv(byte* path, byte** argv);

    /// <summary>Replaces this process with the supervisor; returns only when execv(2) fails.</summary>
    private static unsafe int ExecSupervisor(List<string> supervisorArgs)
    {
        string supervisor = Path.Combine(AppContext.BaseDirectory, "proxy-supervisor");
        var all = new List<string> { supervisor };
        all.AddRange(supervisorArgs);
        var handles = all.Select(s => GCHandle.Alloc(Encoding.UTF8.GetBytes(s + "\0"), GCHandleType.Pinned)).ToArray();
        var argv = new IntPtr[all.Count + 1];
        for (int i = 0; i < all.Count; i++) argv[i] = handles[i].AddrOfPinnedObject();
        fixed (IntPtr* p = argv)
            execv((byte*)argv[0], (byte**)p);
        int errno = Marshal.GetLastPInvokeError();
        foreach (var h in handles) h.Free();
        Console.Error.WriteLine($"[ALERT] cannot run {supervisor}: errno {errno}");
        return Failure;
    }
}

using CommandLine;
using Proxy.Cli;

// proxyctl: the operator's tool. A thin client: config checks happen here, everything else is a command
// on the instance's control socket (or, for stats, a read of its stats board).
// Run as `haproxy` (the package's link), HAProxy's own command line is answered instead (HaproxyFront).
if (HaproxyFront.IsInvokedAsHaproxy()) return await HaproxyFront.RunAsync(args);

return await Parser.Default.ParseArguments<CheckOptions, StartOptions, StopOptions, StatusOptions, ReloadOptions, StatsOptions, ServerOptions,
        CmdOptions, ShowOptions, SetOptions, EnableOptions, DisableOptions, ClearOptions, TableOptions>(args)
    .MapResult(
        (CheckOptions o) => Task.FromResult(Commands.Check(o)),
        (StartOptions o) => Commands.StartAsync(o),
        (StopOptions o) => Commands.StopAsync(o),
        (StatusOptions o) => Commands.StatusAsync(o),
        (ReloadOptions o) => Commands.ReloadAsync(o),
        (StatsOptions o) => StatsCommand.RunAsync(o),
        (ServerOptions o) => ServerCommand.RunAsync(o),
        (CmdOptions o) => RuntimeCommand.RunAsync(o, null),
        (ShowOptions o) => RuntimeCommand.RunAsync(o, "show"),
        (SetOptions o) => RuntimeCommand.RunAsync(o, "set"),
        (EnableOptions o) => RuntimeCommand.RunAsync(o, "enable"),
        (DisableOptions o) => RuntimeCommand.RunAsync(o, "disable"),
        (ClearOptions o) => RuntimeCommand.RunAsync(o, "clear"),
        (TableOptions o) => TableCommand.RunAsync(o),
        _ => Task.FromResult(2));

namespace Proxy.Cli;

/// <summary>`proxyctl server ACTION BACKEND/SERVER [VALUE]`: HAProxy runtime API commands on the control socket.</summary>
public static class ServerCommand
{
    public static async Task<int> RunAsync(ServerOptions o)
    {
        string? command = o.Action switch
        {
            "enable" => $"enable server {o.Target}",
            "disable" => $"disable server {o.Target}",
            "drain" or "ready" or "maint" => $"set server {o.Target} state {o.Action}",
            "weight" when o.Value is not null => $"set weight {o.Target} {o.Value}",
            _ => null,
        };
        if (command is null)
        {
            Console.Error.WriteLine(o.Action == "weight"
                ? "usage: proxyctl server weight BACKEND/SERVER N -f FILE"
                : $"unknown action '{o.Action}': expected enable, disable, drain, ready, maint or weight");
            return 2;
        }
        var (reply, socket) = await Commands.SendToInstanceAsync(o, command);
        if (reply is null)
        {
            Console.Error.WriteLine($"not running: nothing answers on control socket {socket}");
            return 1;
        }
        if (reply.Trim().Length > 0)
        {
            Console.Error.Write(reply);
            return 1;
        }
        var (weight, _) = await Commands.SendToInstanceAsync(o, $"get weight {o.Target}");
        Console.WriteLine($"{o.Target}: {o.Action} applied to every worker; weight {weight?.Trim()}");
        return 0;
    }
}

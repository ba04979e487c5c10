namespace Proxy.Supervisor.RuntimeApi;

/// <summary>HAProxy's access levels of a stats socket (`level user|operator|admin`), lowest first.</summary>
public enum CliLevel { User = 1, Operator = 2, Admin = 3 }

/// <summary>One connection to a stats socket: its level, whether it is interactive (`prompt`), its idle timeout.</summary>
public sealed class CliSession(CliLevel level, TimeSpan timeout, bool owner)
{
    /// <summary>The socket's `level`; `operator` and `user` lower it for the rest of the session, as in HAProxy.</summary>
    public CliLevel Level { get; set; } = level;

    /// <summary>
    /// A Unix peer that is root or the supervisor's own user (SO_PEERCRED): it may `stop` and `reload` whatever the
    /// socket's level, as it could signal the supervisor anyway.
    /// </summary>
    public bool Owner { get; } = owner;

    /// <summary>`prompt`: the connection stays open, each answer is followed by the "> " prompt.</summary>
    public bool Interactive { get; set; }

    /// <summary>`stats timeout`, changed for this session by `set timeout cli`.</summary>
    public TimeSpan Timeout { get; set; } = timeout;

    /// <summary>`quit`: close after this line.</summary>
    public bool Quit { get; set; }

    public static CliLevel ParseLevel(string level) => level switch
    {
        "user" => CliLevel.User,
        "admin" => CliLevel.Admin,
        _ => CliLevel.Operator,
    };
}

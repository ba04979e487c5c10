namespace Proxy.Shared.Config;

/// <summary>What a `tcp-response content` rule does (doc/configuration.txt 4.2): each ends the rules.</summary>
public enum TcpResponseAction
{
    /// <summary>The server's bytes go to the client; the rules end.</summary>
    Accept,
    /// <summary>Both connections are closed at once, nothing of the server's reaching the client (logged PD).</summary>
    Reject,
    /// <summary>The server connection is closed; what it sent so far still reaches the client, which then sees the end.</summary>
    Close,
}

/// <summary>
/// `tcp-response content accept|reject|close [if|unless COND]` in a `mode tcp` backend: evaluated in order on the
/// server's first bytes, for up to `tcp-response inspect-delay` (worker/Forwarding/TcpSession.ResponseInspection.cs).
/// </summary>
public sealed record TcpResponseRule(TcpResponseAction Action, ConditionConfig? Condition, SourceLocation Location);

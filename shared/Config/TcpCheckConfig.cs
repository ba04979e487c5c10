using System.Net;
using System.Text.RegularExpressions;
using Proxy.Shared.Stats;

namespace Proxy.Shared.Config;

// The tcp-check model (doc/configuration.txt 4.2 "option tcp-check", "tcp-check connect|send|send-binary|expect|comment",
// and the protocol checks HAProxy builds from tcp-check rules: "option redis-check", "option pgsql-check",
// "option mysql-check", "option smtpchk", "option ldap-check", "option ssl-hello-chk"; src/tcpcheck.c).

/// <summary>What one tcp-check step does.</summary>
public enum TcpCheckAction { Connect, Send, Expect }

/// <summary>
/// How an expect step judges the bytes received since the last connect or send: `string` and `binary` look for the
/// bytes anywhere, `rstring` runs the regex on the text, `rbinary` on the hexadecimal dump (HAProxy's dump_binary,
/// upper case). The others are HAProxy's custom functions of the protocol checks (tcpcheck_mysql_expect_iniths,
/// tcpcheck_mysql_expect_ok, tcpcheck_ldap_expect_bindrsp).
/// </summary>
public enum TcpCheckMatch { String, RString, Binary, RBinary, MySqlHandshake, MySqlOk, LdapBindResponse }

/// <summary>Where an expect step's info text comes from beyond a fixed `on-success`/`on-error` text (HAProxy's protocol checks' log-format lines).</summary>
public enum TcpCheckInfo
{
    /// <summary>The fixed text, if any.</summary>
    Text,
    /// <summary>`%[res.payload(0,0),cut_crlf]`: the first line of the response (redis, smtp greeting).</summary>
    FirstLine,
    /// <summary>`%[res.payload(4,0),ltrim(' '),cut_crlf]`: the first line after the SMTP status code.</summary>
    SmtpText,
    /// <summary>`%[res.payload(6,0)]`: a PostgreSQL ErrorResponse's fields.</summary>
    PgsqlError,
}

/// <summary>
/// One `tcp-check` step, compiled once at parse time. A connect step uses <see cref="Port"/>, <see cref="Address"/>,
/// <see cref="Ssl"/>, <see cref="SendProxy"/>, <see cref="Sni"/>, <see cref="Alpn"/>; a send step <see cref="Data"/>;
/// an expect step the match fields. <see cref="Index"/> is HAProxy's step number minus one (0 for the first written rule).
/// </summary>
public sealed record TcpCheckRule(TcpCheckAction Action, int Index)
{
    public string? Comment { get; init; }

    // connect
    public int? Port { get; init; }
    public IPAddress? Address { get; init; }
    public bool Ssl { get; init; }
    public bool SendProxy { get; init; }
    public string? Sni { get; init; }
    public string? Alpn { get; init; }
    /// <summary>`connect default`: the server's own check settings (its `check-send-proxy`, `port`, `addr`).</summary>
    public bool UsesServerSettings { get; init; }
    /// <summary>HAProxy's implicit first connect (no `connect` rule written): no "(tcp-check)" info on success.</summary>
    public bool Implicit { get; init; }

    // send
    public byte[]? Data { get; init; }
    /// <summary>`option ssl-hello-chk`: bytes 11-14 of <see cref="Data"/> get the current Unix time (HAProxy's %[date(),htonl,hex]).</summary>
    public bool StampUnixTime { get; init; }

    // expect
    public TcpCheckMatch Match { get; init; }
    public bool Negate { get; init; }
    /// <summary>The pattern as written (string, or the hexadecimal of `binary`), for messages.</summary>
    public string? Pattern { get; init; }
    /// <summary>The bytes looked for by `string` and `binary`.</summary>
    public byte[]? Bytes { get; init; }
    public Regex? Regex { get; init; }
    /// <summary>`min-recv N`: bytes needed before judging; -1: none (a mismatch waits for more data).</summary>
    public int MinRecv { get; init; } = -1;
    public CheckStatusCode? OkStatus { get; init; }
    public CheckStatusCode? ErrorStatus { get; init; }
    public CheckStatusCode? TimeoutStatus { get; init; }
    public string? OnSuccess { get; init; }
    public string? OnError { get; init; }
    public TcpCheckInfo OnSuccessFrom { get; init; }
    public TcpCheckInfo OnErrorFrom { get; init; }
    /// <summary>HAProxy's `status-code res.payload(0,3)` of the smtp check: the check code is the 3-digit reply code.</summary>
    public bool CodeFromFirstDigits { get; init; }
}

/// <summary>
/// A backend's tcp-check script: `option tcp-check` with its `tcp-check` rules, or one of the protocol checks
/// (<see cref="Name"/>: "tcp-check", "redis-check", "pgsql-check", "mysql-check", "smtpchk", "ldap-check",
/// "ssl-hello-chk"). <see cref="Rules"/> always starts with a connect (HAProxy inserts an implicit one).
/// </summary>
public sealed record TcpCheckSettings(string Name, IReadOnlyList<TcpCheckRule> Rules)
{
    /// <summary>HAProxy's check buffer (tune.bufsize's default): what an expect may wait for at most.</summary>
    public const int BufferSize = 16384;

    /// <summary>Written rules (`option tcp-check`) rather than a protocol check: the generic info texts apply.</summary>
    public bool IsScript => Name == "tcp-check";
}

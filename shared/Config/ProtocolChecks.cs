using System.Text;
using System.Text.RegularExpressions;
using Proxy.Shared.Stats;

namespace Proxy.Shared.Config;

/// <summary>
/// The protocol checks as HAProxy 2.6 builds them from tcp-check rules (src/tcpcheck.c proxy_parse_*_opt): the same
/// bytes sent, the same expectations, statuses and info texts. Each starts with HAProxy's implicit connect (added by
/// <see cref="TcpCheckParser.Build"/>), so the server's `port`, `addr` and `check-send-proxy` apply.
/// </summary>
internal static class ProtocolChecks
{
    private static Regex Pattern(string pattern) => new(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    private static TcpCheckRule Send(int index, byte[] data) => new(TcpCheckAction.Send, index) { Data = data };

    private static TcpCheckRule Expect(int index, TcpCheckMatch match) => new(TcpCheckAction.Expect, index) { Match = match };

    /// <summary>`option redis-check`: PING, expecting +PONG (on-error: the reply's first line).</summary>
    public static TcpCheckSettings Redis() => new("redis-check",
    [
        Send(0, "*1\r\n$4\r\nPING\r\n"u8.ToArray()),
        Expect(1, TcpCheckMatch.String) with
        {
            Pattern = "+PONG\r\n", Bytes = "+PONG\r\n"u8.ToArray(), ErrorStatus = CheckStatusCode.L7Sts,
            OnErrorFrom = TcpCheckInfo.FirstLine, OnSuccess = "Redis server is ok",
        },
    ]);

    /// <summary>`option ldap-check`: an anonymous LDAPv3 bind request, expecting a successful bindResponse (RFC 4511 4.2).</summary>
    public static TcpCheckSettings Ldap() => new("ldap-check",
    [
        Send(0, Convert.FromHexString("300C020101600702010304008000")),
        Expect(1, TcpCheckMatch.RBinary) with { Pattern = "^30", Regex = Pattern("^30"), MinRecv = 14, OnError = "Not LDAPv3 protocol" },
        Expect(2, TcpCheckMatch.LdapBindResponse),
    ]);

    /// <summary>
    /// `option ssl-hello-chk`: an SSLv3 CLIENT HELLO (RFC 2246 A.3/A.4) with 39 common ciphers, expecting a handshake
    /// or alert record (0x16 or 0x15). The GMT time field is stamped at each send.
    /// </summary>
    public static TcpCheckSettings SslHello()
    {
        var hello = new List<byte>();
        hello.AddRange(Convert.FromHexString("16" + "0300" + "0079" + "01" + "000075" + "0300"));
        hello.AddRange(new byte[4]);                                         // Unix GMT time, filled when sent
        hello.AddRange("HAPROXYSSLCHK\nHAPROXYSSLCHK\n"u8.ToArray());          // random: exactly 28 bytes
        hello.AddRange(Convert.FromHexString("00" + "004E"));
        foreach (int cipher in (int[])[.. Enumerable.Range(0x01, 0x1B), .. Enumerable.Range(0x2F, 0x0C)])
        {
            hello.Add(0);
            hello.Add((byte)cipher);
        }
        hello.AddRange(Convert.FromHexString("01" + "00"));
        return new("ssl-hello-chk",
        [
            Send(0, [.. hello]) with { StampUnixTime = true },
            Expect(1, TcpCheckMatch.RBinary) with
            {
                Pattern = "^1[56]", Regex = Pattern("^1[56]"), MinRecv = 5, OkStatus = CheckStatusCode.L6Ok,
                ErrorStatus = CheckStatusCode.L6Rsp, TimeoutStatus = CheckStatusCode.L6Tout,
            },
        ]);
    }

    /// <summary>`option smtpchk [HELO|EHLO domain]`: a 2xx greeting, then the command and a 2xx reply (the code is the check's code).</summary>
    public static TcpCheckSettings Smtp(string command) => new("smtpchk",
    [
        Expect(1, TcpCheckMatch.RString) with
        {
            Pattern = "^[0-9]{3}[ \r]", Regex = Pattern("^[0-9]{3}[ \r]"), MinRecv = 4, ErrorStatus = CheckStatusCode.L7Rsp,
            OnErrorFrom = TcpCheckInfo.FirstLine,
        },
        Expect(2, TcpCheckMatch.RString) with
        {
            Pattern = "^2[0-9]{2}[ \r]", Regex = Pattern("^2[0-9]{2}[ \r]"), MinRecv = 4, ErrorStatus = CheckStatusCode.L7Sts,
            OnErrorFrom = TcpCheckInfo.SmtpText, CodeFromFirstDigits = true,
        },
        Send(3, Encoding.Latin1.GetBytes(command + "\r\n")),
        Expect(4, TcpCheckMatch.RString) with
        {
            Pattern = "^2[0-9]{2}[- \r]", Regex = Pattern("^2[0-9]{2}[- \r]"), MinRecv = 4, ErrorStatus = CheckStatusCode.L7Sts,
            OnErrorFrom = TcpCheckInfo.SmtpText, OnSuccessFrom = TcpCheckInfo.SmtpText, CodeFromFirstDigits = true,
        },
    ]);

    /// <summary>`option pgsql-check user U`: a StartupMessage (protocol 3.0, user U), expecting AuthenticationOk/CleartextPassword/MD5/SASL... (not an ErrorResponse).</summary>
    public static TcpCheckSettings Pgsql(string user)
    {
        var userBytes = Encoding.UTF8.GetBytes(user);
        int length = 15 + userBytes.Length;
        var packet = new List<byte> { (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length };
        packet.AddRange(Convert.FromHexString("00030000" + "7573657200"));   // version 3.0, "user\0"
        packet.AddRange(userBytes);
        packet.Add(0);
        packet.Add(0);
        const string auth = "^52000000(08|0A|0C)000000(00|02|03|04|05|06)";
        return new("pgsql-check",
        [
            Send(1, [.. packet]),
            Expect(2, TcpCheckMatch.RString) with
            {
                Negate = true, Pattern = "^E", Regex = Pattern("^E"), MinRecv = 5, ErrorStatus = CheckStatusCode.L7Rsp,
                OnErrorFrom = TcpCheckInfo.PgsqlError,
            },
            Expect(3, TcpCheckMatch.RBinary) with
            {
                Pattern = auth, Regex = Pattern(auth), MinRecv = 9, ErrorStatus = CheckStatusCode.L7Sts,
                OnSuccess = "PostgreSQL server is ok", OnError = "PostgreSQL unknown error",
            },
        ]);
    }

    /// <summary>
    /// `option mysql-check [user U [post-41|pre-41]]`: without a user, the server's initial handshake only; with one,
    /// a client authentication packet then COM_QUIT, expecting the handshake and an OK packet (no 0xff error packet).
    /// </summary>
    public static TcpCheckSettings MySql(string? user, bool post41)
    {
        if (user is null) return new("mysql-check", [Expect(1, TcpCheckMatch.MySqlHandshake)]);
        var userBytes = Encoding.UTF8.GetBytes(user);
        int length = userBytes.Length + 7 + (post41 ? 27 : 0);
        var packet = new List<byte> { (byte)length, (byte)(length >> 8), (byte)(length >> 16), 1 };
        packet.AddRange(Convert.FromHexString(post41
            ? "00820000" + "00800001" + "21" + "0000000000000000000000000000000000000000000000"
            : "0080" + "000001"));
        packet.AddRange(userBytes);
        packet.AddRange(Convert.FromHexString("00" + "00" + "010000" + "00" + "01"));
        return new("mysql-check",
        [
            Send(1, [.. packet]),
            Expect(2, TcpCheckMatch.MySqlHandshake),
            Expect(3, TcpCheckMatch.MySqlOk),
        ]);
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Stats;

namespace Proxy.Worker.Health;

/// <summary>
/// Runs a tcp-check script (`option tcp-check` rules, or a protocol check built from them) as HAProxy's
/// tcpcheck_main does: each connect opens a new connection (closing the previous one), each connect and send starts
/// a fresh input buffer, each expect judges the bytes received since then and reads more while the answer may still
/// change (not enough bytes for the pattern or for `min-recv`, or no match and no `min-recv`), up to one buffer.
/// The first failing step ends the check with HAProxy's status and info text. Off the request path: one script
/// run per `inter` per server, in the checking worker.
/// </summary>
internal sealed class TcpCheckProbe(TcpCheckSettings settings, IPEndPoint defaultTarget, CheckProxyHeader serverHeader) : IHealthProbe
{
    private enum Eval { Continue, Wait, Stop }

    /// <summary>The server's check TLS (5.2 `check-ssl`), for a connect that uses the server's settings (`default`, or the implicit first one).</summary>
    public Tls.TlsServerContext? Tls { get; init; }

    public async Task<CheckOutcome> RunAsync(TimeSpan connectTimeout, TimeSpan totalTimeout, CancellationToken stop)
    {
        using var total = CancellationTokenSource.CreateLinkedTokenSource(stop);
        total.CancelAfter(totalTimeout);
        var buffer = new byte[TcpCheckSettings.BufferSize];
        int got = 0;
        bool closed = false, mustRead = true, ssl = false;
        Socket? socket = null;
        Stream? stream = null;
        TcpCheckRule? current = null;
        try
        {
            foreach (var rule in settings.Rules)
            {
                current = rule;
                switch (rule.Action)
                {
                    case TcpCheckAction.Connect:
                        if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
                        socket?.Dispose();
                        got = 0;
                        closed = false;
                        mustRead = true;
                        var target = new IPEndPoint(rule.Address ?? defaultTarget.Address, rule.Port ?? defaultTarget.Port);
                        socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                        var header = rule.SendProxy ? serverHeader with { Send = true } : rule.UsesServerSettings ? serverHeader : serverHeader with { Send = false };
                        if (await CheckConnection.ConnectAsync(socket, target, header, connectTimeout, total.Token, stop).ConfigureAwait(false) is { } failed)
                            return failed with { Info = StepInfo(failed.Info, rule) };
                        stream = new NetworkStream(socket, ownsSocket: false);
                        ssl = rule.Ssl;
                        if (rule.Ssl)
                        {
                            var (tls, error) = await HandshakeAsync(rule, socket, total.Token, stop).ConfigureAwait(false);
                            if (error is { } handshakeFailed) return handshakeFailed;
                            await stream.DisposeAsync().ConfigureAwait(false);
                            stream = tls;
                        }
                        else if (rule.UsesServerSettings && Tls is { } serverTls)
                        {
                            ssl = true;   // a timeout from here on is the handshake's (L6TOUT)
                            try
                            {
                                var tls = await serverTls.HandshakeCheckAsync(socket, total.Token).ConfigureAwait(false);
                                await stream.DisposeAsync().ConfigureAwait(false);
                                stream = tls;
                            }
                            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                            {
                                return new CheckOutcome(CheckStatusCode.L6Rsp, 0, StepInfo("SSL handshake failure", rule));
                            }
                        }
                        break;
                    case TcpCheckAction.Send:
                        got = 0;
                        mustRead = true;
                        var data = rule.Data!;
                        if (rule.StampUnixTime)
                        {
                            data = (byte[])data.Clone();
                            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(11), (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                        }
                        await stream!.WriteAsync(data, total.Token).ConfigureAwait(false);
                        await stream.FlushAsync(total.Token).ConfigureAwait(false);
                        break;
                    default:
                        while (true)
                        {
                            // The first expect after a connect or a send reads first (tcpcheck_main's must_read).
                            if (mustRead)
                            {
                                mustRead = false;
                                if (!closed && got < buffer.Length)
                                {
                                    int n = await stream!.ReadAsync(buffer.AsMemory(got), total.Token).ConfigureAwait(false);
                                    if (n == 0) closed = true;
                                    got += n;
                                }
                                if (got == 0 && closed)
                                    return new CheckOutcome(rule.ErrorStatus ?? CheckStatusCode.L7Rsp, 0,
                                        WithComment($"TCPCHK got an empty response at step {Step(rule)}", rule));
                            }
                            var eval = Judge(rule, buffer.AsSpan(0, got), closed || got == buffer.Length, out var outcome);
                            if (eval == Eval.Stop) return outcome;
                            if (eval == Eval.Continue) break;
                            mustRead = true;     // Wait: the answer may still change with more bytes
                        }
                        break;
                }
            }
            return Success(current!, buffer.AsSpan(0, got), ssl);
        }
        catch (OperationCanceledException)
        {
            stop.ThrowIfCancellationRequested();
            var status = current is { Action: TcpCheckAction.Expect, TimeoutStatus: { } t } ? t
                : current?.Action == TcpCheckAction.Connect ? (current.Ssl || ssl ? CheckStatusCode.L6Tout : CheckStatusCode.L4Tout) : CheckStatusCode.L7Tout;
            return new CheckOutcome(status, 0, current is null ? null : StepInfo(null, current));
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // A reset after the connect: HAProxy reports a connection error of the step (chk_report_conn_err).
            return new CheckOutcome(CheckStatusCode.L4Con, 0, current is null ? e.Message : StepInfo(e.Message, current));
        }
        finally
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            socket?.Dispose();
        }
    }

    // `connect ssl [sni S] [alpn LIST]`: the TLS handshake of the check (the certificate is not verified, see README).
    private static async Task<(Stream? Tls, CheckOutcome? Error)> HandshakeAsync(TcpCheckRule rule, Socket socket, CancellationToken total, CancellationToken stop)
    {
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = rule.Sni ?? "",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        };
        if (rule.Alpn is { } alpn)
        {
            var protocols = new List<SslApplicationProtocol>();
            foreach (var p in alpn.Split(',')) protocols.Add(new SslApplicationProtocol(p));
            options.ApplicationProtocols = protocols;
        }
        try
        {
            await tls.AuthenticateAsClientAsync(options, total).ConfigureAwait(false);
            return (tls, null);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            stop.ThrowIfCancellationRequested();
            await tls.DisposeAsync().ConfigureAwait(false);
            return (null, new CheckOutcome(CheckStatusCode.L6Rsp, 0, StepInfo("SSL handshake failure", rule)));
        }
    }

    // HAProxy's step number: the implicit connect is step 0, the first written rule step 1.
    private static int Step(TcpCheckRule rule) => rule.Index + 1;

    // chk_report_conn_err's " at step N of tcp-check (what)" after the error text.
    private static string StepInfo(string? error, TcpCheckRule rule)
    {
        string what = rule.Action switch
        {
            TcpCheckAction.Connect => rule.Port is { } p ? $"connect port {p}" : "connect",
            TcpCheckAction.Send => "send",
            _ => rule.Match switch
            {
                TcpCheckMatch.String => $"expect string '{rule.Pattern}'",
                TcpCheckMatch.Binary => $"expect binary '{rule.Pattern}'",
                TcpCheckMatch.RString => $"expect regex '{rule.Pattern}'",
                TcpCheckMatch.RBinary => $"expect binary regex '{rule.Pattern}'",
                _ => "expect custom function",
            },
        };
        return WithComment($"{error}{(error is null ? "" : " ")}at step {Step(rule)} of tcp-check ({what})", rule);
    }

    private static string WithComment(string text, TcpCheckRule rule) => rule.Comment is null ? text : $"{text} comment: '{rule.Comment}'";

    /// <summary>Judges one expect step on <paramref name="data"/> (tcpcheck_eval_expect and the custom functions).</summary>
    private Eval Judge(TcpCheckRule rule, ReadOnlySpan<byte> data, bool lastRead, out CheckOutcome outcome)
    {
        outcome = default;
        switch (rule.Match)
        {
            case TcpCheckMatch.MySqlHandshake: return MySqlPacket(rule, data, 0, lastRead, out outcome);
            case TcpCheckMatch.MySqlOk:
                return MySqlPacket(rule, data, data.Length < 3 ? 0 : 4 + data[0] + (data[1] << 8) + (data[2] << 16), lastRead, out outcome);
            case TcpCheckMatch.LdapBindResponse: return LdapBindResponse(rule, data, out outcome);
        }
        if (!lastRead)
        {
            if (rule.Match is TcpCheckMatch.String or TcpCheckMatch.Binary && data.Length < rule.Bytes!.Length) return Eval.Wait;
            if (rule.MinRecv > 0 && data.Length < rule.MinRecv) return Eval.Wait;
        }
        bool match = rule.Match switch
        {
            TcpCheckMatch.String or TcpCheckMatch.Binary => data.IndexOf(rule.Bytes) >= 0,
            TcpCheckMatch.RString => rule.Regex!.IsMatch(Encoding.Latin1.GetString(data)),
            _ => rule.Regex!.IsMatch(Convert.ToHexString(data)),
        };
        if (!match && !lastRead && rule.MinRecv == -1) return Eval.Wait;
        if (match != rule.Negate) return Eval.Continue;
        string? info = rule.OnError ?? InfoFrom(rule.OnErrorFrom, data);
        if (info is null && settings.IsScript)
        {
            string what = rule.Match switch
            {
                TcpCheckMatch.String => $" '{rule.Pattern}'",
                TcpCheckMatch.Binary => " (binary)",
                TcpCheckMatch.RString => " (regex)",
                _ => " (binary regex)",
            };
            info = $"{(match ? "TCPCHK matched unwanted content" : "TCPCHK did not match content")}{what} at step {Step(rule)}";
        }
        if (rule.Comment is not null) info = $"{info} comment: {rule.Comment}";
        outcome = new CheckOutcome(rule.ErrorStatus ?? CheckStatusCode.L7Rsp, Code(rule, data), info);
        return Eval.Stop;
    }

    // The end of a script that passed (tcpcheck_main after the last rule).
    private CheckOutcome Success(TcpCheckRule last, ReadOnlySpan<byte> data, bool ssl)
    {
        switch (last.Action)
        {
            case TcpCheckAction.Expect:
                string? info = last.OnSuccess ?? InfoFrom(last.OnSuccessFrom, data) ?? (settings.IsScript ? "(tcp-check)" : null);
                return new CheckOutcome(last.OkStatus ?? CheckStatusCode.L7Ok, Code(last, data), info);
            case TcpCheckAction.Connect:
                return new CheckOutcome(ssl ? CheckStatusCode.L6Ok : CheckStatusCode.L4Ok, 0, last.Implicit ? null : "(tcp-check)");
            default:
                return new CheckOutcome(CheckStatusCode.L7Ok, 0, "(tcp-check)");
        }
    }

    // `status-code res.payload(0,3)` (smtp): the 3-digit reply code.
    private static int Code(TcpCheckRule rule, ReadOnlySpan<byte> data) =>
        rule.CodeFromFirstDigits && data.Length >= 3 && int.TryParse(data[..3], out int code) ? code : 0;

    // The protocol checks' log-format info texts.
    private static string? InfoFrom(TcpCheckInfo from, ReadOnlySpan<byte> data)
    {
        switch (from)
        {
            case TcpCheckInfo.FirstLine:
                return Encoding.Latin1.GetString(CutCrlf(data));
            case TcpCheckInfo.SmtpText:
                var rest = data.Length > 4 ? data[4..] : default;
                while (rest.Length > 0 && rest[0] == (byte)' ') rest = rest[1..];
                return Encoding.Latin1.GetString(CutCrlf(rest));
            case TcpCheckInfo.PgsqlError:
                // res.payload(6,0) of an ErrorResponse: the first field's text (the severity), up to its NUL.
                var text = data.Length > 6 ? data[6..] : default;
                int nul = text.IndexOf((byte)0);
                return Encoding.Latin1.GetString(nul >= 0 ? text[..nul] : text);
            default:
                return null;
        }
    }

    private static ReadOnlySpan<byte> CutCrlf(ReadOnlySpan<byte> data)
    {
        int end = data.IndexOfAny((byte)'\r', (byte)'\n');
        return end >= 0 ? data[..end] : data;
    }

    // tcpcheck_mysql_expect_packet: a whole packet at <offset>, not an error packet (0xff).
    private static Eval MySqlPacket(TcpCheckRule rule, ReadOnlySpan<byte> data, int offset, bool lastRead, out CheckOutcome outcome)
    {
        outcome = default;
        if (data.Length < offset + 4 || data.Length < offset + 4 + data[offset] + (data[offset + 1] << 8) + (data[offset + 2] << 16))
        {
            if (!lastRead) return Eval.Wait;
            outcome = new CheckOutcome(CheckStatusCode.L7Rsp, 0, WithCommentOrNull(null, rule));
            return Eval.Stop;
        }
        if (data.Length > offset + 4 && data[offset + 4] == 0xff)
        {
            int error = data.Length > offset + 6 ? data[offset + 5] + (data[offset + 6] << 8) : 0;
            string text = data.Length > offset + 7 ? Encoding.Latin1.GetString(data[(offset + 7)..]) : "";
            outcome = new CheckOutcome(CheckStatusCode.L7Sts, error, WithCommentOrNull(text, rule));
            return Eval.Stop;
        }
        return Eval.Continue;
    }

    // tcpcheck_ldap_expect_bindrsp: an LDAPv3 bindResponse to message 1 (RFC 4511 4.2.2) with resultCode success (4.1.9).
    private static Eval LdapBindResponse(TcpCheckRule rule, ReadOnlySpan<byte> d, out CheckOutcome outcome)
    {
        outcome = default;
        const string notLdap = "Not LDAPv3 protocol";
        int length = d.Length > 1 && (d[1] & 0x80) != 0 ? d[1] & 0x7f : 0;
        if (length > 2 || d.Length < 2 + length + 4 || !d.Slice(2 + length, 4).SequenceEqual((ReadOnlySpan<byte>)[0x02, 0x01, 0x01, 0x61]))
        {
            outcome = new CheckOutcome(CheckStatusCode.L7Rsp, 0, WithCommentOrNull(notLdap, rule));
            return Eval.Stop;
        }
        if (d.Length > length + 6 && (d[length + 6] & 0x80) != 0) length += d[length + 6] & 0x7f;
        if (length > 4 || d.Length < 7 + length + 3 || !d.Slice(7 + length, 2).SequenceEqual((ReadOnlySpan<byte>)[0x0a, 0x01]))
        {
            outcome = new CheckOutcome(CheckStatusCode.L7Rsp, 0, WithCommentOrNull(notLdap, rule));
            return Eval.Stop;
        }
        int code = d[length + 9];
        if (code == 0) return Eval.Continue;
        outcome = new CheckOutcome(CheckStatusCode.L7Sts, code, WithCommentOrNull("See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9", rule));
        return Eval.Stop;
    }

    private static string? WithCommentOrNull(string? text, TcpCheckRule rule) =>
        rule.Comment is null ? text : $"{text} comment: {rule.Comment}";
}

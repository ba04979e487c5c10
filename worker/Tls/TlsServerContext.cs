using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Forwarding;
using Proxy.Worker.Http;

namespace Proxy.Worker.Tls;

/// <summary>
/// A `server ... ssl` (5.2): the client side of TLS to a server, built once per server from the shipped model. `verify
/// required` checks the chain against `ca-file` and the name against `verifyhost`, else the SNI sent (HAProxy's rule);
/// `sni` is a literal or the request's Host; `crt` is presented when asked; `no-ssl-reuse` turns resumption off.
/// </summary>
internal sealed class TlsServerContext
{
    private static readonly ConditionalWeakTable<ServerConfig, TlsServerContext> Contexts = new();
    private static readonly ConditionalWeakTable<ServerConfig, TlsServerContext> CheckContexts = new();

    private readonly TlsServerConfig _config;
    private readonly X509Certificate2Collection? _trusted;
    private readonly SslStreamCertificateContext? _clientCertificate;
    private readonly List<SslApplicationProtocol>? _alpn;
    private readonly System.Security.Authentication.SslProtocols _protocols;

    private TlsServerContext(TlsServerConfig config)
    {
        _config = config;
        _trusted = TlsCertificates.Trusted(config.CaFile);
        if (config.Certificate is { } crt) _clientCertificate = TlsCertificates.Context(crt.Pem, out _);
        _alpn = config.Alpn.Count == 0 ? null : config.Alpn.Select(a => new SslApplicationProtocol(a)).ToList();
        _protocols = TlsListenerContext.ProtocolsOf(config.Options.Versions);
    }

    /// <summary>The context of <paramref name="server"/> (which has `ssl`), made on first use.</summary>
    public static TlsServerContext For(ServerConfig server) => Contexts.GetValue(server, static s => new TlsServerContext(s.Tls!));

    /// <summary>The context of <paramref name="server"/>'s health checks (it has <see cref="ServerConfig.CheckTls"/>).</summary>
    public static TlsServerContext ForChecks(ServerConfig server) => CheckContexts.GetValue(server, static s => new TlsServerContext(s.CheckTls!));

    /// <summary>
    /// A health check's handshake on its connected <paramref name="socket"/> (5.2 `check-ssl`): the server's `ssl`
    /// settings, `check-sni` as the name sent (never the traffic's `sni`), the certificate verified as the traffic's is
    /// (`verifyhost`, else the check's SNI). The stream the check then speaks through; SslStream's exception on a failure.
    /// </summary>
    public async Task<SslStream> HandshakeCheckAsync(System.Net.Sockets.Socket socket, CancellationToken cancel)
    {
        var options = ClientOptions(_config.CheckSni);
        var ssl = new SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancel).ConfigureAwait(false);
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs the client handshake on a new server connection under <paramref name="timeoutMs"/> (`timeout connect`, 0:
    /// none) and makes the connection read and write through it. False when it failed (refused certificate, no
    /// handshake): the caller drops the connection and answers as for a failed connect.
    /// </summary>
    public async ValueTask<HandshakeOutcome> HandshakeAsync(BufferedSocket connection, HttpHead? request, long timeoutMs)
    {
        var (ssl, outcome) = await HandshakeAsync(connection.Socket, _config.SniFromHost ? HostOf(request) : _config.Sni, timeoutMs).ConfigureAwait(false);
        if (ssl is not null) connection.UseTls(ssl, counted: true);
        return outcome;
    }

    /// <summary>How a server handshake ended: a timeout is logged as a connect timeout (sC), any other failure as SC, as HAProxy's.</summary>
    public enum HandshakeOutcome { Done, Failed, TimedOut }

    /// <summary>
    /// The same for a `mode tcp` session's server socket (no request: `sni req.hdr(host)` sends none, as HAProxy's
    /// fetch finds no header): the stream, which holds a `maxsslconn` place (TlsCounters.Release after its dispose), or null.
    /// </summary>
    public ValueTask<(SslStream? Stream, HandshakeOutcome Outcome)> HandshakeAsync(System.Net.Sockets.Socket socket, long timeoutMs) =>
        HandshakeAsync(socket, _config.SniFromHost ? null : _config.Sni, timeoutMs);

    private async ValueTask<(SslStream?, HandshakeOutcome)> HandshakeAsync(System.Net.Sockets.Socket socket, string? sni, long timeoutMs)
    {
        var options = ClientOptions(sni);
        options.AllowTlsResume = !_config.NoSslReuse && !_config.Options.NoTlsTickets;
        // `maxsslconn` counts the server side too; at the limit the connection fails as HAProxy's (CO_ER_SSL_TOO_MANY).
        if (!TlsCounters.TryOpen()) return (null, HandshakeOutcome.Failed);
        SslStream? ssl = null;
        using var timeout = timeoutMs > 0 ? new CancellationTokenSource(TimeSpan.FromMilliseconds(timeoutMs)) : null;
        try
        {
            // Inside the try: a socket an abort closed meanwhile fails here, and the place is given back below.
            ssl = new SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(options, timeout?.Token ?? CancellationToken.None).ConfigureAwait(false);
            return (ssl, HandshakeOutcome.Done);
        }
        catch (Exception)
        {
            // SslStream reports every failure as an exception: a refused certificate, a reset, the timeout.
            ssl?.Dispose();
            TlsCounters.Release();
            return (null, timeout is { IsCancellationRequested: true } ? HandshakeOutcome.TimedOut : HandshakeOutcome.Failed);
        }
    }

    /// <summary>The handshake's options: <paramref name="sni"/> sent, and checked unless `verifyhost` names another.</summary>
    private SslClientAuthenticationOptions ClientOptions(string? sni)
    {
        string? expectedName = _config.VerifyHost ?? sni;
        return new SslClientAuthenticationOptions
        {
            TargetHost = sni ?? "",
            EnabledSslProtocols = _protocols,
            ApplicationProtocols = _alpn,
            ClientCertificateContext = _clientCertificate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, sent, _) => Verify(certificate, sent, expectedName),
        };
    }

    /// <summary>`verify required`: chain to `ca-file`, and the name (verifyhost, else the SNI) in the certificate.</summary>
    private bool Verify(X509Certificate? certificate, X509Chain? sent, string? expectedName)
    {
        if (_config.Verify == TlsVerify.None) return true;
        if (certificate is null) return false;
        using var cert = new X509Certificate2(certificate);
        if (!TlsCertificates.ChainsTo(cert, _trusted, sent)) return false;
        return expectedName is null || cert.MatchesHostname(expectedName);
    }

    /// <summary>The request's Host without its port (`sni req.hdr(host)`); null without one.</summary>
    private static string? HostOf(HttpHead? request)
    {
        if (request is null) return null;
        int i = request.IndexOfHeader("host"u8);
        if (i < 0) return null;
        var value = request.GetHeaderValue(i).Trim(" \t"u8);
        if (value.Length > 0 && value[0] != (byte)'[' && value.LastIndexOf((byte)':') is int colon and > 0) value = value[..colon];
        return value.Length == 0 ? null : Encoding.ASCII.GetString(value);
    }
}

using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using Proxy.Shared.Config;
using Tmds.Linux;

namespace Proxy.Worker.Tls;

/// <summary>
/// What this proxy sets on the OpenSSL contexts SslStream builds for `bind ... ssl` (SslStream caches one SSL_CTX per
/// certificate and version set, and shares it among its handshakes): the ticket keys every worker shares
/// (<see cref="TlsTicketKeys"/>), `no-tls-tickets` (SSL_OP_NO_TICKET: stateful resumption only, as HAProxy), the
/// session cache's size (`tune.ssl.cachesize`, 0: off) and lifetime (`tune.ssl.lifetime`). SslStream's own switch for
/// tickets (AllowTlsResume = false) would build a new SSL_CTX for every handshake, about 450 µs of CPU each (measured
/// with `openssl s_time -new`, perf/README.md), so every listener keeps it on and these settings are made here.
/// Each context is configured once, marked in its ex_data: at the listener's start by a warm-up handshake over a
/// socket pair (so the first client already gets a ticket under the shared keys), else after the first handshake
/// that uses it. The SSL* of a connection is SslStream's private `_securityContext` (a SafeHandle over it): if a
/// runtime renamed it, nothing here is done (a line in the process log says so) and OpenSSL's defaults apply.
/// </summary>
internal static unsafe class TlsContexts
{
    private static readonly FieldInfo? s_securityContext =
        typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance);
    private static int s_cacheSize = TlsGlobalSettings.Default.SessionCacheSize;
    private static int? s_lifetime;
    private static nint s_instanceKeys;                       // the supervisor's key set (TlsTicketKeys.Allocate)
    private static readonly nint s_noKeys = (nint)NativeMemory.AllocZeroed(8);   // the mark of a context configured without keys: Count 0
    private static readonly int s_exIndex = s_securityContext is null ? -1 : LibSsl.SSL_CTX_get_ex_new_index();

    /// <summary>`tune.ssl.maxrecord`: the most bytes one write encrypts (one record's payload); 0: no limit (16 KB records).</summary>
    public static int MaxRecord { get; private set; }

    /// <summary>Whether the connections' SSL* can be reached (false: a runtime without SslStream._securityContext).</summary>
    public static bool Reachable => s_securityContext is not null;

    /// <summary>SslStream's handle over a connection's SSL*; null when the runtime has no such field.</summary>
    public static SafeHandle? ConnectionOf(SslStream ssl) => s_securityContext?.GetValue(ssl) as SafeHandle;

    /// <summary>The instance's settings and the supervisor's ticket keys; once per worker, before its listeners start.</summary>
    public static void Setup(TlsGlobalSettings settings, IReadOnlyList<byte[]> ticketKeys)
    {
        s_cacheSize = settings.SessionCacheSize;
        s_lifetime = settings.SessionLifetimeSeconds;
        MaxRecord = settings.MaxRecord;
        if (s_instanceKeys == 0) s_instanceKeys = TlsTicketKeys.Allocate(ticketKeys);
    }

    /// <summary>The key set for a bind: its own `tls-ticket-keys` file's, else the instance's (0: none, OpenSSL's own keys).</summary>
    public static nint KeysFor(IReadOnlyList<byte[]>? bindKeys) => bindKeys is { Count: > 0 } ? TlsTicketKeys.Allocate(bindKeys) : s_instanceKeys;

    /// <summary>The key set <paramref name="ctx"/> was configured with (its ex_data), for the ticket callback.</summary>
    public static nint KeySetOf(nint ctx) => ctx == 0 || s_exIndex < 0 ? 0 : LibSsl.SSL_CTX_get_ex_data(ctx, s_exIndex);

    /// <summary>
    /// After a completed server handshake: configures its context if this is the first handshake on it, and says
    /// whether the handshake resumed a session (`ssl_fc_is_resumed`); false when the SSL* cannot be reached.
    /// </summary>
    public static bool AfterHandshake(SslStream ssl, TlsOptions options, nint keys) => AfterHandshake(ssl, options, keys, warmUp: false);

    private static bool AfterHandshake(SslStream ssl, TlsOptions options, nint keys, bool warmUp)
    {
        if (s_securityContext?.GetValue(ssl) is not SafeHandle handle) return false;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            nint connection = handle.DangerousGetHandle();
            if (connection == 0) return false;
            nint ctx = LibSsl.SSL_get_SSL_CTX(connection);
            if (ctx != 0 && s_exIndex >= 0 && LibSsl.SSL_CTX_get_ex_data(ctx, s_exIndex) == 0) Configure(ctx, ssl, options, keys, warmUp);
            return LibSsl.SSL_session_reused(connection) == 1;
        }
        catch (Exception)
        {
            return false;   // disposed meanwhile, or a runtime whose SSL* is not what this expects: no resumption said
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Sets this proxy's settings on <paramref name="ctx"/>, the context of <paramref name="ssl"/>'s handshake; its
    /// ex_data then holds the key set (or the no-keys mark). Two binds with the same certificate and versions share one
    /// context (SslStream's cache key), so the first configured decides `no-tls-tickets` and the keys for both (README,
    /// TLS). Serialized, the mark checked again inside. The cipher, curve and signature lists are set by the warm-up
    /// only, before any client: setting them frees the context's old lists, which a concurrent handshake may be reading.
    /// </summary>
    private static void Configure(nint ctx, SslStream ssl, TlsOptions options, nint keys, bool warmUp)
    {
        lock (s_gate)
        {
            if (LibSsl.SSL_CTX_get_ex_data(ctx, s_exIndex) != 0) return;
            ConfigureOnce(ctx, ssl, options, keys, warmUp);
        }
    }

    private static readonly Lock s_gate = new();
    private static int s_listsSkippedLogged;

    private static void ConfigureOnce(nint ctx, SslStream ssl, TlsOptions options, nint keys, bool warmUp)
    {
        // The session id context, which OpenSSL checks when a session resumes: SslStream sets a random one per context,
        // so no other worker's session would ever resume here. It is the certificate's SHA-256 in every worker instead
        // (HAProxy sets one name for all: a session resumes only with the certificate it was made with here).
        if (ssl.LocalCertificate is { } certificate)
        {
            Span<byte> id = stackalloc byte[32];   // SSL_MAX_SID_CTX_LENGTH
            System.Security.Cryptography.SHA256.HashData(certificate.GetRawCertData(), id);
            fixed (byte* p = id) LibSsl.SSL_CTX_set_session_id_context(ctx, p, (uint)id.Length);
        }
        bool noTickets = options.NoTlsTickets;
        // The key set first: the callback reads it from the context's ex_data.
        LibSsl.SSL_CTX_set_ex_data(ctx, s_exIndex, keys != 0 ? keys : s_noKeys);
        if (keys != 0) LibSsl.SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TlsTicketKeys.Callback);
        if (warmUp) SetLists(ctx, options);
        else if ((options.Ciphers ?? options.CipherSuites ?? options.Curves ?? options.Sigalgs ?? options.ClientSigalgs) is not null
            && Interlocked.Exchange(ref s_listsSkippedLogged, 1) == 0)
            NLog.LogManager.GetLogger("worker").Warn("TLS: a listener's warm-up handshake failed, so its ciphers/ciphersuites/curves/sigalgs were not set (OpenSSL's defaults apply)");
        // As HAProxy: an idle connection gives its record buffers back to OpenSSL's allocator.
        LibSsl.SSL_CTX_set_mode(ctx, LibSsl.ModeReleaseBuffers);
        // HAProxy's default is the server's preference order (SSL_OP_CIPHER_SERVER_PREFERENCE); `prefer-client-ciphers` the client's.
        if (options.PreferClientCiphers) LibSsl.SSL_CTX_clear_options(ctx, LibSsl.OpCipherServerPreference);
        else LibSsl.SSL_CTX_set_options(ctx, LibSsl.OpCipherServerPreference);
        if (noTickets) LibSsl.SSL_CTX_set_options(ctx, LibSsl.OpNoTicket);
        if (s_cacheSize == 0)
        {
            LibSsl.SSL_CTX_set_session_cache_mode(ctx, LibSsl.SessCacheOff);
            if (noTickets) LibSsl.SSL_CTX_set_num_tickets(ctx, 0);   // a stateful ticket with no cache to find it in is useless
        }
        else
        {
            LibSsl.SSL_CTX_sess_set_cache_size(ctx, s_cacheSize);
        }
        // HAProxy sets the timeout only for a non-zero tune.ssl.lifetime.
        if (s_lifetime is { } lifetime and > 0) LibSsl.SSL_CTX_set_timeout(ctx, lifetime);
    }

    private static int s_listRefusedLogged;

    /// <summary>
    /// The bind's `ciphers`, `ciphersuites`, `curves`, `sigalgs`, `client-sigalgs` (checked by the supervisor as OpenSSL
    /// takes them: OpenSslListCheck); one refused here anyway (another libssl) keeps OpenSSL's default, logged once.
    /// </summary>
    private static void SetLists(nint ctx, TlsOptions options)
    {
        Set(options.Ciphers, "ciphers", static (c, v) => LibSsl.SSL_CTX_set_cipher_list(c, v));
        Set(options.CipherSuites, "ciphersuites", static (c, v) => LibSsl.SSL_CTX_set_ciphersuites(c, v));
        Set(options.Curves, "curves", static (c, v) => (int)LibSsl.SSL_CTX_set1_groups_list(c, v));
        Set(options.Sigalgs, "sigalgs", static (c, v) => (int)LibSsl.SSL_CTX_set1_sigalgs_list(c, v));
        Set(options.ClientSigalgs, "client-sigalgs", static (c, v) => (int)LibSsl.SSL_CTX_set1_client_sigalgs_list(c, v));

        void Set(string? value, string name, Func<nint, string, int> apply)
        {
            if (value is null || apply(ctx, value) == 1) return;
            if (Interlocked.Exchange(ref s_listRefusedLogged, 1) == 0)
                NLog.LogManager.GetLogger("worker").Warn($"TLS: OpenSSL refused {name} '{value}'; its default applies");
        }
    }

    /// <summary>
    /// Makes SslStream build (and this class configure) the context <paramref name="options"/> will use, with one
    /// handshake between two SslStreams over a socket pair: the context is keyed by certificate, versions and whether ALPN
    /// is offered (a review finding: a warm-up without the bind's ALPN configured a context its clients never used), not
    /// by client-certificate settings. A failure (a version set the platform refuses as a client) leaves the context to
    /// be configured after its first real handshake, without its cipher lists (see Configure).
    /// </summary>
    public static void WarmUp(SslServerAuthenticationOptions options, TlsOptions settings, nint keys)
    {
        if (!Reachable) return;
        int* pair = stackalloc int[2];
        if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, pair) != 0) return;
        using var serverSocket = new Socket(new SafeSocketHandle(pair[0], ownsHandle: true));
        using var clientSocket = new Socket(new SafeSocketHandle(pair[1], ownsHandle: true));
        using var server = new SslStream(new NetworkStream(serverSocket, ownsSocket: false));
        using var client = new SslStream(new NetworkStream(clientSocket, ownsSocket: false));
        var serverOptions = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = options.ServerCertificateContext,
            EnabledSslProtocols = options.EnabledSslProtocols,
            // SslStream keys its contexts by certificate, versions and whether ALPN is offered: the same as the bind's.
            ApplicationProtocols = options.ApplicationProtocols,
            AllowTlsResume = true,
        };
        // The warm-up's client takes what OpenSSL offers by default; the bind's lists are set only after it.
        var clientOptions = new SslClientAuthenticationOptions
        {
            TargetHost = "warm-up.invalid",
            EnabledSslProtocols = options.EnabledSslProtocols,
            ApplicationProtocols = options.ApplicationProtocols,
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            AllowTlsResume = false,
        };
        try
        {
            var handshakes = Task.WhenAll(server.AuthenticateAsServerAsync(serverOptions), client.AuthenticateAsClientAsync(clientOptions));
            if (handshakes.Wait(TimeSpan.FromSeconds(5))) AfterHandshake(server, settings, keys, warmUp: true);
        }
        catch (AggregateException)
        {
            // configured after the first real handshake instead
        }
    }
}

using System.Runtime.InteropServices;

namespace Proxy.Worker.Tls;

/// <summary>
/// The few OpenSSL 3 calls this proxy makes itself, on the contexts and connections SslStream built over the same
/// libraries (.NET loads libssl.so.3 for SslStream; these bind to the same library by name). What SslStream does not
/// expose: the ticket keys (shared by every worker, so a client resumes wherever SO_REUSEPORT sends it), `no-tls-tickets`
/// on a context SslStream caches, the session cache's size and lifetime, and whether a handshake resumed a session.
/// Macros of ssl.h are spelled out as the SSL_CTX_ctrl calls they expand to (OpenSSL 3.0 ssl.h).
/// </summary>
internal static unsafe partial class LibSsl
{
    private const string Ssl = "libssl.so.3";
    private const string Crypto = "libcrypto.so.3";

    public const ulong OpNoTicket = 1UL << 14;          // SSL_OP_NO_TICKET
    public const ulong OpCipherServerPreference = 1UL << 22;   // SSL_OP_CIPHER_SERVER_PREFERENCE
    private const int CtrlSetGroupsList = 92, CtrlSetSigalgsList = 98, CtrlSetClientSigalgsList = 102;
    private const int CtrlMode = 33;                    // SSL_CTRL_MODE
    public const long ModeReleaseBuffers = 0x10;        // SSL_MODE_RELEASE_BUFFERS
    private const int CtrlSetSessCacheSize = 42;        // SSL_CTRL_SET_SESS_CACHE_SIZE
    private const int CtrlSetSessCacheMode = 44;        // SSL_CTRL_SET_SESS_CACHE_MODE
    public const long SessCacheOff = 0;                 // SSL_SESS_CACHE_OFF
    private const int ExIndexSslCtx = 1;                // CRYPTO_EX_INDEX_SSL_CTX

    [LibraryImport(Ssl)] public static partial nint SSL_get_SSL_CTX(nint ssl);
    [LibraryImport(Ssl)] public static partial int SSL_session_reused(nint ssl);
    [LibraryImport(Ssl)] public static partial nint SSL_get_session(nint ssl);
    [LibraryImport(Ssl)] public static partial byte* SSL_SESSION_get_id(nint session, uint* length);
    [LibraryImport(Ssl)] public static partial ulong SSL_CTX_set_options(nint ctx, ulong options);
    [LibraryImport(Ssl)] public static partial ulong SSL_CTX_clear_options(nint ctx, ulong options);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] public static partial int SSL_CTX_set_cipher_list(nint ctx, string list);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] public static partial int SSL_CTX_set_ciphersuites(nint ctx, string list);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] private static partial long SSL_CTX_ctrl(nint ctx, int cmd, long larg, string parg);
    [LibraryImport(Ssl)] public static partial long SSL_CTX_set_timeout(nint ctx, long seconds);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_set_num_tickets(nint ctx, nuint tickets);
    [LibraryImport(Ssl)] private static partial long SSL_CTX_ctrl(nint ctx, int cmd, long larg, nint parg);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_set_session_id_context(nint ctx, byte* context, uint length);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_set_ex_data(nint ctx, int index, nint data);
    [LibraryImport(Ssl)] public static partial nint SSL_CTX_get_ex_data(nint ctx, int index);
    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_set_tlsext_ticket_key_evp_cb(nint ctx, delegate* unmanaged<nint, byte*, byte*, nint, nint, int, int> callback);

    // A connection's records after SslStream's handshake (BufferedSocket.TlsRecords.cs).
    [LibraryImport(Ssl)] public static partial int SSL_read(nint ssl, byte* into, int length);
    [LibraryImport(Ssl)] public static partial int SSL_write(nint ssl, byte* data, int length);
    [LibraryImport(Ssl)] public static partial int SSL_get_error(nint ssl, int result);
    [LibraryImport(Ssl)] public static partial int SSL_has_pending(nint ssl);
    [LibraryImport(Ssl)] public static partial void SSL_set_bio(nint ssl, nint rbio, nint wbio);
    [LibraryImport(Ssl)] public static partial nint SSL_get_rbio(nint ssl);
    [LibraryImport(Ssl)] public static partial void SSL_set_read_ahead(nint ssl, int yes);
    [LibraryImport(Ssl)] public static partial ulong SSL_set_options(nint ssl, ulong options);
    [LibraryImport(Ssl)] public static partial void SSL_set_quiet_shutdown(nint ssl, int mode);
    [LibraryImport(Ssl)] private static partial long SSL_ctrl(nint ssl, int cmd, long larg, nint parg);
    [LibraryImport(Crypto)] public static partial void ERR_clear_error();
    [LibraryImport(Crypto)] public static partial int BIO_method_type(nint bio);

    public const int ErrorWantRead = 2, ErrorWantWrite = 3, ErrorSyscall = 5, ErrorZeroReturn = 6;   // SSL_ERROR_*
    public const ulong OpIgnoreUnexpectedEof = 1UL << 7;   // SSL_OP_IGNORE_UNEXPECTED_EOF
    public const ulong OpNoRenegotiation = 1UL << 30;      // SSL_OP_NO_RENEGOTIATION
    public const long ModeEnablePartialWrite = 0x1, ModeAcceptMovingWriteBuffer = 0x2;   // SSL_MODE_*
    public const int BioTypeMem = 0x0401;                  // BIO_TYPE_MEM: SslStream's BIOs
    public static long SSL_set_mode(nint ssl, long mode) => SSL_ctrl(ssl, CtrlMode, mode, 0);

    [LibraryImport(Crypto)] private static partial int CRYPTO_get_ex_new_index(int classIndex, long argl, nint argp, nint newFunc, nint dupFunc, nint freeFunc);
    [LibraryImport(Crypto)] public static partial int RAND_bytes(byte* buffer, int length);
    [LibraryImport(Crypto)] public static partial nint EVP_aes_128_cbc();
    [LibraryImport(Crypto)] public static partial nint EVP_aes_256_cbc();
    [LibraryImport(Crypto)] public static partial int EVP_EncryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);
    [LibraryImport(Crypto)] public static partial int EVP_DecryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);
    [LibraryImport(Crypto)] public static partial int EVP_MAC_CTX_set_params(nint ctx, OsslParam* parameters);

    public static long SSL_CTX_set1_groups_list(nint ctx, string list) => SSL_CTX_ctrl(ctx, CtrlSetGroupsList, 0, list);
    public static long SSL_CTX_set1_sigalgs_list(nint ctx, string list) => SSL_CTX_ctrl(ctx, CtrlSetSigalgsList, 0, list);
    public static long SSL_CTX_set1_client_sigalgs_list(nint ctx, string list) => SSL_CTX_ctrl(ctx, CtrlSetClientSigalgsList, 0, list);
    public static long SSL_CTX_set_mode(nint ctx, long mode) => SSL_CTX_ctrl(ctx, CtrlMode, mode, 0);
    public static long SSL_CTX_sess_set_cache_size(nint ctx, long size) => SSL_CTX_ctrl(ctx, CtrlSetSessCacheSize, size, 0);
    public static long SSL_CTX_set_session_cache_mode(nint ctx, long mode) => SSL_CTX_ctrl(ctx, CtrlSetSessCacheMode, mode, 0);
    public static int SSL_CTX_get_ex_new_index() => CRYPTO_get_ex_new_index(ExIndexSslCtx, 0, 0, 0, 0, 0);

    /// <summary>OSSL_PARAM (openssl/core.h), for EVP_MAC_CTX_set_params.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OsslParam
    {
        public byte* Key;
        public uint DataType;
        public void* Data;
        public nuint DataSize;
        public nuint ReturnSize;

        public const uint Utf8String = 4, OctetString = 5;   // OSSL_PARAM_UTF8_STRING, OSSL_PARAM_OCTET_STRING

        public static OsslParam Of(byte* key, uint type, void* data, nuint size) =>
            new() { Key = key, DataType = type, Data = data, DataSize = size, ReturnSize = nuint.MaxValue };   // OSSL_PARAM_UNMODIFIED
    }
}

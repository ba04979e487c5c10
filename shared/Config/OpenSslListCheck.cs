using System.Runtime.InteropServices;

namespace Proxy.Shared.Config;

/// <summary>
/// Checks a `bind` TLS list (`ciphers`, `ciphersuites`, `curves`, `sigalgs`, `client-sigalgs`) the way the worker will
/// apply it: on a throwaway OpenSSL context of the platform's libssl (the library SslStream uses), so `proxyctl check`
/// refuses at FILE:LINE what OpenSSL would refuse at the listener's start, as `haproxy -c` does. Configuration time only.
/// </summary>
internal static partial class OpenSslListCheck
{
    private const string Ssl = "libssl.so.3";
    private const int CtrlSetGroupsList = 92, CtrlSetSigalgsList = 98, CtrlSetClientSigalgsList = 102;   // ssl.h

    [LibraryImport(Ssl)] private static partial nint TLS_server_method();
    [LibraryImport(Ssl)] private static partial nint SSL_CTX_new(nint method);
    [LibraryImport(Ssl)] private static partial void SSL_CTX_free(nint ctx);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] private static partial int SSL_CTX_set_cipher_list(nint ctx, string list);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] private static partial int SSL_CTX_set_ciphersuites(nint ctx, string list);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] private static partial long SSL_CTX_ctrl(nint ctx, int cmd, long larg, string parg);

    /// <summary>Null when OpenSSL takes <paramref name="value"/> as <paramref name="keyword"/>; else why not.</summary>
    public static string? Check(string keyword, string value)
    {
        nint ctx;
        try
        {
            ctx = SSL_CTX_new(TLS_server_method());
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;   // no libssl.so.3 here (not the platform this runs on): the worker reports it at its start
        }
        if (ctx == 0) return null;
        try
        {
            bool ok = keyword switch
            {
                "ciphers" => SSL_CTX_set_cipher_list(ctx, value) == 1,
                "ciphersuites" => SSL_CTX_set_ciphersuites(ctx, value) == 1,
                "curves" or "ecdhe" => SSL_CTX_ctrl(ctx, CtrlSetGroupsList, 0, value) == 1,
                "sigalgs" => SSL_CTX_ctrl(ctx, CtrlSetSigalgsList, 0, value) == 1,
                "client-sigalgs" => SSL_CTX_ctrl(ctx, CtrlSetClientSigalgsList, 0, value) == 1,
                _ => true,
            };
            return ok ? null : $"OpenSSL refuses {ConfigDiagnostics.Quote(value)} as a {keyword} list";
        }
        finally
        {
            SSL_CTX_free(ctx);
        }
    }
}

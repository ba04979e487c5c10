using System.Net.Security;

namespace Proxy.Worker.Tls;

/// <summary>`tune.ssl.maxrecord` (3.2) on SslStream's writes; the worker's own records cap SSL_write instead (BufferedSocket.TlsRecords.cs).</summary>
internal static class TlsRecordLimit
{
    /// <summary>Writes <paramref name="data"/>: SslStream makes one record of each write (up to 16 KB), so a limit is smaller writes.</summary>
    public static async ValueTask WriteAsync(SslStream tls, ReadOnlyMemory<byte> data)
    {
        int limit = TlsContexts.MaxRecord;
        while (limit > 0 && data.Length > limit)
        {
            await tls.WriteAsync(data[..limit]).ConfigureAwait(false);
            data = data[limit..];
        }
        await tls.WriteAsync(data).ConfigureAwait(false);
    }
}

using System.Net.Security;
using System.Runtime.InteropServices;
using Proxy.Worker.Tls;

namespace Proxy.Worker.Forwarding;

internal sealed unsafe partial class BufferedSocket
{
    /// <summary>
    /// What a TLS connection adds to its BufferedSocket (BufferedSocket.Tls.cs, .TlsRecords.cs, .TlsTransport.cs), in an
    /// object of its own so that a plain connection does not carry it (issue 15: 48 bytes less per plain socket, two per
    /// http session).
    /// </summary>
    private sealed class TlsState
    {
        public SslStream? Stream;         // set by UseTls: bytes go through TLS; null while the handshake runs
        public bool Counted;              // holds a `maxsslconn` place (TlsCounters), given back at the dispose
        public LoopTransport? Transport;  // the stream under Stream's handshake on the loop (BufferedSocket.TlsTransport.cs)
        public bool OwnRecords;           // TakeRecords moved the records here: never back to SslStream (a late call fails instead)
        public nint Ssl;                  // the OpenSSL connection while OwnRecords, until the dispose (then 0)
        public SafeHandle? SslHandle;     // SslStream's handle over Ssl, held from TakeRecords to Dispose (the SSL lives until then)
        public LoopBio.State* Bio;        // what the BIO's reads saw (freed with the BIO, when the SSL is)
        public int SslBusy;               // 1 while an SSL_read or SSL_write runs: OpenSSL takes one call at a time per connection
        // The handshake's reads stop at a record's end (TransportReadAsync), so that SslStream never holds a record past
        // its handshake: a client's first request, often sent with its Finished, stays in the socket for SSL_read.
        public bool RecordBounded;
        public int RecordLeft;            // bytes of the current record not handed to SslStream yet
        public int HeaderGot;             // bytes of the next record's 5-byte header handed so far
        public int RecordLength;          // that header's length field, as far as read
    }

    /// <summary>This connection's TLS state, made when its handshake or its TLS stream first needs it.</summary>
    private TlsState TlsSide => _tlsState ??= new TlsState();
}

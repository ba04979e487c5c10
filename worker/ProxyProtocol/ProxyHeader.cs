using System.Net;

namespace Proxy.Worker.ProxyProtocol;

/// <summary>What parsing the start of an `accept-proxy` connection found (HAProxy's CO_ER_PRX_* codes, connection.c).</summary>
internal enum ProxyHeaderStatus
{
    /// <summary>A whole header: <see cref="ProxyHeader.Length"/> bytes belong to it, the rest is the client's data.</summary>
    Complete,
    /// <summary>What arrived is the beginning of a header: wait for more.</summary>
    NeedMore,
    /// <summary>CO_ER_PRX_NOT_HDR: neither "PROXY " (v1) nor the v2 signature with version 2.</summary>
    NotHeader,
    /// <summary>CO_ER_PRX_BAD_HDR: a header that breaks its own rules (addresses, ports, TLVs, CRC32C, size).</summary>
    Invalid,
    /// <summary>CO_ER_PRX_BAD_PROTO: a v1 protocol other than TCP4, TCP6 or UNKNOWN.</summary>
    BadProtocol,
}

/// <summary>
/// A parsed PROXY protocol header (doc/proxy-protocol.txt, v1 and v2). <see cref="Local"/>: the header carries no
/// usable addresses (v2 LOCAL command, v1 UNKNOWN, v2 UDP/UNIX/UNSPEC families) and the connection keeps its own, as
/// HAProxy does. The authority TLV (PP2_TYPE_AUTHORITY) is kept as offsets into the parsed bytes so parsing allocates
/// nothing; the addresses are built once, for the session.
/// </summary>
internal struct ProxyHeader
{
    public int Length;
    public int Version;
    public bool Local;
    public IPEndPoint? Source;
    public IPEndPoint? Destination;
    public int AuthorityOffset, AuthorityLength;
    public int UniqueIdOffset, UniqueIdLength;
}

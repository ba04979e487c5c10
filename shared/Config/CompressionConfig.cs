namespace Proxy.Shared.Config;

/// <summary>`compression algo` names (doc/configuration.txt 4.2 "compression"), with the coding each one announces.</summary>
public enum CompressionAlgorithm
{
    /// <summary>No change to the data; the response is still re-chunked, without Content-Encoding (RFC 9110 8.4.1).</summary>
    Identity,
    /// <summary>RFC 1952 gzip, "Content-Encoding: gzip".</summary>
    Gzip,
    /// <summary>RFC 1950 zlib format, "Content-Encoding: deflate" (what RFC 9110 8.4.1.2 calls deflate).</summary>
    Deflate,
    /// <summary>RFC 1951 raw deflate under "Content-Encoding: deflate", for clients that mis-implemented deflate.</summary>
    RawDeflate,
}

/// <summary>
/// A proxy's `compression algo|type|offload` settings. Algorithms are kept in the order written; HAProxy lists them
/// the other way round (each `algo` is prepended), which matters only to `Accept-Encoding: *` and is applied where
/// they are chosen.
/// </summary>
public sealed record CompressionSettings(IReadOnlyList<CompressionAlgorithm> Algorithms, IReadOnlyList<string> Types, bool Offload);

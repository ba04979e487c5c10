using System.Text;
using Proxy.Shared.Config;

namespace Proxy.Worker.Compression;

/// <summary>
/// A proxy's `compression` settings ready for the request path: the algorithms in HAProxy's lookup order (the last
/// one written first, as each `compression algo` is prepended to its list) and the MIME type prefixes as bytes.
/// </summary>
internal sealed class CompressionRuntime
{
    public CompressionRuntime(CompressionSettings settings)
    {
        Algorithms = new CompressionAlgorithm[settings.Algorithms.Count];
        for (int i = 0; i < Algorithms.Length; i++) Algorithms[i] = settings.Algorithms[Algorithms.Length - 1 - i];
        Types = new byte[settings.Types.Count][];
        for (int i = 0; i < Types.Length; i++) Types[i] = Encoding.ASCII.GetBytes(settings.Types[i]);
        Offload = settings.Offload;
    }

    public static CompressionRuntime? From(CompressionSettings? settings) => settings is null ? null : new CompressionRuntime(settings);

    public CompressionAlgorithm[] Algorithms { get; }
    public byte[][] Types { get; }
    /// <summary>`compression offload`: Accept-Encoding is removed from the request once an algorithm is chosen.</summary>
    public bool Offload { get; }

    /// <summary>The token an algorithm answers in Accept-Encoding (HAProxy's ua_name).</summary>
    public static ReadOnlySpan<byte> AcceptName(CompressionAlgorithm algo) => algo switch
    {
        CompressionAlgorithm.Gzip => "gzip"u8,
        CompressionAlgorithm.Deflate or CompressionAlgorithm.RawDeflate => "deflate"u8,
        _ => "identity"u8,
    };
}

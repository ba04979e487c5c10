using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// One sample as it flows from a fetch through converters (HAProxy's `struct sample`): a boolean or an integer in
/// <see cref="Int"/>, a string, binary or IP address (4 or 16 bytes, network order) in <see cref="Bytes"/>, which
/// points into the request, the response, a variable or the context's scratch space; never into the managed heap of
/// its own. <see cref="None"/> is "no sample" (a fetch that found nothing), which no pattern matches.
/// </summary>
internal ref struct Sample
{
    public SampleType Type;
    public long Int;
    public ReadOnlySpan<byte> Bytes;

    public static Sample None => default;

    public readonly bool Exists => Type != SampleType.Any;

    public static Sample OfInt(long value) => new() { Type = SampleType.Int, Int = value };

    public static Sample OfBool(bool value) => new() { Type = SampleType.Bool, Int = value ? 1 : 0 };

    public static Sample OfString(ReadOnlySpan<byte> value) => new() { Type = SampleType.Str, Bytes = value };

    public static Sample OfBinary(ReadOnlySpan<byte> value) => new() { Type = SampleType.Bin, Bytes = value };

    public static Sample OfIp(ReadOnlySpan<byte> address) => new() { Type = SampleType.Ip, Bytes = address };
}

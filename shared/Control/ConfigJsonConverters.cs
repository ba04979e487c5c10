using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Proxy.Shared.Control;

// JSON forms of the model's framework types that System.Text.Json has no converter for. The supervisor writes the
// checked ProxyConfig with them and each worker reads it back (WorkerInit.Config), so an address resolved once
// stays the very same address in every worker.

/// <summary>An <see cref="IPEndPoint"/> as "1.2.3.4:80" or "[::1]:80".</summary>
internal sealed class IPEndPointJsonConverter : JsonConverter<IPEndPoint>
{
    public override IPEndPoint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        IPEndPoint.TryParse(reader.GetString() ?? "", out var endPoint) ? endPoint : throw new JsonException("invalid IP end point");

    public override void Write(Utf8JsonWriter writer, IPEndPoint value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

/// <summary>An <see cref="IPAddress"/> as its text form.</summary>
internal sealed class IPAddressJsonConverter : JsonConverter<IPAddress>
{
    public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        IPAddress.TryParse(reader.GetString() ?? "", out var address) ? address : throw new JsonException("invalid IP address");

    public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

/// <summary>An <see cref="IPNetwork"/> as "10.0.0.0/8".</summary>
internal sealed class IPNetworkJsonConverter : JsonConverter<IPNetwork>
{
    public override IPNetwork Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        IPNetwork.TryParse(reader.GetString() ?? "", out var network) ? network : throw new JsonException("invalid IP network");

    public override void Write(Utf8JsonWriter writer, IPNetwork value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

/// <summary>A <see cref="Regex"/> as its pattern, options and match timeout, so the worker builds the same matcher.</summary>
internal sealed class RegexJsonConverter : JsonConverter<Regex>
{
    public override Regex Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected a regex object");
        string? pattern = null;
        var regexOptions = RegexOptions.None;
        var timeout = Regex.InfiniteMatchTimeout;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString() ?? "";
            reader.Read();
            switch (name)
            {
                case "pattern": pattern = reader.GetString(); break;
                case "options": regexOptions = (RegexOptions)reader.GetInt32(); break;
                case "timeoutMs": timeout = reader.GetDouble() < 0 ? Regex.InfiniteMatchTimeout : TimeSpan.FromMilliseconds(reader.GetDouble()); break;
                default: reader.Skip(); break;
            }
        }
        return new Regex(pattern ?? throw new JsonException("regex without a pattern"), regexOptions, timeout);
    }

    public override void Write(Utf8JsonWriter writer, Regex value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("pattern", value.ToString());
        writer.WriteNumber("options", (int)value.Options);
        writer.WriteNumber("timeoutMs", value.MatchTimeout == Regex.InfiniteMatchTimeout ? -1 : value.MatchTimeout.TotalMilliseconds);
        writer.WriteEndObject();
    }
}

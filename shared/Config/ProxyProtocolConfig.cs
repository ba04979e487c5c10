namespace Proxy.Shared.Config;

/// <summary>
/// `proxy-v2-options` (5.2): the TLVs a v2 header carries. The SSL ones are HAProxy's sub-options of the SSL TLV; there is
/// no TLS here yet, so that TLV always says "client not over SSL" and carries none of them (ProxyHeaderWriter).
/// </summary>
[Flags]
public enum ProxyV2Options
{
    None = 0,
    Ssl = 1,
    CertCn = 2,
    SslCipher = 4,
    CertSig = 8,
    CertKey = 16,
    Authority = 32,
    Crc32C = 64,
    UniqueId = 128,
}

/// <summary>
/// A server's PROXY protocol settings (5.2 "send-proxy", "send-proxy-v2", "send-proxy-v2-ssl", "send-proxy-v2-ssl-cn",
/// "proxy-v2-options", "check-send-proxy"). As in HAProxy (SRV_PP_V1 / SRV_PP_V2 bits), v1 and v2 are separate settings
/// and v2 wins when both are on.
/// </summary>
public sealed record ServerProxyProtocol(bool SendV1, bool SendV2, ProxyV2Options V2Options, bool CheckSendProxy)
{
    public static ServerProxyProtocol None { get; } = new(false, false, ProxyV2Options.None, false);

    /// <summary>Whether the server's connections start with a PROXY header.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Sends => SendV1 || SendV2;
}

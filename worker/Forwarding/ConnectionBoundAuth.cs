using System.Text;
using Proxy.Worker.Http;

namespace Proxy.Worker.Forwarding;

/// <summary>
/// NTLM and Negotiate authenticate a connection, not a request: a server connection that offered them must never
/// serve another client (HAProxy 2.6 http_process_res_common, src/http_ana.c, marks it private whatever `http-reuse`
/// says). As there: a 401 `WWW-Authenticate` or 407 `Proxy-Authenticate` list element starting with "NTLM" or "Nego"
/// (case-insensitive; "Negotiate", "Nego2"), the values of every such header looked at.
/// </summary>
internal static class ConnectionBoundAuth
{
    /// <summary>Whether the final response <paramref name="response"/> (status <paramref name="status"/>) binds its server connection to its client.</summary>
    public static bool Offered(HttpHead response, int status)
    {
        ReadOnlySpan<byte> name = status switch
        {
            401 => "WWW-Authenticate"u8,
            407 => "Proxy-Authenticate"u8,
            _ => default,
        };
        if (name.IsEmpty) return false;
        for (int i = response.IndexOfHeader(name); i >= 0; i = response.IndexOfHeader(name, i + 1))
        {
            var list = response.GetHeaderValue(i);
            bool done = false;
            while (HttpChars.NextListElement(ref list, out var element, ref done))
                if (element.Length >= 4 && (Ascii.EqualsIgnoreCase(element[..4], "NTLM"u8) || Ascii.EqualsIgnoreCase(element[..4], "Nego"u8)))
                    return true;
        }
        return false;
    }
}

using System.Text;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Logging;

namespace Proxy.Worker.Samples;

/// <summary>
/// `capture request header NAME len N` and `capture response header NAME len N` (doc/configuration.txt 4.2): the
/// value of the last occurrence of each named header, cut at N bytes, kept for the log (%hr, %hs, %hrl, %hsl). The
/// buffers are the session's, sized once, filled per request without allocating.
/// </summary>
internal sealed class HeaderCaptures
{
    private (byte[] Name, byte[] Value)[] _request = [];
    private (byte[] Name, byte[] Value)[] _response = [];
    private int[] _requestLengths = [];
    private int[] _responseLengths = [];

    /// <summary>Sets the frontend's captures (once per session; a session keeps its frontend).</summary>
    public void Configure(IReadOnlyList<HeaderCapture> request, IReadOnlyList<HeaderCapture> response)
    {
        if (_request.Length == request.Count && _response.Length == response.Count) return;
        _request = Build(request);
        _response = Build(response);
        _requestLengths = new int[request.Count];
        _responseLengths = new int[response.Count];
    }

    private static (byte[], byte[])[] Build(IReadOnlyList<HeaderCapture> captures)
    {
        var built = new (byte[], byte[])[captures.Count];
        for (int i = 0; i < built.Length; i++) built[i] = (Encoding.ASCII.GetBytes(captures[i].Name), new byte[captures[i].Length]);
        return built;
    }

    public void Clear()
    {
        Array.Fill(_requestLengths, -1);
        Array.Fill(_responseLengths, -1);
    }

    public void CaptureRequest(HttpHead head) => Capture(head, _request, _requestLengths);

    public void CaptureResponse(HttpHead head) => Capture(head, _response, _responseLengths);

    private static void Capture(HttpHead head, (byte[] Name, byte[] Value)[] captures, int[] lengths)
    {
        for (int c = 0; c < captures.Length; c++)
        {
            lengths[c] = -1;
            for (int i = head.IndexOfHeader(captures[c].Name); i >= 0; i = head.IndexOfHeader(captures[c].Name, i + 1))
            {
                var value = head.GetHeaderValue(i);
                int n = Math.Min(value.Length, captures[c].Value.Length);
                value[..n].CopyTo(captures[c].Value);
                lengths[c] = n;
            }
        }
    }

    public void AppendRequest(ref LogLineWriter w, bool list) => Append(ref w, _request, _requestLengths, list);

    public void AppendResponse(ref LogLineWriter w, bool list) => Append(ref w, _response, _responseLengths, list);

    /// <summary>`{v1|v2}` (%hr, %hs), or `v1 v2` (%hrl, %hsl); nothing when the frontend captures nothing.</summary>
    private static void Append(ref LogLineWriter w, (byte[] Name, byte[] Value)[] captures, int[] lengths, bool list)
    {
        if (captures.Length == 0) return;
        if (!list) w.Append('{');
        for (int c = 0; c < captures.Length; c++)
        {
            if (c > 0) w.Append(list ? ' ' : '|');
            if (lengths[c] < 0)
            {
                if (list) w.Append('-');
                continue;
            }
            foreach (byte b in captures[c].Value.AsSpan(0, lengths[c]))
            {
                // HAProxy's hdr_encode_map: controls, DEL and above, '"', '#', '{', '|' and '}' as #XX.
                if (b < 32 || b >= 127 || b is (byte)'"' or (byte)'#' or (byte)'{' or (byte)'|' or (byte)'}') w.AppendEscaped(b);
                else w.Append(b);
            }
        }
        if (!list) w.Append('}');
    }
}

namespace Proxy.Worker.Http;

/// <summary>
/// `http-request set-method|set-path|set-pathq|set-query|set-uri` (doc/configuration.txt 4.2): the request line the server
/// gets, composed into a buffer of the session's (grown once, when a line is longer than it) from the received one
/// and the parts the rules replaced. Empty when no rule rewrote anything.
/// </summary>
internal sealed class RequestLineRewrite
{
    private byte[] _line = [];
    private int _length;

    /// <summary>The rewritten request line (without CRLF); empty when the received one goes out unchanged.</summary>
    public ReadOnlySpan<byte> Line => _line.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public enum Part { Method, Path, Query, Uri, PathQuery }

    /// <summary>
    /// Replaces <paramref name="part"/> of the current line (the received one the first time) with
    /// <paramref name="value"/>; false (the rewrite fails, as HAProxy's) when the result would not be a request line the
    /// proxy's own parser accepts: a method that is not a token, a target byte outside what the parser takes for a
    /// request target (no whitespace, control byte, DEL or non-ASCII: values are often built from headers, and a
    /// lenient server could split the line elsewhere than the proxy's ACLs did, RFC 9112 3).
    /// </summary>
    public bool Replace(HttpHead request, Part part, ReadOnlySpan<byte> value)
    {
        if (part == Part.Method ? !HttpChars.IsToken(value) : value.IndexOfAnyExcept(HttpChars.Target) >= 0) return false;
        if (part == Part.Uri && value.IsEmpty) return false;
        ReadOnlySpan<byte> current = _length > 0 ? Line : request.StartLine;
        int sp1 = current.IndexOf((byte)' ');
        int sp2 = current.LastIndexOf((byte)' ');
        if (sp1 < 0 || sp2 <= sp1) return false;
        var method = current[..sp1];
        var target = current[(sp1 + 1)..sp2];
        var version = current[sp2..];
        // The path starts after an absolute-form's authority; the query after the first '?'.
        int pathStart = 0;
        if (target.Length > 0 && target[0] != '/' && target.IndexOf("://"u8) is int scheme and >= 0)
        {
            int slash = target[(scheme + 3)..].IndexOf((byte)'/');
            pathStart = slash < 0 ? target.Length : scheme + 3 + slash;
        }
        // An absolute-form target without a path ("http://host"): a new path must start with '/' or it would join the authority.
        if (part is Part.Path or Part.PathQuery && pathStart == target.Length && pathStart > 0 && (value.IsEmpty || value[0] != '/')) return false;
        int q = target.IndexOf((byte)'?');
        int pathEnd = q < 0 ? target.Length : q;
        int size = current.Length + value.Length + 2;
        var next = size <= 512 ? stackalloc byte[512] : new byte[size];
        int p = 0;
        void Put(Span<byte> dest, ref int at, ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(dest[at..]);
            at += bytes.Length;
        }
        Put(next, ref p, part == Part.Method ? value : method);
        next[p++] = (byte)' ';
        switch (part)
        {
            case Part.Uri:
                Put(next, ref p, value);
                break;
            case Part.Path:
                Put(next, ref p, target[..pathStart]);
                Put(next, ref p, value);
                Put(next, ref p, target[pathEnd..]);
                break;
            case Part.PathQuery:
                // set-pathq: the path and the query, the absolute form's scheme and authority kept.
                Put(next, ref p, target[..pathStart]);
                Put(next, ref p, value);
                break;
            case Part.Query:
                Put(next, ref p, target[..pathEnd]);
                if (!value.IsEmpty)
                {
                    next[p++] = (byte)'?';
                    Put(next, ref p, value);
                }
                break;
            default:
                Put(next, ref p, target);
                break;
        }
        Put(next, ref p, version);
        if (_line.Length < p) _line = new byte[Math.Max(p, 256)];
        next[..p].CopyTo(_line);
        _length = p;
        return true;
    }
}

using System.Buffers;

namespace Proxy.Worker.Http;

/// <summary>Byte classes of RFC 9110 5.6 / RFC 9112, as vectorized SearchValues.</summary>
internal static class HttpChars
{
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    internal static readonly SearchValues<byte> Token = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Bytes never allowed in a field value or reason phrase: CTLs but HTAB, and DEL (RFC 9110 5.5).
    internal static readonly SearchValues<byte> InvalidValue = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\n\u000b\u000c\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f"u8);

    // Request-target bytes: visible ASCII without '#' (no fragment, RFC 9112 3.2); no SP, CTL or non-ASCII.
    internal static readonly SearchValues<byte> Target = SearchValues.Create(
        "!\"$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    // Host = uri-host [ ":" port ]: unreserved / pct-encoded / sub-delims, ":" and IP-literal brackets (RFC 3986 3.2.2).
    internal static readonly SearchValues<byte> Host = SearchValues.Create(
        "!$%&'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz~"u8);

    internal static bool IsToken(ReadOnlySpan<byte> s) => s.Length > 0 && s.IndexOfAnyExcept(Token) < 0;

    internal static bool IsTokenByte(byte b) => Token.Contains(b);

    internal static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> s)
    {
        int a = 0, b = s.Length;
        while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
        return s[a..b];
    }

    // Next element of a comma-separated list (RFC 9110 5.6.1), OWS trimmed; empty elements are returned too.
    internal static bool NextListElement(ref ReadOnlySpan<byte> list, out ReadOnlySpan<byte> element, ref bool done)
    {
        if (done) { element = default; return false; }
        int comma = list.IndexOf((byte)',');
        if (comma < 0) { element = TrimOws(list); list = default; done = true; return true; }
        element = TrimOws(list[..comma]);
        list = list[(comma + 1)..];
        return true;
    }
}

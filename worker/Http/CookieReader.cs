namespace Proxy.Worker.Http;

/// <summary>
/// The `name=value` pairs of one `Cookie` header value (RFC 6265 5.4, pairs separated by ';'), trimmed of spaces and
/// tabs, in order; a pair without '=' is returned with an empty name (HAProxy ignores those too). A ref struct over
/// the parsed head: reading allocates nothing. Used by the `cook()` fetch and by cookie persistence.
/// </summary>
internal ref struct CookieReader(ReadOnlySpan<byte> header)
{
    private ReadOnlySpan<byte> _rest = header;

    /// <summary>The next pair; false at the end of the header value.</summary>
    public bool TryNext(out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        while (!_rest.IsEmpty)
        {
            int semi = _rest.IndexOf((byte)';');
            var pair = (semi < 0 ? _rest : _rest[..semi]).Trim(" \t"u8);
            _rest = semi < 0 ? default : _rest[(semi + 1)..];
            if (pair.IsEmpty) continue;
            int eq = pair.IndexOf((byte)'=');
            name = eq < 0 ? default : pair[..eq].Trim(" \t"u8);
            value = eq < 0 ? pair : pair[(eq + 1)..].Trim(" \t"u8);
            return true;
        }
        name = value = default;
        return false;
    }
}

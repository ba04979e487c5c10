namespace Proxy.Worker.Samples;

/// <summary>
/// The cookie of an RDP connection request (MS-RDPBCGR 2.2.1.1: TPKT header, X.224 Connection Request, then the
/// routing token or cookie `Cookie: mstshash=USER\r\n`), found as HAProxy's fetch_rdp_cookie_name (src/payload.c): the
/// line starts at byte 11, `Cookie:` (any case), spaces, NAME (any case) or any name when none is given, `=`, then the
/// value up to CR LF. Shared by the fetches (`req.rdp_cookie`, `req.rdp_cookie_cnt`), `balance rdp-cookie` and
/// `persist rdp-cookie`.
/// </summary>
internal static class RdpCookie
{
    /// <summary>What <see cref="Find"/> saw: the cookie, none, or too few bytes yet to say (HAProxy's SMP_F_MAY_CHANGE).</summary>
    public enum Result { Found, NotCookie, TooShort }

    private const int CookieOffset = 11;   // TPKT (4) + X.224 CR TPDU header (7)

    public static Result Find(ReadOnlySpan<byte> data, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (data.Length <= CookieOffset) return Result.TooShort;
        var d = data[CookieOffset..];
        if (d.Length <= 7) return Result.TooShort;
        if (!System.Text.Ascii.EqualsIgnoreCase(d[..7], "Cookie:"u8)) return Result.NotCookie;
        d = d[7..];
        while (d.Length > 0 && d[0] == (byte)' ') d = d[1..];
        if (name.Length > 0)
        {
            if (d.Length <= name.Length) return Result.TooShort;
            if (d[name.Length] != (byte)'=' || !System.Text.Ascii.EqualsIgnoreCase(d[..name.Length], name)) return Result.NotCookie;
            d = d[(name.Length + 1)..];
        }
        else
        {
            int eq = d.IndexOfAny((byte)'=', (byte)'\r', (byte)'\n');
            if (eq < 0) return Result.TooShort;
            if (d[eq] != (byte)'=') return Result.NotCookie;
            d = d[(eq + 1)..];
        }
        int cr = d.IndexOf((byte)'\r');
        if (cr < 0 || d.Length - cr < 2) return Result.TooShort;
        if (d[cr + 1] != (byte)'\n') return Result.NotCookie;
        value = d[..cr];
        return Result.Found;
    }
}

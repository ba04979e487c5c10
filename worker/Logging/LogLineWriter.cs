using System.Globalization;
using System.Text;

namespace Proxy.Worker.Logging;

/// <summary>
/// Appends log text to a byte span without allocating; whatever does not fit is cut (HAProxy truncates a log line
/// at its `len` too), so formatting never fails.
/// </summary>
internal ref struct LogLineWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public LogLineWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    public readonly int Length => _length;

    public void Append(byte b)
    {
        if (_length < _buffer.Length) _buffer[_length++] = b;
    }

    public void Append(char c) => Append((byte)c);

    public void Append(scoped ReadOnlySpan<byte> bytes)
    {
        int n = Math.Min(bytes.Length, _buffer.Length - _length);
        bytes[..n].CopyTo(_buffer[_length..]);
        _length += n;
    }

    /// <summary>Appends a name (UTF-8); a name that does not fit whole is left out rather than cut mid-character.</summary>
    public void Append(string text)
    {
        if (Encoding.UTF8.TryGetBytes(text, _buffer[_length..], out int written)) _length += written;
    }

    public void Append(long value)
    {
        if (value.TryFormat(_buffer[_length..], out int written, default, CultureInfo.InvariantCulture)) _length += written;
    }

    /// <summary>Appends <paramref name="value"/> zero-padded to <paramref name="digits"/> digits (dates).</summary>
    public void AppendPadded(int value, int digits)
    {
        Span<byte> tmp = stackalloc byte[10];
        for (int i = digits - 1; i >= 0; i--)
        {
            tmp[i] = (byte)('0' + value % 10);
            value /= 10;
        }
        Append(tmp[..digits]);
    }

    /// <summary>Appends a two-digit hex escape `#XX` (HAProxy's log encoding of unsafe characters).</summary>
    public void AppendEscaped(byte b)
    {
        const string Hex = "0123456789ABCDEF";
        if (_length + 3 > _buffer.Length)
        {
            _length = _buffer.Length;   // no room for the whole escape: stop here
            return;
        }
        _buffer[_length++] = (byte)'#';
        _buffer[_length++] = (byte)Hex[b >> 4];
        _buffer[_length++] = (byte)Hex[b & 15];
    }
}

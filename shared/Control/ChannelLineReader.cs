using System.Net.Sockets;
using System.Text;

namespace Proxy.Shared.Control;

/// <summary>
/// Reads '\n'-terminated lines from one side of the worker channel into a fixed buffer of <c>maxLine</c> bytes: a
/// peer cannot make the reader grow or rescan what it already read (the previous reader kept every byte of an
/// unterminated line and turned the whole of it into a string again on each receive). Control traffic only.
/// </summary>
public sealed class ChannelLineReader(Socket socket, int maxLine)
{
    private readonly byte[] _buffer = new byte[maxLine];
    private int _start, _end;

    /// <summary>The next line without its '\n'; null at end of stream. Throws InvalidDataException for a line over the cap.</summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken ct)
    {
        int scanned = _start; // bytes before this were already looked at for '\n'
        while (true)
        {
            int nl = Array.IndexOf(_buffer, (byte)'\n', scanned, _end - scanned);
            if (nl >= 0)
            {
                string line = Encoding.UTF8.GetString(_buffer, _start, nl - _start);
                _start = nl + 1;
                if (_start == _end) _start = _end = 0;
                return line;
            }
            scanned = _end;
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                scanned -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
                throw new InvalidDataException($"a worker channel line is longer than {_buffer.Length} bytes");
            int n = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, ct);
            if (n == 0) return null;
            _end += n;
        }
    }
}

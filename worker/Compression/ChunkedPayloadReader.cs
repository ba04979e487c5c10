namespace Proxy.Worker.Compression;

/// <summary>
/// Picks the chunk data out of a chunked body (RFC 9112 7.1) whose framing the session's HttpBodyFramer has already
/// checked: only the sizes are read back, extensions and trailers are skipped (a compressed response ends with its own
/// last chunk, so the server's trailers are not forwarded). Keeps its place across calls; allocates nothing.
/// </summary>
internal struct ChunkedPayloadReader
{
    private enum State : byte { Size, Line, Data, DataEnd, Trailers }

    private State _state;
    private long _remaining;

    public void Reset()
    {
        _state = State.Size;
        _remaining = 0;
    }

    /// <summary>
    /// The next data bytes in <paramref name="input"/> from <paramref name="offset"/> (moved past what was read);
    /// false when the input holds no more data.
    /// </summary>
    public bool Next(ReadOnlySpan<byte> input, ref int offset, out ReadOnlySpan<byte> data)
    {
        int i = offset;
        while (i < input.Length)
        {
            byte b = input[i];
            switch (_state)
            {
                case State.Size:
                    int h = b switch { >= (byte)'0' and <= (byte)'9' => b - '0', >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10, _ => -1 };
                    if (h >= 0) { _remaining = _remaining * 16 + h; i++; continue; }
                    _state = State.Line;
                    continue;
                case State.Line:
                    i++;
                    if (b == '\n') _state = _remaining == 0 ? State.Trailers : State.Data;
                    continue;
                case State.Data:
                    int n = (int)Math.Min(_remaining, input.Length - i);
                    data = input.Slice(i, n);
                    _remaining -= n;
                    if (_remaining == 0) _state = State.DataEnd;
                    offset = i + n;
                    return true;
                case State.DataEnd:
                    i++;
                    if (b == '\n') _state = State.Size;
                    continue;
                default:
                    i = input.Length;
                    continue;
            }
        }
        offset = i;
        data = default;
        return false;
    }
}

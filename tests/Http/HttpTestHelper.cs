using System.Buffers;
using System.Text;
using NUnit.Framework;
using Proxy.Worker.Http;

namespace Proxy.Tests.Http;

/// <summary>Builds multi-segment sequences and drives the parsers the way a PipeReader loop would.</summary>
internal static class HttpTestHelper
{
    public static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    public static string S(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>One segment per chunk (empty chunks included), like a pipe holding several buffers.</summary>
    public static ReadOnlySequence<byte> Sequence(params byte[][] chunks)
    {
        if (chunks.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(chunks[0], 0);
        Segment last = first;
        for (int i = 1; i < chunks.Length; i++) last = last.Append(chunks[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Cuts <paramref name="data"/> at the given offsets.</summary>
    public static List<byte[]> Cut(byte[] data, params int[] cuts)
    {
        var pieces = new List<byte[]>();
        int prev = 0;
        foreach (int c in cuts.Where(c => c > 0 && c < data.Length).Distinct().Order())
        {
            pieces.Add(data[prev..c]);
            prev = c;
        }
        pieces.Add(data[prev..]);
        return pieces;
    }

    /// <summary>Every way of cutting data in two, and once byte by byte.</summary>
    public static IEnumerable<List<byte[]>> AllSplits(byte[] data)
    {
        yield return [data];
        for (int k = 1; k < data.Length; k++) yield return Cut(data, k);
        for (int k = 1; k + 3 < data.Length; k += 3) yield return Cut(data, k, k + 1, k + 3);
        yield return data.Select(b => new[] { b }).ToList();
    }

    public delegate HttpParseStatus HeadParse(HttpHead head, in ReadOnlySequence<byte> buffer, out SequencePosition consumed, out SequencePosition examined);

    /// <summary>
    /// Feeds <paramref name="pieces"/> one at a time; bytes left unconsumed stay in the "pipe" and are shown
    /// again, each arrival in its own segment. Returns the final status and how many bytes of the whole
    /// input were consumed in total.
    /// </summary>
    public static (HttpParseStatus Status, long Consumed) Drive(HeadParse parse, HttpHead head, IReadOnlyList<byte[]> pieces)
    {
        var pending = new List<byte[]>();
        long consumedTotal = 0;
        HttpParseStatus status = HttpParseStatus.NeedMoreData;
        foreach (byte[] piece in pieces)
        {
            pending.Add(piece);
            ReadOnlySequence<byte> seq = Sequence(pending.ToArray());
            status = parse(head, seq, out SequencePosition consumed, out SequencePosition examined);
            long c = seq.Slice(seq.Start, consumed).Length;
            long e = seq.Slice(seq.Start, examined).Length;
            Assert.That(e, Is.GreaterThanOrEqualTo(c));
            if (status == HttpParseStatus.NeedMoreData)
                Assert.That(e, Is.EqualTo(seq.Length), "NeedMoreData must have examined everything");
            consumedTotal += c;
            byte[] rest = seq.Slice(consumed).ToArray();
            pending.Clear();
            if (rest.Length > 0) pending.Add(rest);
            if (status != HttpParseStatus.NeedMoreData) break;
        }
        return (status, consumedTotal);
    }

    public static HttpParseStatus ParseRequest(HttpHead head, string text) =>
        Drive(Http1RequestParser.Parse, head, [B(text)]).Status;

    public static HttpParseStatus ParseResponse(HttpHead head, string text, Http1Method requestMethod = Http1Method.Get)
    {
        head.Reset(HttpMessageKind.Response, requestMethod);
        return Drive(Http1ResponseParser.Parse, head, [B(text)]).Status;
    }

    /// <summary>Runs a body through the framer in pieces; returns status and the bytes it said were body.</summary>
    public static (HttpBodyStatus Status, byte[] Body, HttpParseError Error) Frame(ref HttpBodyFramer framer, IReadOnlyList<byte[]> pieces, bool endOfStreamAfterLast = false)
    {
        var pending = new List<byte[]>();
        var body = new List<byte>();
        HttpBodyStatus status = HttpBodyStatus.NeedMoreData;
        for (int i = 0; i < pieces.Count; i++)
        {
            pending.Add(pieces[i]);
            ReadOnlySequence<byte> seq = Sequence(pending.ToArray());
            status = framer.Process(seq, endOfStreamAfterLast && i == pieces.Count - 1, out long n);
            Assert.That(n, Is.InRange(0, seq.Length));
            body.AddRange(seq.Slice(0, n).ToArray());
            byte[] rest = seq.Slice(n).ToArray();
            pending.Clear();
            if (rest.Length > 0) pending.Add(rest);
            if (status != HttpBodyStatus.NeedMoreData) break;
            // Only the CL/close-delimited framers may leave bytes: the chunked one consumes all it sees but the
            // trailer bytes it holds back until the section ends.
            if (framer.Framing == HttpBodyFraming.Chunked) Assert.That(rest, Has.Length.EqualTo(framer.HeldBytes));
        }
        return (status, body.ToArray(), framer.Error);
    }
}

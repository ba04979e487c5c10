using System.Buffers;
using System.IO.Pipelines;
using NUnit.Framework;
using Proxy.Worker.Http;
using static Proxy.Tests.Http.HttpTestHelper;

namespace Proxy.Tests.Http;

/// <summary>
/// Drives parser, framer and writer through a real <see cref="Pipe"/> the way the forwarder will:
/// pipelined requests arriving in random small writes, small pipe segments, AdvanceTo(consumed, examined).
/// </summary>
public class HttpPipeDrivingTests
{
    private const string Stream =
        "GET /a HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n" +
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nKeep-Alive: timeout=5\r\n\r\nhello world" +
        "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n" +
        "HEAD /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

    private static readonly string[] Expected =
    [
        "GET /a HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n",
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nX-Forwarded-For: 192.0.2.1\r\n\r\nhello world",
        "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n",
        "HEAD /d HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 192.0.2.1\r\nConnection: close\r\n\r\n",
    ];

    private static List<string> Forward(byte[] input, int seed)
    {
        var rnd = new Random(seed);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 16, useSynchronizationContext: false));
        using var head = new HttpHead();
        var framer = new HttpBodyFramer();
        var messages = new List<string>();
        var output = new ArrayBufferWriter<byte>();
        byte[] extra = B("X-Forwarded-For: 192.0.2.1\r\n");
        bool inBody = false;
        int sent = 0;
        head.Reset(HttpMessageKind.Request);

        for (int guard = 0; guard < 100_000; guard++)
        {
            if (!pipe.Reader.TryRead(out ReadResult result))
            {
                if (sent == input.Length) { pipe.Writer.Complete(); continue; }
                int n = Math.Min(rnd.Next(1, 24), input.Length - sent);
                pipe.Writer.Write(input.AsSpan(sent, n));
                sent += n;
                _ = pipe.Writer.FlushAsync().AsTask().Result;
                continue;
            }
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (!inBody)
            {
                HttpParseStatus st = Http1RequestParser.Parse(head, buffer, out SequencePosition consumed, out SequencePosition examined);
                pipe.Reader.AdvanceTo(consumed, examined);
                if (st == HttpParseStatus.Error) Assert.Fail($"parse error {head.Error}");
                if (st == HttpParseStatus.NeedMoreData)
                {
                    if (result.IsCompleted) break;   // EOF between messages
                    continue;
                }
                int written = Http1HeadWriter.Write(head, output.GetSpan(8192), head.IsKeepAlive ? HttpHeadWriteFlags.None : HttpHeadWriteFlags.ConnectionClose, extra, [], 0, [], 0);
                Assert.That(written, Is.GreaterThan(0));
                output.Advance(written);
                framer.Reset(head);
                inBody = !framer.IsComplete;
                if (!inBody) { messages.Add(S(output.WrittenSpan)); output.ResetWrittenCount(); head.Reset(HttpMessageKind.Request); }
            }
            else
            {
                HttpBodyStatus st = framer.Process(buffer, result.IsCompleted, out long count);
                output.Write(buffer.Slice(0, count).ToArray());
                if (st == HttpBodyStatus.Error) Assert.Fail($"body error {framer.Error}");
                if (st == HttpBodyStatus.Complete)
                {
                    pipe.Reader.AdvanceTo(buffer.GetPosition(count));
                    messages.Add(S(output.WrittenSpan));
                    output.ResetWrittenCount();
                    head.Reset(HttpMessageKind.Request);
                    inBody = false;
                }
                else
                {
                    pipe.Reader.AdvanceTo(buffer.GetPosition(count), buffer.End);
                }
            }
        }
        pipe.Reader.Complete();
        return messages;
    }

    [Test]
    public void Forward_PipelinedRequestsInRandomWrites_AreDelimitedAndRewritten()
    {
        byte[] input = B(Stream);
        for (int seed = 0; seed < 200; seed++)
            Assert.That(Forward(input, seed), Is.EqualTo(Expected), $"seed {seed}");
    }
}

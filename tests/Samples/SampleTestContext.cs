using System.Buffers;
using System.Net;
using System.Text;
using NUnit.Framework;
using Proxy.Shared.Config;
using Proxy.Worker.Http;
using Proxy.Worker.Samples;

namespace Proxy.Tests.Samples;

/// <summary>Parses, compiles and evaluates expressions against one parsed request (and optionally a response).</summary>
internal sealed class SampleTestContext : IDisposable
{
    public const string DefaultRequest =
        "GET /img/logo.png?id=42&lang=en&id=43 HTTP/1.1\r\nHost: Www.Example.com\r\nAccept: text/html, application/json;q=0.9\r\n" +
        "Cookie: SID=abc; theme=dark\r\nCookie: SID=def\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nX-Forwarded-For: 10.0.0.3\r\n" +
        "Content-Length: 0\r\n\r\n";

    private readonly HttpHead _request = new();
    private readonly HttpHead _response = new();

    public SampleTestContext(string request = DefaultRequest, string? response = null)
    {
        _request.Reset(HttpMessageKind.Request);
        Assert.That(Http1RequestParser.Parse(_request, new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(request)), out _, out _),
            Is.EqualTo(HttpParseStatus.Complete));
        Context.Request = _request;
        Context.Client = new IPEndPoint(IPAddress.Parse("192.168.1.7"), 51000);
        Context.Local = new IPEndPoint(IPAddress.Parse("10.1.2.3"), 8080);
        Context.FrontendName = "www"u8.ToArray();
        if (response is not null)
        {
            _response.Reset(HttpMessageKind.Response, _request.Method);
            Assert.That(Http1ResponseParser.Parse(_response, new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(response)), out _, out _),
                Is.EqualTo(HttpParseStatus.Complete));
            Context.Response = _response;
        }
    }

    public SampleContext Context { get; } = new();

    static SampleTestContext() => System.Environment.SetEnvironmentVariable("SAMPLE_TEST_ENV", "prod");

    public static SampleExpr Parse(string text)
    {
        var expr = new SampleExprParser().ParseWhole(text, out var error);
        Assert.That(error, Is.Null, text);
        return expr!;
    }

    public static string ParseError(string text)
    {
        var expr = new SampleExprParser().ParseWhole(text, out var error);
        Assert.That(expr, Is.Null, text);
        return error!;
    }

    /// <summary>The expression's value as text, or null when there is no sample.</summary>
    public string? Eval(string text)
    {
        var compiled = new CompiledSampleExpr(Parse(text));
        Context.ResetScratch();
        if (!compiled.TryEvaluate(Context, out var s)) return null;
        Assert.That(SampleText.TryAsBytes(Context, s, out var bytes), Is.True);
        return Encoding.Latin1.GetString(bytes);
    }

    public void Dispose()
    {
        _request.Dispose();
        _response.Dispose();
    }
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

const string Usage = """
    usage: proxy-origin [--port P] [--address A] [--name N] [--health-file PATH]
      --port P            port to listen on (default 8081)
      --address A         IP address to listen on (default 127.0.0.1)
      --name N            name sent back in X-Origin and by GET / (default origin)
      --health-file PATH  GET /health answers the status code written in PATH (default 200)
    routes:
      GET /             "hello from NAME"
      GET /bytes/N      N bytes of 'x' (Content-Length)
      POST /echo        the request body back
      GET /delay/MS     answers after MS milliseconds
      GET /status/CODE  answers CODE
      GET /health       200, or the status written in the --health-file
    Every response carries X-Origin: NAME, so tests can see which server answered; X-Seen-Cookie echoes the request's
    Cookie field when it has one, and `?set-cookie=VALUE` on any route adds `Set-Cookie: VALUE` (persistence tests).
    """;

int port = 8081;
string address = "127.0.0.1";
string name = "origin";
string? healthFile = null;
// Every argument is read before anything binds: `--help`, a misspelt option or a bad value never starts a server.
for (int i = 0; i < args.Length; i++)
{
    string option = args[i];
    if (option is "--help" or "-h")
    {
        Console.WriteLine(Usage);
        return 0;
    }
    if (option is not ("--port" or "--address" or "--name" or "--health-file"))
        return Fail($"unknown argument '{option}'");
    if (i + 1 >= args.Length) return Fail($"{option} needs a value");
    string value = args[++i];
    switch (option)
    {
        case "--port":
            if (!int.TryParse(value, System.Globalization.NumberStyles.None, null, out port) || port is < 1 or > 65535)
                return Fail($"--port expects 1 to 65535, got '{value}'");
            break;
        case "--address":
            if (!IPAddress.TryParse(value, out _)) return Fail($"--address expects an IP address, got '{value}'");
            address = value;
            break;
        case "--name": name = value; break;
        case "--health-file": healthFile = value; break;
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(address), port));
var app = builder.Build();
app.Use(async (ctx, next) =>
{
    ctx.Response.Headers["X-Origin"] = name;
    if (ctx.Request.Headers.Cookie.Count > 0) ctx.Response.Headers["X-Seen-Cookie"] = ctx.Request.Headers.Cookie.ToString();
    if (ctx.Request.QueryString.HasValue && ctx.Request.Query.TryGetValue("set-cookie", out var setCookie))
        ctx.Response.Headers.SetCookie = setCookie.ToString();
    await next(ctx);
});
byte[] hello = System.Text.Encoding.UTF8.GetBytes($"hello from {name}\n");
app.MapGet("/", (HttpContext ctx) =>
{
    ctx.Response.ContentLength = hello.Length; // a fixed size, not chunked: cheaper for benchmarks and simple clients
    return ctx.Response.Body.WriteAsync(hello).AsTask();
});
app.MapGet("/bytes/{n:long}", async (long n, HttpContext ctx) =>
{
    ctx.Response.ContentLength = n;
    var chunk = new byte[Math.Min(n, 64 * 1024)];
    Array.Fill(chunk, (byte)'x');
    for (long left = n; left > 0; left -= chunk.Length)
        await ctx.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(left, chunk.Length)));
});
app.MapPost("/echo", async (HttpContext ctx) =>
{
    if (ctx.Request.ContentLength is { } len) ctx.Response.ContentLength = len;
    await ctx.Request.Body.CopyToAsync(ctx.Response.Body);
});
app.MapGet("/delay/{ms:int}", async (int ms) =>
{
    await Task.Delay(ms);
    return "done\n";
});
app.MapGet("/status/{code:int}", (int code) => Results.Text($"status {code}\n", statusCode: code));
app.MapGet("/health", () =>
{
    int code = 200;
    if (healthFile is not null && File.Exists(healthFile) && int.TryParse(File.ReadAllText(healthFile).Trim(), out int written)) code = written;
    return Results.Text($"health {code}\n", statusCode: code);
});
Console.WriteLine($"origin {name} listening on {address}:{port}");
await app.RunAsync();
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"proxy-origin: {message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

using System.Diagnostics;
using System.Net.Sockets;
using NUnit.Framework;

namespace Proxy.Tests.Support;

/// <summary>
/// A real nginx (Debian's package, /usr/sbin/nginx) as an origin, with its own config and prefix in a temporary folder:
/// `daemon off`, one process, error log to a file there, on two free ports of 127.0.0.1. <see cref="ProxyProtocolPort"/>
/// listens with `proxy_protocol` and answers `$proxy_protocol_addr` (the address a PROXY header gave it; empty for a
/// LOCAL one); <see cref="PlainPort"/> answers the X-Forwarded-For it received, <see cref="UnixSocket"/> the request's URI. Killed on dispose (and by Leftovers when
/// a timed-out test never disposes it). The package's own site is never started: only this config is.
/// </summary>
public sealed class NginxOrigin : IDisposable
{
    public const string Executable = "/usr/sbin/nginx";
    private readonly Process _process;

    /// <param name="tlsCertificate">a PEM file (certificate, chain, key): nginx also listens with TLS on <see cref="TlsPort"/>,
    /// answering the SNI it received (`$ssl_server_name`)</param>
    public NginxOrigin(string? tlsCertificate = null)
    {
        if (!File.Exists(Executable)) Assert.Fail($"{Executable} is missing: apt-get install nginx-light (.ci/run does)");
        Directory = System.IO.Directory.CreateTempSubdirectory("proxy-nginx-").FullName;
        ProxyProtocolPort = Ports.Free();
        PlainPort = Ports.Free();
        TlsPort = tlsCertificate is null ? 0 : Ports.Free();
        string tlsServer = tlsCertificate is null ? "" : $$"""
            server {
                    listen 127.0.0.1:{{TlsPort}} ssl;
                    ssl_certificate {{tlsCertificate}};
                    ssl_certificate_key {{tlsCertificate}};
                    location / { return 200 "sni=$ssl_server_name"; }
                }
            """;
        ErrorLog = Path.Combine(Directory, "error.log");
        string d = Directory;
        File.WriteAllText(Path.Combine(d, "nginx.conf"), $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{d}}/nginx.pid;
            error_log {{ErrorLog}} info;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{d}}/body;
                proxy_temp_path {{d}}/proxy;
                fastcgi_temp_path {{d}}/fastcgi;
                uwsgi_temp_path {{d}}/uwsgi;
                scgi_temp_path {{d}}/scgi;
                default_type text/plain;
                server {
                    listen 127.0.0.1:{{ProxyProtocolPort}} proxy_protocol;
                    location / { return 200 "$proxy_protocol_addr"; }
                }
                server {
                    listen 127.0.0.1:{{PlainPort}};
                    location / { return 200 "$http_x_forwarded_for"; }
                }
                server {
                    listen unix:{{d}}/origin.sock;
                    location / { return 200 "unix socket $request_uri"; }
                }
                {{tlsServer}}
            }
            """);
        var psi = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-p", d, "-c", Path.Combine(d, "nginx.conf"), "-e", ErrorLog }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start nginx");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Leftovers.Track(this);
        long deadline = Environment.TickCount64 + 20_000;
        while (true)
        {
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect("127.0.0.1", PlainPort);
                return;
            }
            catch (SocketException) when (Environment.TickCount64 < deadline && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
            catch (SocketException)
            {
                Dispose();
                Assert.Fail("nginx did not start: " + (File.Exists(ErrorLog) ? File.ReadAllText(ErrorLog) : "no error log"));
            }
        }
    }

    public string Directory { get; }
    public string ErrorLog { get; }
    public int ProxyProtocolPort { get; }
    public int PlainPort { get; }

    /// <summary>A UNIX socket nginx listens on too, answering "unix socket URI".</summary>
    public string UnixSocket => Path.Combine(Directory, "origin.sock");

    /// <summary>The TLS listener's port (0 without a certificate).</summary>
    public int TlsPort { get; }

    public void Dispose()
    {
        Leftovers.Forget(this);
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

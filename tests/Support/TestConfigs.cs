namespace Proxy.Tests.Support;

/// <summary>Config bodies the end-to-end tests share (ProxyInstance adds the `global` section).</summary>
public static class TestConfigs
{
    /// <summary>One `mode tcp` frontend on 127.0.0.1:<paramref name="port"/>, round robin over <paramref name="servers"/> (s1, s2, ...).</summary>
    public static string Tcp(int port, params int[] servers)
    {
        var text = new System.Text.StringBuilder($"""
            defaults
                mode tcp
                timeout connect 2s
                timeout client 30s
                timeout server 30s
                retries 2
            frontend fe
                bind 127.0.0.1:{port}
                default_backend be
            backend be
                balance roundrobin

            """);
        for (int i = 0; i < servers.Length; i++) text.Append($"    server s{i + 1} 127.0.0.1:{servers[i]}\n");
        return text.ToString();
    }
}

using System.Text;

namespace Proxy.Shared.Tables;

/// <summary>
/// The server_key a stick rule stores (4.2 "stick-table ... srvkey name", HAProxy 2.6's default): HAProxy keeps the
/// server's name in a dictionary and the entry points at it; here the entry holds a 64-bit hash of the name, which a
/// match compares with each server's and `show table` prints back as the name.
/// </summary>
public static class StickServerKey
{
    public static long Of(string serverName) => (long)StickTableFile.Hash(Encoding.UTF8.GetBytes(serverName));
}

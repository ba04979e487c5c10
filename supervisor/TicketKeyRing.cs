using System.Security.Cryptography;

namespace Proxy.Supervisor;

/// <summary>
/// The instance's TLS session ticket keys (issue 16), for binds without `tls-ticket-keys FILE`: random, made here and
/// handed to every worker in WorkerInit, so a ticket one worker issued resumes on any other (HAProxy's threads share
/// theirs the same way). Each generation gets three keys in HAProxy's file order (decrypt with all three, encrypt with
/// the middle one): generation G has keys G, G+1 and G+2 and encrypts with G+1. A reload thus rotates them, and a
/// ticket issued by the generation before still resumes on the new one (and the other way, while it drains), as
/// appending a key to a `tls-ticket-keys` file and reloading does in HAProxy. A respawned worker gets its generation's.
/// </summary>
internal sealed class TicketKeyRing
{
    private const int KeyLength = 80;   // HAProxy's AES-256 layout: name 16, AES key 32, HMAC key 32
    private const int Kept = 16;        // keys of generations long gone are dropped

    private readonly Dictionary<int, byte[]> _keys = [];
    private readonly Lock _gate = new();

    /// <summary>The three keys of <paramref name="generation"/>, the encrypting one in the middle.</summary>
    public byte[][] For(int generation)
    {
        lock (_gate)
        {
            foreach (int old in _keys.Keys.Where(k => k < generation - Kept).ToList()) _keys.Remove(old);
            return [Key(generation), Key(generation + 1), Key(generation + 2)];
        }
    }

    private byte[] Key(int index)
    {
        if (!_keys.TryGetValue(index, out var key)) _keys[index] = key = RandomNumberGenerator.GetBytes(KeyLength);
        return key;
    }
}

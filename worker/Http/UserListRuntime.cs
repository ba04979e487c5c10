using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Proxy.Shared.Config;
using Proxy.Shared.Interop;

namespace Proxy.Worker.Http;

/// <summary>
/// A `userlist` (doc/configuration.txt 3.4) compiled for `http_auth(NAME)` and `http_auth_group(NAME)`: the request's
/// `Authorization: Basic` credentials (RFC 7617 2) checked against its users, a `password` hash with crypt(3)
/// (Proxy.Shared.Interop.Crypt, libxcrypt). A SHA-512 crypt costs milliseconds of CPU by design, and HAProxy's doc warns
/// that it runs on every request; here the tokens that verified are remembered (<see cref="CacheSlots"/> of them, the
/// token as the client sent it, compared in constant time), so a keep-alive client pays the hash once. A hit
/// allocates nothing; a miss that verifies stores one entry. A wrong password is never remembered.
/// </summary>
internal sealed class UserListRuntime
{
    /// <summary>Verified tokens remembered per userlist and worker; a new one replaces whatever shares its slot.</summary>
    internal const int CacheSlots = 64;

    /// <summary>The longest `Authorization` token decoded (RFC 7617 sets no limit; crypt's passphrase limit is 511 bytes).</summary>
    private const int MaxTokenBytes = 1024;

    private readonly byte[][] _names;
    private readonly byte[][] _secrets;        // the clear password, or the crypt(3) hash NUL-terminated
    private readonly bool[] _insecure;
    private readonly byte[][][] _groups;
    private readonly Verified?[] _cache = new Verified?[CacheSlots];

    private sealed class Verified(byte[] token, int user)
    {
        public readonly byte[] Token = token;
        public readonly int User = user;
    }

    public UserListRuntime(UserListConfig list)
    {
        Name = list.Name;
        int n = list.Users.Count;
        _names = new byte[n][];
        _secrets = new byte[n][];
        _insecure = new bool[n];
        _groups = new byte[n][][];
        for (int i = 0; i < n; i++)
        {
            var u = list.Users[i];
            _names[i] = Encoding.UTF8.GetBytes(u.Name);
            _insecure[i] = u.Insecure;
            _secrets[i] = u.Insecure ? Encoding.UTF8.GetBytes(u.Password) : Encoding.UTF8.GetBytes(u.Password + "\0");
            _groups[i] = [.. u.Groups.Select(Encoding.UTF8.GetBytes)];
        }
    }

    public string Name { get; }

    /// <summary>The user's name (for `http_auth_group` as a sample).</summary>
    public ReadOnlySpan<byte> UserName(int user) => _names[user];

    /// <summary>The groups of <paramref name="user"/> (for `http_auth_group` in an ACL, 7.3.6: "checked whether the user belongs to any group").</summary>
    public byte[][] GroupsOf(int user) => _groups[user];

    /// <summary>The user whose credentials the request carries and which verify, or -1 (none, malformed, unknown, wrong password).</summary>
    public int Authenticate(HttpHead request)
    {
        if (!TryGetBasicToken(request, out var token) || token.Length > MaxTokenBytes) return -1;
        int slot = (int)((uint)Hash(token) % CacheSlots);
        if (Volatile.Read(ref _cache[slot]) is { } hit && CryptographicOperations.FixedTimeEquals(hit.Token, token)) return hit.User;
        Span<byte> decoded = stackalloc byte[Base64.GetMaxDecodedFromUtf8Length(MaxTokenBytes)];
        if (Base64.DecodeFromUtf8(token, decoded, out _, out int length) != System.Buffers.OperationStatus.Done) return -1;
        decoded = decoded[..length];
        try
        {
            // RFC 7617 2: user-id ":" password, the user-id without a colon.
            int colon = decoded.IndexOf((byte)':');
            if (colon < 0) return -1;
            var name = decoded[..colon];
            var password = decoded[(colon + 1)..];
            for (int user = 0; user < _names.Length; user++)
            {
                if (!name.SequenceEqual(_names[user])) continue;
                if (_insecure[user]) return CryptographicOperations.FixedTimeEquals(password, _secrets[user]) ? user : -1;
                if (!Crypt.Verify(password, _secrets[user])) return -1;
                Volatile.Write(ref _cache[slot], new Verified(token.ToArray(), user));
                return user;
            }
            return -1;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
        }
    }

    /// <summary>
    /// The base64 token of an `Authorization: Basic TOKEN` header (RFC 7617 2, the scheme case-insensitive, RFC 9110
    /// 11.1); false without one. The stats page's `stats auth` reads it the same way.
    /// </summary>
    public static bool TryGetBasicToken(HttpHead request, out ReadOnlySpan<byte> token)
    {
        token = default;
        if (!request.TryGetHeader("Authorization"u8, out var value)) return false;
        value = value.Trim((byte)' ');
        int space = value.IndexOf((byte)' ');
        if (space <= 0 || !Ascii.EqualsIgnoreCase(value[..space], "Basic"u8)) return false;
        token = value[(space + 1)..].Trim((byte)' ');
        return token.Length > 0;
    }

    private static int Hash(ReadOnlySpan<byte> token)
    {
        // HashCode is seeded per process: a client cannot choose tokens that all land on one slot.
        var h = new HashCode();
        h.AddBytes(token);
        return h.ToHashCode();
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Proxy.Worker.Tls;

/// <summary>
/// The session ticket keys of this worker (5.1 `tls-ticket-keys`): the same for every worker of the instance, so a
/// ticket one worker issued is accepted by the others (SO_REUSEPORT sends a client's next connection to any of them).
/// They come from the supervisor (WorkerInit.TicketKeys, or the bind's `tls-ticket-keys` file) in HAProxy's layout,
/// 48 bytes (name, AES-128 key, HMAC key, 16 each) or 80 (name 16, AES-256 key 32, HMAC key 32): as in HAProxy, the
/// last three decrypt and the one before the last encrypts, so a key appended at a reload is known to every
/// generation before any of them issues tickets with it. OpenSSL calls <see cref="Callback"/> for each ticket it issues
/// or reads (SSL_CTX_set_tlsext_ticket_key_evp_cb, set on each context by <see cref="TlsContexts"/>, which also keeps
/// the context's key set in its ex_data: a bind's `tls-ticket-keys` file, else the supervisor's keys).
/// </summary>
internal static unsafe class TlsTicketKeys
{
    private const int NameLength = 16;
    private const int InUse = 3;   // HAProxy's TLS_TICKETS_NO

    /// <summary>A key set in native memory: this header, then Count keys of KeyLength bytes, the encrypting one at Count - 2.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct KeySet
    {
        public int Count;
        public int KeyLength;
    }

    private static ReadOnlySpan<byte> DigestName => "digest\0"u8;
    private static ReadOnlySpan<byte> KeyName => "key\0"u8;
    private static ReadOnlySpan<byte> Sha256 => "SHA256\0"u8;

    /// <summary>
    /// The last three of <paramref name="keys"/> (all 48 or all 80 bytes: the supervisor checked them) as a key set in
    /// native memory, for a context's ex_data; 0 when there is none to use. Never freed: OpenSSL may call back with it
    /// on any thread for as long as the process lives, and a worker makes one per key file (its keys never change).
    /// </summary>
    public static nint Allocate(IReadOnlyList<byte[]> keys)
    {
        if (keys.Count == 0 || keys[0].Length is not (48 or 80)) return 0;
        int length = keys[0].Length;
        int count = Math.Min(InUse, keys.Count);
        for (int i = keys.Count - count; i < keys.Count; i++)
            if (keys[i].Length != length) return 0;
        var set = (KeySet*)NativeMemory.AllocZeroed((nuint)(sizeof(KeySet) + count * length));
        set->Count = count;
        set->KeyLength = length;
        byte* first = (byte*)(set + 1);
        for (int i = 0; i < count; i++) keys[keys.Count - count + i].CopyTo(new Span<byte>(first + i * length, length));
        return (nint)set;
    }

    /// <summary>
    /// OpenSSL's ticket key callback, with the key set its context carries (<see cref="TlsContexts"/>): with
    /// <paramref name="encrypt"/> 1, name the encrypting key, pick an IV and key the cipher and HMAC (1: issue the
    /// ticket); with 0, find the key the ticket names (0: unknown, a full handshake follows; 1: known; 2: known, and a
    /// new ticket is issued under the encrypting key).
    /// </summary>
    [UnmanagedCallersOnly]
    public static int Callback(nint ssl, byte* keyName, byte* iv, nint cipherContext, nint macContext, int encrypt)
    {
        var set = (KeySet*)TlsContexts.KeySetOf(LibSsl.SSL_get_SSL_CTX(ssl));
        if (set is null || set->Count == 0) return 0;   // no key set: no ticket issued, none accepted (a full handshake)
        int length = set->KeyLength, encrypting = set->Count >= 2 ? set->Count - 2 : 0;
        byte* keys = (byte*)(set + 1);
        int index;
        if (encrypt == 1)
        {
            index = encrypting;
            Unsafe.CopyBlockUnaligned(keyName, keys + index * length, NameLength);
            if (LibSsl.RAND_bytes(iv, 16) != 1) return -1;
        }
        else
        {
            index = -1;
            for (int i = set->Count - 1; i >= 0; i--)
                if (new ReadOnlySpan<byte>(keys + i * length, NameLength).SequenceEqual(new ReadOnlySpan<byte>(keyName, NameLength))) { index = i; break; }
            if (index < 0) return 0;
        }
        byte* key = keys + index * length;
        int half = (length - NameLength) / 2;   // the AES key and the HMAC key, 16 or 32 bytes each
        nint cipher = half == 16 ? LibSsl.EVP_aes_128_cbc() : LibSsl.EVP_aes_256_cbc();
        int ok = encrypt == 1
            ? LibSsl.EVP_EncryptInit_ex(cipherContext, cipher, 0, key + NameLength, iv)
            : LibSsl.EVP_DecryptInit_ex(cipherContext, cipher, 0, key + NameLength, iv);
        if (ok != 1) return -1;
        fixed (byte* digestName = DigestName, keyParam = KeyName, sha256 = Sha256)
        {
            var parameters = stackalloc LibSsl.OsslParam[3];
            parameters[0] = LibSsl.OsslParam.Of(digestName, LibSsl.OsslParam.Utf8String, sha256, 6);
            parameters[1] = LibSsl.OsslParam.Of(keyParam, LibSsl.OsslParam.OctetString, key + NameLength + half, (nuint)half);
            parameters[2] = default;
            if (LibSsl.EVP_MAC_CTX_set_params(macContext, parameters) != 1) return -1;
        }
        return encrypt == 1 || index == encrypting ? 1 : 2;
    }
}

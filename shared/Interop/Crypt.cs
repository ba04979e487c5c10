using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Proxy.Shared.Interop;

/// <summary>
/// crypt(3) as `userlist ... user NAME password HASH` needs it (doc/configuration.txt 3.4 "Userlists"): HAProxy calls
/// the system's crypt(), so the hash formats are those of Debian's libxcrypt (libcrypt.so.1: `$6$` SHA-512, `$5$`
/// SHA-256, `$1$` MD5, `$2b$` bcrypt, `$y$` yescrypt...). The maintained library does the hashing; nothing here
/// reimplements an algorithm. crypt_rn(3) is the reentrant form that reports a bad setting as NULL rather than a
/// "*0" string, and takes its state from the caller, so workers verify on any thread without a lock.
/// </summary>
public static unsafe partial class Crypt
{
    /// <summary>sizeof(struct crypt_data) in libxcrypt's crypt.h (CRYPT_OUTPUT_SIZE + CRYPT_MAX_PASSPHRASE_SIZE + ... = 32768).</summary>
    private const int CryptDataSize = 32768;

    /// <summary>The longest password tried (libxcrypt's CRYPT_MAX_PASSPHRASE_SIZE is 512, the terminator included).</summary>
    public const int MaxPasswordBytes = 511;

    [LibraryImport("libcrypt.so.1", EntryPoint = "crypt_rn")]
    private static partial byte* CryptRn(byte* phrase, byte* setting, void* data, int size);

    // One state per thread (32 KiB, zeroed once as crypt_rn requires before first use): a verification allocates nothing.
    [ThreadStatic] private static nint t_data;

    /// <summary>
    /// Whether <paramref name="password"/> hashes to <paramref name="hash"/> (NUL-terminated, the setting and the
    /// expected result in one, as crypt(3) takes it). A password with a NUL byte or longer than
    /// <see cref="MaxPasswordBytes"/> never matches. The comparison takes the same time wherever the first difference is.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> password, ReadOnlySpan<byte> hash)
    {
        if (password.Length > MaxPasswordBytes || password.Contains((byte)0) || hash.Length < 2 || hash[^1] != 0) return false;
        Span<byte> phrase = stackalloc byte[MaxPasswordBytes + 1];
        password.CopyTo(phrase);
        phrase[password.Length] = 0;
        try
        {
            byte* result;
            fixed (byte* p = phrase)
            fixed (byte* s = hash)
                result = CryptRn(p, s, State(), CryptDataSize);
            if (result is null) return false;
            var computed = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(result);
            return CryptographicOperations.FixedTimeEquals(computed, hash[..^1]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(phrase);
        }
    }

    /// <summary>
    /// Whether libxcrypt accepts <paramref name="hash"/> as a setting (its format is known and well formed), as HAProxy
    /// checks `password HASH` at load time with crypt("", HASH); null when it does, else why not.
    /// </summary>
    public static string? CheckHash(string hash)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(hash) + 1];
        System.Text.Encoding.UTF8.GetBytes(hash, bytes);
        byte empty = 0;
        byte* result;
        try
        {
            fixed (byte* s = bytes)
                result = CryptRn(&empty, s, State(), CryptDataSize);
        }
        catch (DllNotFoundException)
        {
            return "libcrypt.so.1 (libxcrypt) is not installed";
        }
        return result is null ? "its format is not supported by crypt(3)" : null;
    }

    private static void* State()
    {
        if (t_data == 0) t_data = (nint)NativeMemory.AllocZeroed(CryptDataSize);
        return (void*)t_data;
    }
}

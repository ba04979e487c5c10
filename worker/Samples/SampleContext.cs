using System.Buffers;
using System.Net;
using System.Text;
using Proxy.Worker.Http;
using Proxy.Worker.Runtime;

namespace Proxy.Worker.Samples;

/// <summary>
/// What expressions read on one connection (the request and response heads, both addresses, the proxies, the
/// variables) and the scratch space converters write into, as HAProxy's trash chunks: one per session, reused by
/// every expression, so evaluating allocates nothing. An expression's result lives until the next one is evaluated
/// (<see cref="ResetScratch"/>): its user copies it out first. The scratch space is rented when first used and
/// given back by <see cref="ReleaseBuffers"/> (between requests), so an idle connection holds none.
/// </summary>
internal sealed class SampleContext(int scratchBytes = SampleContext.DefaultScratchBytes)
{
    /// <summary>tune.bufsize's default, the size of HAProxy's trash chunks.</summary>
    public const int DefaultScratchBytes = 16384;

    private byte[] _scratch = [];
    private char[] _chars = [];
    private int _used;
    private BackendRuntime? _backend;

    public HttpHead? Request { get; set; }
    public HttpHead? Response { get; set; }
    public IPEndPoint? Client { get; set; }
    public IPEndPoint? Local { get; set; }
    public byte[] FrontendName { get; set; } = [];
    public byte[] BackendName { get; private set; } = [];
    /// <summary>Every backend of the engine, for `nbsrv(NAME)`.</summary>
    public IReadOnlyList<BackendRuntime> Backends { get; set; } = [];
    /// <summary>The `sess.` variables (the connection's) and the `txn.`/`req.`/`res.` ones (the request's).</summary>
    public VariableStore SessionVariables { get; } = new();
    public VariableStore TransactionVariables { get; } = new();

    /// <summary>The backend chosen for the request (null before `use_backend`); its name is encoded once per change.</summary>
    public BackendRuntime? Backend
    {
        get => _backend;
        set
        {
            if (ReferenceEquals(value, _backend)) return;
            _backend = value;
            BackendName = value is null ? [] : Encoding.UTF8.GetBytes(value.Name);
        }
    }

    /// <summary>A new request on the connection: its variables are forgotten.</summary>
    public void BeginTransaction()
    {
        TransactionVariables.Clear();
        Response = null;
        _used = 0;
    }

    public Span<byte> ScratchFree
    {
        get
        {
            if (_scratch.Length == 0) _scratch = ArrayPool<byte>.Shared.Rent(scratchBytes);
            return _scratch.AsSpan(_used);
        }
    }

    /// <summary>Gives the scratch space back (its content is no longer needed); it is rented again when next used.</summary>
    public void ReleaseBuffers()
    {
        _used = 0;
        if (_scratch.Length > 0) ArrayPool<byte>.Shared.Return(_scratch);
        if (_chars.Length > 0) ArrayPool<char>.Shared.Return(_chars);
        _scratch = [];
        _chars = [];
    }

    /// <summary>Keeps the next <paramref name="length"/> bytes of <see cref="ScratchFree"/> and returns them.</summary>
    public ReadOnlySpan<byte> Commit(int length)
    {
        var kept = _scratch.AsSpan(_used, length);
        _used += length;
        return kept;
    }

    public void ResetScratch() => _used = 0;

    /// <summary>The bytes as chars (Latin-1, one per byte) for a regex, in the context's own char buffer.</summary>
    public ReadOnlySpan<char> AsChars(ReadOnlySpan<byte> bytes)
    {
        if (_chars.Length == 0) _chars = ArrayPool<char>.Shared.Rent(scratchBytes);
        int n = Math.Min(bytes.Length, _chars.Length);
        return _chars.AsSpan(0, Encoding.Latin1.GetChars(bytes[..n], _chars));
    }

    public bool TryGetVariable(VariableRef v, out Sample sample) => v.Scope switch
    {
        VariableScope.Process => ProcessVariables.TryGet(v.Id, out sample),
        VariableScope.Session => SessionVariables.TryGet(v.Id, out sample),
        _ => TransactionVariables.TryGet(v.Id, out sample),
    };

    public void SetVariable(VariableRef v, scoped in Sample value)
    {
        switch (v.Scope)
        {
            case VariableScope.Process: ProcessVariables.Set(v.Id, value); break;
            case VariableScope.Session: SessionVariables.Set(v.Id, value); break;
            default: TransactionVariables.Set(v.Id, value); break;
        }
    }

    public void UnsetVariable(VariableRef v)
    {
        switch (v.Scope)
        {
            case VariableScope.Process: ProcessVariables.Unset(v.Id); break;
            case VariableScope.Session: SessionVariables.Unset(v.Id); break;
            default: TransactionVariables.Unset(v.Id); break;
        }
    }
}

using Proxy.Shared.Config;
using Proxy.Worker.Logging;
using Proxy.Worker.Samples;

namespace Proxy.Worker.Runtime;

/// <summary>
/// `use_backend FMT` (4.2 "use_backend"): a backend name written as a log-format string, rendered for each request
/// and looked up among the engine's backends of the frontend's mode. A name that matches none gives null: the
/// session then takes the `default_backend` and evaluates no other rule, as HAProxy 2.6 does. The lookup allocates
/// nothing: the rendered bytes become chars on the stack and a dictionary's span lookup finds the backend.
/// </summary>
internal sealed class DynamicBackendName
{
    /// <summary>HAProxy's proxy names are short identifiers; a longer rendering names no backend.</summary>
    private const int MaxNameLength = 256;

    private readonly CompiledLogFormat _format;
    private readonly Dictionary<string, BackendRuntime>.AlternateLookup<ReadOnlySpan<char>> _backends;

    public DynamicBackendName(LogFormatConfig format, IEnumerable<BackendRuntime> backends, ProxyMode mode)
    {
        _format = new CompiledLogFormat(format);
        var byName = new Dictionary<string, BackendRuntime>(StringComparer.Ordinal);
        foreach (var be in backends)
            if (be.Config.Mode == mode) byName.TryAdd(be.Name, be);
        _backends = byName.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The backend the format names for this request, or null when it names none.</summary>
    public BackendRuntime? Resolve(SampleContext ctx)
    {
        var buffer = ctx.ValueBuffer;
        int n = _format.Render(ctx, null, buffer);
        if (n <= 0 || n > MaxNameLength) return null;
        Span<char> name = stackalloc char[n];
        for (int i = 0; i < n; i++) name[i] = (char)buffer[i];
        return _backends.TryGetValue(name, out var be) ? be : null;
    }
}

using Proxy.Shared.Config;
using Proxy.Worker.Http;

namespace Proxy.Worker.Samples;

/// <summary>
/// `set-var|set-var-fmt proc.NAME ...` of the `global` section (3.1): set in order when the worker starts, before any
/// traffic, each reading those above it. They run as the `http-request set-var` action does, on a context with no
/// connection; the supervisor already fixed what could differ between workers (GlobalVariableParser.cs).
/// </summary>
internal static class GlobalVariables
{
    public static void Apply(IReadOnlyList<HttpRequestAction> variables)
    {
        if (variables.Count == 0) return;
        var ctx = new SampleContext();
        foreach (var variable in variables) new CompiledRequestAction(variable).ExecuteVariable(ctx);
    }
}

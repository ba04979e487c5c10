namespace Proxy.Worker.Balancing;

/// <summary>
/// One `balance` algorithm. The backend's ServerPicker decides which servers are usable (active ones, else the first backup, or
/// every backup with `option allbackups`) and hands that set to <see cref="Rebuild"/> whenever it changes;
/// <see cref="Pick"/> runs on every connection or request, so it must not lock or allocate.
/// </summary>
internal interface IBalancer
{
    /// <summary>Replaces the set of usable servers (never called concurrently with itself).</summary>
    void Rebuild(ServerRuntime[] usable);

    /// <summary>
    /// Returns the server for a new connection or request described by <paramref name="context"/>, or null when none
    /// is usable. When <paramref name="exclude"/> is set (redispatch) another server is returned if one is usable.
    /// </summary>
    ServerRuntime? Pick(in PickContext context, ServerRuntime? exclude);
}

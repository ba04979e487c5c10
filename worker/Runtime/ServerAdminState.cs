namespace Proxy.Worker.Runtime;

/// <summary>
/// The operator's state of a server (HAProxy `set server BE/SRV state ready|drain|maint`): `ready` takes
/// traffic, `drain` takes no new connection but keeps its own, `maint` takes nothing new (like `disabled`).
/// </summary>
public enum ServerAdminState { Ready, Drain, Maint }

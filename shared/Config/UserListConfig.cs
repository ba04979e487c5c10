namespace Proxy.Shared.Config;

/// <summary>
/// One `userlist NAME` section (doc/configuration.txt 3.4 "Userlists"): its users, each with the groups it belongs to
/// (from `user ... groups G,...` and `group G users U,...` alike), as `http_auth(NAME)`, `http_auth_group(NAME)` and
/// `http-request auth` read them. The fetch steps that name it carry it whole to the workers.
/// </summary>
public sealed record UserListConfig(string Name, IReadOnlyList<UserListUser> Users, IReadOnlyList<string> Groups, SourceLocation Location);

/// <summary>
/// `user NAME password HASH | insecure-password PASSWORD [groups G,...]`: <paramref name="Password"/> is the crypt(3)
/// hash, or the clear text when <paramref name="Insecure"/>.
/// </summary>
public sealed record UserListUser(string Name, string Password, bool Insecure, IReadOnlyList<string> Groups);

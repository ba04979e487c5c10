using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using Proxy.Tests.Support;
using Proxy.Worker;
using Proxy.Worker.Forwarding;
using static Proxy.Tests.Worker.HttpTestKit;

namespace Proxy.Tests.Worker;

/// <summary>
/// An http session object serves one connection after another (HttpSessionPool): started again, it must be exactly
/// what a new one is, or one connection's state (a variable, a timeout flag, a permit) would reach the next client.
/// The comparison walks every field, so a field added later without its reset fails here.
/// </summary>
public class HttpSessionReuseTests
{
    private const BindingFlags Fields = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly;

    // Kept on purpose across connections: buffers whose content is always written before it is read, the added-header
    // lines (rebuilt when their header or address differs); and what differs per
    // connection by nature (the socket, the accept time).
    // Made at their first use and kept from then on, reset in place: null in a new session, as new in a reused one.
    private static readonly HashSet<string> MadeWhenFirstUsed = ["SampleContext._body", "SampleContext._requestLine"];

    private static readonly HashSet<string> Kept = ["HttpSession._addedLines", "SampleContext._uniqueId",
        "RequestBodyView._decoded", "RequestLineRewrite._line", "ProxySession.<AcceptedMs>k__BackingField"];

    // The fields the walk cannot set to another value, each checked otherwise: the constructor's own (read-only: the
    // same for every connection), the sockets (a new one per connection; the connector's attempt is compared).
    private static readonly string[] NotDirtied =
    [
        "BufferedSocket.<Socket>k__BackingField",
        "HttpSession._client", "HttpSession._connector", "HttpSession._server", "ProxySession._clientSocket",
        "ServerConnector._attempt",
        "ProxySession.<Samples>k__BackingField", "ServerConnector.<owner>P",
    ];

    [Test]
    public async Task ReusedSession_IsANewOne()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin)));
        using var c = await proxy.ConnectAsync();
        await SendAsync(c, "GET / HTTP/1.1\r\n");   // a live session, for its engine and frontend
        var live = await Poll.UntilAsync(() => proxy.Engine.LiveSessions().OfType<HttpSession>().SingleOrDefault(),
            s => s is not null, "the session");
        using var s1 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var s2 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var used = new HttpSession(proxy.Engine, live!.Frontend, s1);
        var notDirtied = new SortedSet<string>();
        int dirtied = Dirty(used, new HashSet<object>(ReferenceEqualityComparer.Instance), notDirtied);
        Assert.That(dirtied, Is.GreaterThan(90), "fields dirtied");   // the walk reached the session's parts
        // A new field the walk cannot dirty must be reviewed and listed: otherwise a missing reset would pass unseen.
        Assert.That(notDirtied, Is.EquivalentTo(NotDirtied), "fields not dirtied");
        used.Reuse(proxy.Engine, live.Frontend, s2);
        var fresh = new HttpSession(proxy.Engine, live.Frontend, s2);
        var differences = new List<string>();
        Compare(used, fresh, "session", differences, new HashSet<object>(ReferenceEqualityComparer.Instance), (used, fresh));
        Assert.That(differences, Is.Empty);
    }

    [Test]
    public async Task NextConnections_ReuseTheSessionAndSeeNothingOfTheLast()
    {
        await using var origin = new HttpOrigin("a");
        await using var proxy = StartFromText(HttpConfig(Server("a", origin), frontendExtra: """
                http-request set-var(sess.secret) req.hdr(x-secret) if { req.hdr(x-secret) -m found }
                http-request set-header X-Seen %[var(sess.secret)]
            """));
        var sessions = new List<HttpSession>();
        // The first connection leaves a session variable; each next one must not see it (an unset variable renders "-"), whichever session object it
        // gets. A session object comes back at once unless the engine's timer was reading the table as it ended: among
        // a few connections, one is served by an object an earlier one had.
        for (int i = 0; i < 6; i++)
        {
            using var c = await proxy.ConnectAsync();
            await SendAsync(c, "GET / HTTP/1.1\r\nHost: h\r\n");   // the head unfinished: its session is live
            sessions.Add((await Poll.UntilAsync(() => proxy.Engine.LiveSessions().OfType<HttpSession>().SingleOrDefault(),
                s => s is not null, "the session"))!);
            await SendAsync(c, i == 0 ? "X-Secret: s3cret\r\nConnection: close\r\n\r\n" : "Connection: close\r\n\r\n");
            var resp = await new HttpReader(c).ReadAsync(isResponse: true);
            Assert.That(resp!.Status, Is.EqualTo(200));
            c.Close();   // the session lingers until the client's FIN
            await Poll.UntilAsync(() => proxy.Engine.LiveSessions().Any(), any => !any, "the session to end");
        }
        var seen = origin.Requests.Select(r => r.Request.Header("X-Seen")).ToList();
        Assert.That(seen, Is.EqualTo(new[] { "s3cret", "-", "-", "-", "-", "-" }));
        Assert.That(sessions.Distinct().Count(), Is.LessThan(sessions.Count), "a session object served a later connection");
    }

    [Test]
    public void SessionTableReaders_ReuseWaitsForTheReadersOfItsMoment()
    {
        var readers = new SessionTableReaders();
        Assert.That(readers.IsQuietSince(readers.StampAfterRemoval()), Is.True, "no reader: reusable at once");
        var first = readers.Enter();
        long stamp = readers.StampAfterRemoval();
        var second = readers.Enter();   // came after the removal: cannot hold the session, but keeps the count up
        Assert.That(readers.IsQuietSince(stamp), Is.False, "a reader of that moment is still inside");
        first.Dispose();
        Assert.That(readers.IsQuietSince(stamp), Is.False, "the count has not come back to zero");
        second.Dispose();
        Assert.That(readers.IsQuietSince(stamp), Is.True);
    }

    /// <summary>Sets every settable field of <paramref name="o"/> and of the parts it owns to a value a new object would not have.</summary>
    private static int Dirty(object o, HashSet<object> seen, ISet<string> notDirtied)
    {
        if (!seen.Add(o)) return 0;
        int n = 0;
        foreach (var f in AllFields(o.GetType()))
        {
            if (Kept.Contains(Key(f))) continue;
            var value = f.GetValue(o);
            if (value is null && MadeWhenFirstUsed.Contains(Key(f)))
            {
                // As the connection that first used it left it: made, then every field of it dirtied.
                value = Activator.CreateInstance(f.FieldType)!;
                f.SetValue(o, value);
                n++;
            }
            if (IsOwnedPart(f.FieldType) && value is not null)
            {
                n += Dirty(value, seen, notDirtied);
                if (f.IsInitOnly) notDirtied.Add(Key(f));
                continue;
            }
            if (!f.IsInitOnly && JunkFor(f.FieldType, value) is { } junk)
            {
                f.SetValue(o, junk);
                n++;
            }
            else
            {
                notDirtied.Add(Key(f));
            }
        }
        return n;
    }

    private static string Key(FieldInfo f) => $"{f.DeclaringType!.Name}.{f.Name}";

    private static object? JunkFor(Type t, object? current)
    {
        if (t == typeof(bool)) return true;
        if (t == typeof(int)) return 7;
        if (t == typeof(long)) return 7L;
        if (t == typeof(char)) return 'x';
        if (t.IsEnum) return Enum.ToObject(t, 1);
        if (t == typeof(nint)) return (nint)7;
        if (t.IsPrimitive || t.IsPointer) return null;
        if (t.IsValueType)
        {
            // A struct: every field of a boxed copy set, the copy written back.
            var boxed = current ?? RuntimeHelpers.GetUninitializedObject(t);
            foreach (var f in AllFields(t))
                if (JunkFor(f.FieldType, f.GetValue(boxed)) is { } inner) f.SetValue(boxed, inner);
            return boxed;
        }
        if (t == typeof(byte[])) return new byte[3];
        if (t == typeof(string)) return "junk";
        if (t.IsInterface && t.IsGenericType && t.GetGenericArguments() is [var element]
            && Array.CreateInstance(element, 1) is var one && t.IsAssignableFrom(one.GetType())) return one;   // a list
        if (t.IsArray || t.IsInterface || t.IsAbstract || typeof(Delegate).IsAssignableFrom(t) || t == typeof(object)) return null;
        if (t == typeof(Socket) || t.IsGenericType) return null;
        // Never finalized: a finalizer of an object no constructor ran (an SslStream's) would crash the test host.
        var junk = RuntimeHelpers.GetUninitializedObject(t);
        GC.SuppressFinalize(junk);
        return junk;
    }

    private static void Compare(object a, object b, string path, List<string> differences, HashSet<object> seen, (object A, object B) roots)
    {
        if (!seen.Add(a)) return;
        foreach (var f in AllFields(a.GetType()))
        {
            if (Kept.Contains(Key(f)) || f.FieldType == typeof(Socket)) continue;
            object? x = f.GetValue(a), y = f.GetValue(b);
            string where = $"{path}.{f.Name}";
            if (x is not null && y is null && MadeWhenFirstUsed.Contains(Key(f)))
            {
                Compare(x, Activator.CreateInstance(x.GetType())!, where, differences, seen, roots);
            }
            else if (x is null || y is null)
            {
                if (x is not null || y is not null) differences.Add($"{where}: {x ?? "null"} / {y ?? "null"}");
            }
            else if (IsOwnedPart(f.FieldType))
            {
                Compare(x, y, where, differences, seen, roots);
            }
            else if (ReferenceEquals(x, roots.A) && ReferenceEquals(y, roots.B))
            {
                // each part's own session (the connector's owner)
            }
            else if (f.FieldType.IsPointer)
            {
                unsafe
                {
                    if (Pointer.Unbox(x) != Pointer.Unbox(y)) differences.Add($"{where}: another pointer");
                }
            }
            else if (x is Array xa && y is Array ya)
            {
                if (xa.Length != ya.Length) differences.Add($"{where}: length {xa.Length} / {ya.Length}");
            }
            else if (f.FieldType.IsValueType ? !x.Equals(y) : !ReferenceEquals(x, y) && !SameEmptyList(x, y))
            {
                differences.Add($"{where}: {x} / {y}");
            }
        }
    }

    private static bool SameEmptyList(object x, object y) =>
        x is System.Collections.ICollection { Count: 0 } && y is System.Collections.ICollection { Count: 0 };

    /// <summary>The parts a session object keeps from one connection to the next (its own objects, reset in place).</summary>
    private static bool IsOwnedPart(Type t) =>
        t == typeof(ServerConnector) || t == typeof(HttpServerConnection) || t == typeof(BufferedSocket)
        || t.Name is "SampleContext" or "RequestBodyView" or "RequestLineRewrite";

    private static IEnumerable<FieldInfo> AllFields(Type t)
    {
        for (var type = t; type is not null && type != typeof(object); type = type.BaseType)
            foreach (var f in type.GetFields(Fields))
                if (!f.IsStatic && !f.IsLiteral) yield return f;
    }
}

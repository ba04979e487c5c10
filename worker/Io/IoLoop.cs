using System.Runtime.InteropServices;
using Proxy.Worker.Forwarding;
using Tmds.Linux;

namespace Proxy.Worker.Io;

/// <summary>
/// The worker's own readiness loop (issue 15): one epoll instance and one thread running epoll_wait, for the plain
/// sockets of `mode http` sessions. A socket is either here or in .NET's socket engine, never both: .NET registers a
/// socket in its own epoll, sets O_NONBLOCK with two fcntl and allocates a SocketAsyncContext the first time an async
/// operation touches it, and tries every receive once before it waits. Here a socket is read and written with
/// recv/send(MSG_DONTWAIT) from the session's own thread, waits only after a syscall found nothing (edge-triggered, as
/// HAProxy), and wakes its parked operation inline on the loop thread. Threading and ordering: README.md.
/// </summary>
internal sealed unsafe class IoLoop
{
    private const int MaxEvents = 256;
    private static IoLoop? s_shared;
    private static readonly object s_create = new();

    private readonly int _epoll;
    private readonly Lock _gate = new();   // the table's lending and return (once per connection, never per request)
    private IoRegistration[] _table = new IoRegistration[256];
    private int _count;
    private int[] _free = new int[256];
    private int _freeCount;

    private IoLoop(int epoll)
    {
        _epoll = epoll;
        var thread = new Thread(Run) { IsBackground = true, Name = "io-loop" };
        thread.UnsafeStart();
    }

    /// <summary>
    /// Whether plain http sockets use the loop: yes unless the environment sets PROXY_IO_LOOP=0 (then .NET's engine,
    /// as before issue 15's third pass; kept to compare the two and as a way back).
    /// </summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("PROXY_IO_LOOP") != "0";

    [ThreadStatic] private static bool t_onLoop;

    /// <summary>Whether the calling thread is a loop's (where the loop's accepts and their sessions' continuations run).</summary>
    public static bool OnLoopThread => t_onLoop;

    /// <summary>The worker's loop, started on first use; null when epoll_create1 failed (then .NET's engine serves).</summary>
    public static IoLoop? Shared
    {
        get
        {
            if (Volatile.Read(ref s_shared) is { } loop) return loop;
            lock (s_create)
            {
                if (s_shared is null)
                {
                    int fd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
                    if (fd < 0) return null;
                    Volatile.Write(ref s_shared, new IoLoop(fd));
                }
                return s_shared;
            }
        }
    }

    /// <summary>Lends a registration entry to a new connection (reused, allocated only when the table grows).</summary>
    public IoRegistration Rent()
    {
        lock (_gate)
        {
            int index;
            if (_freeCount > 0)
            {
                index = _free[--_freeCount];
            }
            else
            {
                index = _count++;
                if (index == _table.Length)
                {
                    var bigger = new IoRegistration[_table.Length * 2];
                    Array.Copy(_table, bigger, _table.Length);
                    Volatile.Write(ref _table, bigger);   // the loop thread reads either array: both hold every older entry
                }
                _table[index] = new IoRegistration(this, index);
            }
            var registration = _table[index];
            registration.Open();
            return registration;
        }
    }

    internal void Return(IoRegistration registration)
    {
        lock (_gate)
        {
            if (_freeCount == _free.Length) Array.Resize(ref _free, _free.Length * 2);
            _free[_freeCount++] = registration.Index;
        }
    }

    /// <summary>epoll_ctl(ADD) of <paramref name="fd"/> for entry (<paramref name="index"/>, <paramref name="generation"/>); 0 or an errno.</summary>
    internal int Add(int fd, int index, int generation)
    {
        epoll_event ev = default;
        ev.events = LibC.EPOLLIN | LibC.EPOLLOUT | LibC.EPOLLRDHUP | LibC.EPOLLET;
        ev.data.u64 = (ulong)(uint)generation << 32 | (uint)index;
        return LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : LibC.errno;
    }

    /// <summary>
    /// epoll_ctl(DEL) of <paramref name="fd"/>: only for a descriptor whose open file outlives its close here (a shared
    /// listener, <see cref="LoopAcceptor.Dispose"/>); any other socket leaves the set when it is closed.
    /// </summary>
    internal void Remove(int fd) => LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, fd, null);

    private void Run()
    {
        ThreadArrayPool.UseOnThisThread();   // sessions' buffers come and go on this thread
        t_onLoop = true;
        // No ExecutionContext flows on this thread: the worker sets no AsyncLocal, so every context an await here would
        // capture is the default one, and each suspension and resume would still pay ExecutionContext.Capture and
        // ExecutionContext.Run to carry it (about 3% of the worker's user time per `Connection: close` request,
        // perf/README.md, "sixteenth session"). Suppressed, Capture returns null and a box resumes its state machine
        // directly, as HAProxy's tasks carry no context. Never undone: the thread lives as long as the worker.
        ExecutionContext.SuppressFlow();
        var events = (epoll_event*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(epoll_event));
        while (true)
        {
            int n = LibC.epoll_wait(_epoll, events, MaxEvents, -1);
            if (n < 0)
            {
                if (LibC.errno == LibC.EINTR) continue;
                Environment.FailFast($"io-loop: epoll_wait failed, errno {LibC.errno}");
            }
            LoopClock.Tick();
            var table = Volatile.Read(ref _table);
            for (int i = 0; i < n; i++)
            {
                // A wake's events may take long (TLS handshakes run inline here): the clock is read again every 32.
                if ((i & 31) == 31) LoopClock.Tick();
                ulong data = events[i].data.u64;
                int index = (int)(uint)data;
                if ((uint)index < (uint)table.Length && table[index] is { } registration)
                {
                    try
                    {
                        registration.OnEvent((int)(data >> 32), events[i].events);
                    }
                    catch (Exception e)
                    {
                        // A continuation runs inline here: an exception escaping it would end this thread silently and
                        // with it every loop socket of the worker. Fail loudly instead (the supervisor restarts the worker).
                        Environment.FailFast("io-loop: an inline continuation threw", e);
                    }
                }
            }
        }
    }
}

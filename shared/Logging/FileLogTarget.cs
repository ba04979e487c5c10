using NLog;
using NLog.Targets;

namespace Proxy.Shared.Logging;

/// <summary>
/// The supervisor's own messages in a `log PATH` target that is a plain file (LogFile.IsFileTarget): one line each,
/// `date proxy[pid]: [logger] message`, appended with O_APPEND next to the workers' traffic lines in the same file.
/// </summary>
public sealed class FileLogTarget : TargetWithLayout
{
    private readonly LogFile _file;

    public FileLogTarget(string path, (uint Uid, uint Gid)? owner)
    {
        _file = new LogFile(path, owner);
        Layout = "${date:format=yyyy-MM-ddTHH\\:mm\\:ss.fffzzz} proxy[${processid}]: [${logger}] ${message}";
    }

    protected override void Write(LogEventInfo logEvent)
    {
        // A log file that cannot be written must never stop the proxy: the line is lost, as a syslog datagram would be.
        _file.Write(System.Text.Encoding.UTF8.GetBytes(RenderLogEvent(Layout, logEvent) + "\n"));
    }

    protected override void CloseTarget()
    {
        _file.Dispose();
        base.CloseTarget();
    }
}

using System.Text;
using Proxy.Supervisor.RuntimeApi;

namespace Proxy.Supervisor;

public sealed partial class ControlCommands
{
    /// <summary>
    /// `show resolvers [ID]` (doc/management.txt): each section's name servers and their counters, in HAProxy 2.6's
    /// layout (src/resolvers.c cli_io_handler_dump_resolvers_to_buffer).
    /// </summary>
    private Task<string> ShowResolvers(string[] words, CliSession session)
    {
        var sections = supervisor.Resolver.Sections;
        if (words.Length > 2 && !sections.Any(s => s.Section.Name == words[2]))
            return Task.FromResult("Can't find that resolvers section\n");
        var sb = new StringBuilder();
        foreach (var section in sections)
        {
            if (words.Length > 2 && section.Section.Name != words[2]) continue;
            sb.Append("Resolvers section ").Append(section.Section.Name).Append('\n');
            foreach (var ns in section.Clients)
            {
                var c = ns.Counters;
                sb.Append(" nameserver ").Append(ns.Config.Name).Append(":\n");
                Line(sb, "sent:        ", c.Sent);
                Line(sb, "snd_error:   ", c.SndError);
                Line(sb, "valid:       ", c.Valid);
                Line(sb, "update:      ", c.Update);
                Line(sb, "cname:       ", c.Cname);
                Line(sb, "cname_error: ", c.CnameError);
                Line(sb, "any_err:     ", c.AnyErr);
                Line(sb, "nx:          ", c.Nx);
                Line(sb, "timeout:     ", c.Timeout);
                Line(sb, "refused:     ", c.Refused);
                Line(sb, "other:       ", c.Other);
                Line(sb, "invalid:     ", c.Invalid);
                Line(sb, "too_big:     ", c.TooBig);
                Line(sb, "truncated:   ", c.Truncated);
                Line(sb, "outdated:    ", c.Outdated);
            }
            sb.Append('\n');
        }
        return Task.FromResult(sb.ToString());
    }

    private static void Line(StringBuilder sb, string label, long value) =>
        sb.Append("  ").Append(label).Append(value.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
}

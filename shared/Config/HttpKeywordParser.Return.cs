using System.Globalization;

namespace Proxy.Shared.Config;

/// <summary>`http-request|http-response return` (4.2 "http-request return"): status, content type, payload and headers.</summary>
internal sealed partial class HttpKeywordParser
{
    /// <summary>
    /// Why a `hdr NAME` of `return` is dropped, or null when it is sent. Connection is this proxy's own difference:
    /// HAProxy 2.6 keeps it, here the answer's Connection line is the one the session writes (close or keep-alive),
    /// and a second one would contradict it.
    /// </summary>
    private static string? ReturnDroppedHeader(string name)
    {
        if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase)) return "the length is the payload's";
        if (name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)) return "the reply is framed by its content-length";
        if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase)) return "use the 'content-type' argument";
        if (name.Equals("connection", StringComparison.OrdinalIgnoreCase)) return "the proxy's own Connection header decides";
        return null;
    }

    /// <summary>`return [status CODE] [content-type TYPE] [string TEXT | file PATH]`: 200 and the status's page by default.</summary>
    private HttpRequestAction? ParseReturn(ConfigLine line, int end, string what)
    {
        var w = line.Words;
        int status = 200;
        string? contentType = null;
        byte[]? body = null;
        byte[]? whole = null;                       // errorfile: a whole response
        LogFormatConfig? bodyFormat = null;         // lf-string, lf-file: the payload, a log-format per request
        List<ReturnHeader>? headers = null;         // hdr NAME FMT
        Dictionary<int, byte[]>? section = null;    // errorfiles: the section's page for the status
        for (int i = 2; i < end; i++)
        {
            string arg = i + 1 < end ? w[i + 1] : "";
            switch (w[i])
            {
                case "status" when arg.Length > 0:
                    if (!int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out status) || status < 200 || status > 599)
                    {
                        diag.Error(line.Number, $"'{what}': invalid status {ConfigDiagnostics.Quote(arg)} (expected 200 to 599)");
                        return null;
                    }
                    i++;
                    break;
                case "content-type" when arg.Length > 0:
                    if (arg.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                    {
                        diag.Error(line.Number, $"'{what}': the content-type must not contain CR, LF or NUL");
                        return null;
                    }
                    contentType = arg;
                    i++;
                    break;
                case "string" when arg.Length > 0 || i + 1 < end:
                    body = System.Text.Encoding.UTF8.GetBytes(arg);
                    i++;
                    break;
                case "file" when arg.Length > 0:
                    if (!TryReadFile(line, arg, what, out var content)) return null;
                    body = content;
                    i++;
                    break;
                case "errorfile" when arg.Length > 0:
                    // 4.2 "http-request return": the file is a whole HTTP response, as for the `errorfile` keyword.
                    if (!TryReadFile(line, arg, what, out var response)) return null;
                    if (!response.AsSpan().StartsWith("HTTP/"u8))
                    {
                        diag.Error(line.Number, $"'{what} errorfile': {ConfigDiagnostics.Quote(arg)} must hold a complete HTTP response starting with 'HTTP/'");
                        return null;
                    }
                    whole = response;
                    i++;
                    break;
                case "errorfiles" when arg.Length > 0:
                    if (!HttpErrors.TryGetValue(arg, out section))
                    {
                        diag.Error(line.Number, $"'{what} errorfiles': no 'http-errors' section named {ConfigDiagnostics.Quote(arg)} above this line");
                        return null;
                    }
                    i++;
                    break;
                case "lf-string" when arg.Length > 0 || i + 1 < end:
                    if ((bodyFormat = ParseValueFormat(line, $"{what} lf-string", arg)) is null) return null;
                    i++;
                    break;
                case "lf-file" when arg.Length > 0:
                    // 4.2 "http-request return": the file's content is a log-format string, evaluated per request.
                    if (!TryReadFile(line, arg, what, out var template)) return null;
                    if ((bodyFormat = ParseValueFormat(line, $"{what} lf-file", System.Text.Encoding.UTF8.GetString(template))) is null) return null;
                    i++;
                    break;
                case "hdr" when i + 2 < end:
                    if (!IsToken(w[i + 1]))
                    {
                        diag.Error(line.Number, $"'{what} hdr': header {ConfigDiagnostics.Quote(w[i + 1])} not allowed");
                        return null;
                    }
                    if (ReturnDroppedHeader(w[i + 1]) is { } why)
                    {
                        // HAProxy 2.6 (http_parse_http_reply) warns "header '%s' always ignored by the http reply" for
                        // content-length, transfer-encoding and content-type: the reply frames itself, and a second
                        // framing header would make the answer ambiguous.
                        diag.Warning(line.Number, $"'{what} hdr': header {ConfigDiagnostics.Quote(w[i + 1])} always ignored by the http reply ({why})");
                        i += 2;
                        break;
                    }
                    if (w[i + 2].AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                    {
                        diag.Error(line.Number, $"'{what} hdr': the value must not contain CR, LF or NUL");
                        return null;
                    }
                    if (ParseValueFormat(line, $"{what} hdr", w[i + 2]) is not { } value) return null;
                    (headers ??= []).Add(new ReturnHeader(w[i + 1], value));
                    i += 2;
                    break;
                case "default-errorfiles":
                    break;   // the status's page: what a return without payload sends anyway
                default:
                    diag.Error(line.Number, $"'{what}': unexpected {ConfigDiagnostics.Quote(w[i])}, expected '{what} [status CODE] [content-type TYPE] [string TEXT | file PATH | lf-string FMT | lf-file PATH | errorfile PATH | errorfiles NAME | default-errorfiles] [hdr NAME FMT]... [if|unless COND]'");
                    return null;
            }
        }
        if (section is not null) section.TryGetValue(status, out whole);   // none for the status: its default page
        if ((whole is not null || section is not null) && contentType is not null)
        {
            diag.Error(line.Number, $"'{what}': 'content-type' cannot be used with 'errorfile' or 'errorfiles' (the file holds the whole response)");
            return null;
        }
        if ((body is { Length: > 0 } || bodyFormat is not null) && contentType is null)
        {
            // 4.2 "http-request return": a payload needs its type.
            diag.Error(line.Number, $"'{what}': a payload ('string', 'file', 'lf-string' or 'lf-file') needs a 'content-type'");
            return null;
        }
        if (headers is not null && (whole is not null || section is not null))
        {
            diag.Error(line.Number, $"'{what}': 'hdr' cannot be used with 'errorfile' or 'errorfiles' (the file holds the whole response)");
            return null;
        }
        if (bodyFormat is not null && body is not null)
        {
            diag.Error(line.Number, $"'{what}': one payload only ('string', 'file', 'lf-string' or 'lf-file')");
            return null;
        }
        return new HttpRequestAction(HttpRequestActionKind.Return, status, null, diag.At(line.Number))
            { ContentType = contentType, Body = body, WholeResponse = whole, BodyFormat = bodyFormat, Headers = headers };
    }
}

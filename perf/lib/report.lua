-- wrk script: prints one machine-readable line at the end (parsed by perf/lib/common.sh).
-- errors_status counts responses with status > 399 (wrk's "Non-2xx or 3xx responses");
-- connect/read/write/timeout are wrk's "Socket errors". Latencies are in microseconds.
-- `-- close` after the URL: every request carries `Connection: close`, so each one is a new connection. (wrk's own
-- `-H` drops a header not written "Name: value" with the space, which the benches' word-split argument strings
-- cannot carry: `-H Connection:close` sent keep-alive requests, measured as "new sessions" before 11-29.)
init = function(args)
   if args[1] == "close" then wrk.headers["Connection"] = "close" end
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d mean_us=%.1f " ..
      "err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d\n",
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(99), latency.mean,
      e.connect, e.read, e.write, e.timeout, e.status))
end

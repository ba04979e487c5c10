-- wrk script for figure 4 (latency at a fixed rate below saturation). Debian has no wrk2, so each
-- connection waits a random delay (uniform 0..2*mean ms, mean given as the first script argument)
-- before each request: with C connections the offered rate is about C * 1000 / (mean + latency)
-- requests/s. The measured rate is reported next to the latencies; wrk times each request from its
-- write, so the delay is not counted as latency.
local mean_ms = 5
init = function(args)
   if args[1] then mean_ms = tonumber(args[1]) end
   math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end
delay = function()
   return math.random(0, 2 * mean_ms)
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

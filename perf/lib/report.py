#!/usr/bin/env python3
"""Writes perf/bench.sh's Markdown results file from its TSV (side, round, workload, metric, value)."""
import argparse, collections, datetime, os, platform, re, socket, statistics, subprocess

ap = argparse.ArgumentParser()
ap.add_argument("--tsv", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--meta", action="append", default=[])
ap.add_argument("--text", action="append", default=[])
a = ap.parse_args()
meta = dict(m.split("=", 1) for m in a.meta)
text = dict(t.split("=", 1) for t in a.text)

vals = collections.defaultdict(list)  # (side, workload, metric) -> [values by round]
rounds = collections.defaultdict(dict)
for line in open(a.tsv):
    side, rnd, w, metric, v = line.rstrip("\n").split("\t")
    vals[(side, w, metric)].append(float(v))
    rounds[(side, w, metric)][int(rnd)] = float(v)


def med(side, w, metric):
    v = vals.get((side, w, metric))
    return statistics.median(v) if v else None


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip() or \
            subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stderr.strip()
    except Exception as e:
        return f"? ({e})"


def fmt(v, digits):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def ratio(x, y):
    return f"{x / y:.2f}" if x is not None and y else "n/a"


cpu = re.sub(r"\s+", " ", sh("lscpu | sed -n 's/^Model name:\\s*//p' | head -1"))
mem_gib = int(open("/proc/meminfo").read().split("MemTotal:")[1].split()[0]) / 1024 / 1024
osname = sh(". /etc/os-release && echo $PRETTY_NAME")
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
commit = sh(f"git -C {root} rev-parse --short HEAD") + (" (with uncommitted changes)" if sh(f"git -C {root} status --porcelain --untracked-files=no") else "")
versions = {
    "HAProxy": sh("haproxy -v | head -1 | awk '{print $3}'"),
    "nginx": sh("nginx -v 2>&1 | sed 's|.*nginx/||'"),
    "wrk": sh("wrk -v 2>&1 | head -1 | awk '{print $2}'"),
    ".NET SDK": sh("dotnet --version"),
    "this proxy": f"git {commit}, branch {sh(f'git -C {root} rev-parse --abbrev-ref HEAD')}",
    "python3": platform.python_version(),
}
now = datetime.datetime.now(datetime.timezone.utc)
quick = "--quick" in meta.get("command", "")
rows = []


def round_ratio(w, m):
    """The median of each round's own proxy/HAProxy ratio: the two sides ran seconds apart within a round,
    so a box that drifts between rounds moves both alike (perf/compare.sh reads CPU the same way)."""
    p, h = rounds.get(("proxy", w, m), {}), rounds.get(("haproxy", w, m), {})
    r = [p[i] / h[i] for i in p if i in h and h[i]]
    return f"{statistics.median(r):.2f}" if r else "n/a"


def row(num, name, metric_key, digits, direct=True, lower_better=False):
    w, m = metric_key
    p, h, d = med("proxy", w, m), med("haproxy", w, m), (med("direct", w, m) if direct else None)
    rows.append(f"| {num} | {name} | {fmt(p, digits)} | {fmt(h, digits)} | {fmt(d, digits)} | {ratio(p, h)} | {round_ratio(w, m)} | {ratio(p, d) if direct else 'n/a'} |")


row("1", "keep-alive requests/s (64 B object, 50 connections)", ("ka", "rps"), 0)
row("1", "&nbsp;&nbsp;CPU per keep-alive request, µs (proxy processes; direct: nginx)", ("ka", "cpu_us"), 2, lower_better=True)
row("2", "new sessions/s (`Connection: close`, 50 connections)", ("close", "rps"), 0)
row("2", "&nbsp;&nbsp;CPU per new session, µs", ("close", "cpu_us"), 2, lower_better=True)
row("3", "data rate, 1 MiB object, MB/s (10 connections)", ("big", "mbps"), 0)
row("3", "&nbsp;&nbsp;CPU per 1 MiB response, µs", ("big", "cpu_us"), 1, lower_better=True)
row("4", f"rate reached in the latency runs, requests/s ({meta.get('lat_conns')} paced connections)", ("lat", "rps"), 0)
row("4", "p50 latency, ms", ("lat", "p50_ms"), 3, lower_better=True)
row("4", "p99 latency, ms", ("lat", "p99_ms"), 3, lower_better=True)
row("1", "&nbsp;&nbsp;context switches per 1,000 keep-alive requests, voluntary", ("ka", "csw_vol_per_kreq"), 1)
row("1", "&nbsp;&nbsp;context switches per 1,000 keep-alive requests, involuntary", ("ka", "csw_invol_per_kreq"), 1)
row("1", "&nbsp;&nbsp;threads (all processes of the side)", ("ka", "threads"), 0)
hold = meta.get("hold")
for mode in ("http", "tcp"):
    w = f"mem_{mode}"
    pm, hm = med("proxy", w, "per_conn_b"), med("haproxy", w, "per_conn_b")
    rows.append(f"| 5 | memory per idle keep-alive session, `mode {mode}`, bytes (RSS with {hold} held − idle RSS) / opened | {fmt(pm, 0)} | {fmt(hm, 0)} | n/a | {ratio(pm, hm)} | {round_ratio(w, 'per_conn_b')} | n/a |")
    pi, hi = med("proxy", w, "idle_kb"), med("haproxy", w, "idle_kb")
    rows.append(f"| 5 | &nbsp;&nbsp;idle RSS, MiB (supervisor + workers; HAProxy master + worker) | {fmt(pi and pi / 1024, 1)} | {fmt(hi and hi / 1024, 1)} | n/a | {ratio(pi, hi)} | n/a | n/a |")
    ph, hh = med("proxy", w, "held_kb"), med("haproxy", w, "held_kb")
    rows.append(f"| 5 | &nbsp;&nbsp;RSS with the connections held, MiB | {fmt(ph and ph / 1024, 1)} | {fmt(hh and hh / 1024, 1)} | n/a | {ratio(ph, hh)} | n/a | n/a |")
many = meta.get("many")
po, ho = med("proxy", "many", "opened"), med("haproxy", "many", "opened")
if po is not None or ho is not None:
    rows.append(f"| 7 | sessions held at once (of {many}; three instances per side, `option http-server-close`) | {fmt(po, 0)} | {fmt(ho, 0)} | n/a | {ratio(po, ho)} | n/a | n/a |")
    pm, hm = med("proxy", "many", "per_conn_b"), med("haproxy", "many", "per_conn_b")
    rows.append(f"| 7 | &nbsp;&nbsp;memory per session, bytes | {fmt(pm, 0)} | {fmt(hm, 0)} | n/a | {ratio(pm, hm)} | n/a | n/a |")
    ph, hh = med("proxy", "many", "held_kb"), med("haproxy", "many", "held_kb")
    rows.append(f"| 7 | &nbsp;&nbsp;RSS with them held, MiB (both instances) | {fmt(ph and ph / 1024, 1)} | {fmt(hh and hh / 1024, 1)} | n/a | {ratio(ph, hh)} | n/a | n/a |")
sw = meta.get("scale_workers")
for w, label in (("ka", "keep-alive"), ("close", "`Connection: close`")):
    p2, h2 = med("proxy", f"{w}_scaled", "cpu_us"), med("haproxy", f"{w}_scaled", "cpu_us")
    if p2 is None and h2 is None:
        continue
    p1, h1 = med("proxy", f"{w}_one", "cpu_us"), med("haproxy", f"{w}_one", "cpu_us")
    rows.append(f"| 8 | CPU per {label} request with {sw} workers / threads on CPUs {meta.get('scale_cpus')} (shared with wrk and nginx), µs | {fmt(p2, 2)} | {fmt(h2, 2)} | n/a | {ratio(p2, h2)} | {round_ratio(f'{w}_scaled', 'cpu_us')} | n/a |")
    rows.append(f"| 8 | &nbsp;&nbsp;with one worker / thread on the same CPUs, µs | {fmt(p1, 2)} | {fmt(h1, 2)} | n/a | {ratio(p1, h1)} | {round_ratio(f'{w}_one', 'cpu_us')} | n/a |")
    rows.append(f"| 8 | &nbsp;&nbsp;its rise from one worker / thread: CPU per request with {sw} ÷ with 1 | {ratio(p2, p1)} | {ratio(h2, h1)} | n/a | n/a | n/a | n/a |")
    rows.append(f"| 8 | &nbsp;&nbsp;requests/s with {sw} | {fmt(med('proxy', f'{w}_scaled', 'rps'), 0)} | {fmt(med('haproxy', f'{w}_scaled', 'rps'), 0)} | n/a | {ratio(med('proxy', f'{w}_scaled', 'rps'), med('haproxy', f'{w}_scaled', 'rps'))} | {round_ratio(f'{w}_scaled', 'rps')} | n/a |")
for load, label in (("close", "new connection per request"), ("ka", "keep-alive")):
    pf, hf = med("proxy", f"reload_{load}", "failed"), med("haproxy", f"reload_{load}", "failed")
    pr, hr = med("proxy", f"reload_{load}", "requests"), med("haproxy", f"reload_{load}", "requests")
    if pf is None and hf is None:
        continue
    rows.append(f"| 6 | reload under load, failed requests ({label}) | {fmt(pf, 0)} of {fmt(pr, 0)} | {fmt(hf, 0)} of {fmt(hr, 0)} | n/a | n/a | n/a | n/a |")

errs = {s: sum(sum(v) for (side, w, m), v in vals.items() if side == s and m == "errors") for s in ("proxy", "haproxy", "direct")}

detail = ["| side | workload | metric | " + " | ".join(f"run {r}" for r in range(1, int(meta.get("rounds", 3)) + 1)) + " | median |",
          "|---|---|---|" + "---:|" * (int(meta.get("rounds", 3)) + 1)]
csw = ("csw_vol_per_kreq", "csw_invol_per_kreq", "threads")
for w, metrics in (("ka", ("rps", "cpu_us", "errors") + csw), ("close", ("rps", "cpu_us", "errors") + csw),
                   ("big", ("mbps", "cpu_us", "errors") + csw), ("lat", ("rps", "p50_ms", "p99_ms", "errors")),
                   ("ka_one", ("rps", "cpu_us", "errors")), ("ka_scaled", ("rps", "cpu_us", "errors")),
                   ("close_one", ("rps", "cpu_us", "errors")), ("close_scaled", ("rps", "cpu_us", "errors")),
                   ("mem_http", ("idle_kb", "held_kb", "opened", "failed", "per_conn_b")),
                   ("mem_tcp", ("idle_kb", "held_kb", "opened", "failed", "per_conn_b"))):
    for side in ("proxy", "haproxy", "direct"):
        for m in metrics:
            r = rounds.get((side, w, m), {})
            if not r:
                continue
            detail.append(f"| {side} | {w} | {m} | " + " | ".join(fmt(r.get(i), 2) for i in range(1, int(meta.get("rounds", 3)) + 1))
                          + f" | {fmt(med(side, w, m), 2)} |")
for side in ("proxy", "haproxy"):
    for m in ("idle_kb", "held_kb", "opened", "failed", "per_conn_b"):
        detail.append(f"| {side} | many | {m} | {fmt(med(side, 'many', m), 0)} |" + " |" * (int(meta.get("rounds", 3)) - 1) + " |")

board = text.get("board", "").strip()
board_table = "\n".join(l for l in board.splitlines() if l.startswith("|"))
board_rest = "\n".join(l for l in board.splitlines() if not l.startswith("|") and l.strip() and not l.startswith("RESULT"))

out = f"""# Benchmark results: {now:%Y-%m-%d %H:%M} UTC on {socket.gethostname()}{' (quick run)' if quick else ''}

This proxy (`mode {meta['mode']}`) against HAProxy (same mode, same configuration, same CPU) and the origin alone
("direct"). Median of {meta['rounds']} runs of {meta['duration']} s per figure, the sides alternated in rotating order.
**Noisy**: a 2-core machine shared with other engineers building and testing; the load average was
{meta['load_before']} before and {meta['load_after']} after. Treat differences under ~10% as noise. How to read every
figure: perf/README.md.

## Machine
- CPU: {cpu}; {os.cpu_count()} CPUs; {mem_gib:.0f} GiB memory
- OS: {osname}; kernel {platform.release()}
- Versions: {'; '.join(f'{k} {v}' for k, v in versions.items())}
- Arrangement: proxy under test (this proxy's supervisor + {meta['workers']} worker(s), or HAProxy's master + worker with
  nbthread {meta['workers']}) on CPU {meta['proxy_cpus']}; nginx origin (1 worker) on CPU {meta['origin_cpus']}; wrk and the
  memory client on CPU {meta['client_cpus']}; direct runs: wrk on CPU {meta['direct_client_cpus']}.
- Ports: {meta['ports']} (127.0.0.1 only). Whole run: {meta['elapsed_s']} s.

## Figures

| # | figure | this proxy | HAProxy | direct | proxy/HAProxy | proxy/HAProxy, by round | proxy/direct |
|---|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Errors over all runs of figures 1-4 and 8 (wrk socket errors + non-2xx/3xx): this proxy {errs['proxy']:.0f}, HAProxy
{errs['haproxy']:.0f}, direct {errs['direct']:.0f}.

## Stats board micro-benchmark (`dotnet run -c Release --project perf/BoardBench`)

{board_table}

{board_rest}

## Reload under load (figure 6, `perf/reload-bench.sh --duration {meta['reload_secs']}`)
{text.get('reload', '(skipped)')}

## Every run

{chr(10).join(detail)}

## Commands

```sh
{meta['command']}
# origin
{text['origin_start']}
# this proxy
{text['proxy_start']}
# HAProxy (master-worker)
{text['haproxy_start']}
# figure 1 (PORT: 18081 this proxy, 18082 HAProxy, 18080 direct), pinned with taskset -c CLIENT_CPUS
{text['wrk_ka']}
# figure 2
{text['wrk_close']}
# figure 3
{text['wrk_big']}
# figure 4
{text['wrk_lat']}
# figure 8: figures 1-2's loads on CPUs {meta.get('scale_cpus')} with 1, then {meta.get('scale_workers')} workers (nbproc, cpu-map auto) / nbthread 1, then {meta.get('scale_workers')}
# figure 5 (each mode, fresh instances)
python3 perf/lib/holdconns.py --port PORT -n {hold} --hold 120
# figure 7 (three instances per side, `option http-server-close`, one client per instance)
python3 perf/lib/holdconns.py --port PORT -n {int(many or 0) // 2} --hold 180
```

## Configurations

this proxy:
```
{text['proxy_cfg']}
```
HAProxy:
```
{text['haproxy_cfg']}
```
nginx origin:
```
{text['nginx_cfg']}
```
"""
with open(a.out, "w") as f:
    f.write(out)

#!/usr/bin/env bash
# Side-by-side benchmarks: this proxy vs HAProxy vs the origin alone ("direct"). See perf/README.md.
#
# usage: ./build.sh bench [--quick]     (builds first), or perf/bench.sh [options] after ./build.sh
#   --quick            ~2 minutes: 2 s runs, 2,000 held connections, 6 s reload bench
#   --mode tcp|http    the proxies' mode (default tcp: the HTTP workloads are tunnelled)
#   --rounds N         runs of each workload per side, alternated (default 3; median reported)
#   --duration S       seconds per wrk run (default 5)
#   --conns N          idle connections for the memory figure, http and tcp (default 4000)
#   --many N           sessions held at once by three instances of each proxy, figure 7 (default 20000; 0: skip)
#   --out FILE         results file (default perf/results/<date>-<host>[-quick].md)
#   --skip-reload      --skip-board       leave out figure 6 / the stats board micro-benchmark
#   --only W[,W...]    A/B mode while optimizing: only these workloads of figures 1-4 (ka, close, big,
#                      lat) and, with `mem`, figure 5, with `many`, figure 7, with `scale`, figure 8; prints the
#                      medians, writes no results file
# env: PROXY_CPUS ORIGIN_CPUS CLIENT_CPUS DIRECT_CLIENT_CPUS WORKERS MAXCONN, ports
#      BENCH_ORIGIN_PORT (18080) BENCH_PROXY_PORT (18081) BENCH_HAPROXY_PORT (18082).
set -euo pipefail
QUICK=0 ROUNDS=3 DURATION=5 HOLD=4000 HELD_MANY=20000 RELOAD_SECS=15 BOARD_SECS=1 OUT="" SKIP_RELOAD=0 SKIP_BOARD=0 ONLY=""
ARGS="$*"
while (( $# )); do
    case $1 in
        --quick) QUICK=1 DURATION=2 HOLD=2000 HELD_MANY=4000 RELOAD_SECS=6 BOARD_SECS=0.3; shift ;;
        --mode) MODE=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --conns) HOLD=$2; shift 2 ;;
        --many) HELD_MANY=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --skip-reload) SKIP_RELOAD=1; shift ;;
        --skip-board) SKIP_BOARD=1; shift ;;
        --only) ONLY=",$2,"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
source "$(dirname "$0")/lib/common.sh"
[[ $MODE == tcp || $MODE == http ]] || die "--mode tcp|http"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081} HPORT=${BENCH_HAPROXY_PORT:-18082}
HOST=$(hostname -s)
SUFFIX=""; ((QUICK)) && SUFFIX=-quick
[[ -n $OUT ]] || OUT=$PERF/results/$(date -u +%F)-$HOST$SUFFIX.md
WORK=$(mktemp -d /tmp/proxy-bench.XXXXXX)
TSV=$WORK/results.tsv
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
: >"$TSV"
BEGAN=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "bench: mode $MODE, $ROUNDS rounds x ${DURATION}s, $HOLD held connections; proxy CPUs $PROXY_CPUS, origin $ORIGIN_CPUS, client $CLIENT_CPUS (direct: $DIRECT_CLIENT_CPUS)"

start_origin "$OPORT"
start_proxy bench "$PPORT" "$OPORT"
start_haproxy bench "$HPORT" "$OPORT"

port_of() { case $1 in proxy) echo "$PPORT" ;; haproxy) echo "$HPORT" ;; direct) echo "$OPORT" ;; esac; }
cpus_of() { [[ $1 == direct ]] && echo "$DIRECT_CLIENT_CPUS" || echo "$CLIENT_CPUS"; }
pid_of() { case $1 in proxy) proxy_pid bench ;; haproxy) haproxy_pid bench ;; direct) cat "$WORK/origin-$OPORT/nginx.pid" ;; esac; }

# The workloads. LAT_CONNS connections each waiting a random 0..2*LAT_DELAY_MS ms before each request.
LAT_CONNS=${LAT_CONNS:-20} LAT_DELAY_MS=${LAT_DELAY_MS:-5}
wrk_args() { # wrk_args WORKLOAD PORT
    local u=http://127.0.0.1:$2
    local base=${1%_scaled}
    case ${base%_one} in
        ka) echo "-t1 -c50 -d${DURATION}s -s $PERF/lib/report.lua $u/small" ;;
        close) echo "-t1 -c50 -d${DURATION}s -s $PERF/lib/report.lua $u/small -- close" ;;
        big) echo "-t1 -c10 -d${DURATION}s -s $PERF/lib/report.lua $u/big" ;;
        lat) echo "-t1 -c$LAT_CONNS -d${DURATION}s -s $PERF/lib/paced.lua $u/small -- $LAT_DELAY_MS" ;;
    esac
}

record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"; } # side round workload metric value

run_one() { # run_one SIDE ROUND WORKLOAD
    local side=$1 round=$2 w=$3 pid t0 t1 r
    pid=$(pid_of "$side")
    t0=$(cpu_ticks "$pid")
    local cs0 cs1 nthreads
    cs0=$(ctx_switches "$pid")
    # shellcheck disable=SC2046
    r=$(wrk_run "$(cpus_of "$side")" "$WORK/wrk-$side-$w-$round.out" $(wrk_args "$w" "$(port_of "$side")"))
    t1=$(cpu_ticks "$pid")
    cs1=$(ctx_switches "$pid")
    nthreads=$(threads "$pid")
    [[ -n $r ]] || die "wrk gave no result ($side $w): $(tail -5 "$WORK/wrk-$side-$w-$round.out")"
    local req dur bytes errs=0
    req=$(field requests "$r") dur=$(field duration_us "$r") bytes=$(field bytes "$r")
    for k in err_connect err_read err_write err_timeout err_status; do errs=$((errs + $(field $k "$r"))); done
    record "$side" "$round" "$w" rps "$(awk -v n="$req" -v d="$dur" 'BEGIN { printf "%.1f", n * 1e6 / d }')"
    record "$side" "$round" "$w" mbps "$(awk -v n="$bytes" -v d="$dur" 'BEGIN { printf "%.2f", n / d }')"
    record "$side" "$round" "$w" p50_ms "$(awk -v v="$(field p50_us "$r")" 'BEGIN { printf "%.3f", v / 1000 }')"
    record "$side" "$round" "$w" p99_ms "$(awk -v v="$(field p99_us "$r")" 'BEGIN { printf "%.3f", v / 1000 }')"
    record "$side" "$round" "$w" errors "$errs"
    # CPU the side's processes used per request (direct: the origin's), in microseconds.
    record "$side" "$round" "$w" cpu_us "$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$req" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')"
    # Context switches of the side's processes (all threads) per 1,000 requests, and how many threads they run.
    record "$side" "$round" "$w" csw_vol_per_kreq "$(awk -v a="${cs0% *}" -v b="${cs1% *}" -v n="$req" 'BEGIN { printf "%.1f", n ? (b - a) * 1000 / n : 0 }')"
    record "$side" "$round" "$w" csw_invol_per_kreq "$(awk -v a="${cs0#* }" -v b="${cs1#* }" -v n="$req" 'BEGIN { printf "%.1f", n ? (b - a) * 1000 / n : 0 }')"
    record "$side" "$round" "$w" threads "$nthreads"
    log "  round $round $w $side: $(awk -v n="$req" -v d="$dur" 'BEGIN { printf "%.0f req/s", n * 1e6 / d }'), p99 $(field p99_us "$r") us, $errs errors, CPU $(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$req" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }') us/request"
}

# Warm-up (not recorded): every side serves once before measuring.
for side in proxy haproxy direct; do
    pin "$(cpus_of $side)" wrk -t1 -c10 -d1s "http://127.0.0.1:$(port_of $side)/small" >/dev/null 2>&1 || true
done

# Figures 1-4: rounds alternate the sides (A B C, then B C A, ...), so drift on a shared box spreads evenly.
sides=(proxy haproxy direct)
for round in $(seq 1 "$ROUNDS"); do
    for w in ka close big lat; do
        [[ -z $ONLY || $ONLY == *",$w,"* ]] || continue
        for i in 0 1 2; do
            run_one "${sides[$(( (i + round - 1) % 3 ))]}" "$round" "$w"
        done
    done
done

# Figure 5: memory per idle keep-alive session, in `mode http` and in `mode tcp` whatever --mode says, on freshly
# started instances, --rounds times per side (the sides alternated), median reported.
stop_proxy bench; stop_haproxy bench
measure_memory() { # measure_memory SIDE MODE ROUND: one reading of figure 5
    local side=$1 mmode=$2 round=$3 w=mem_$2 pid idle held opened failed hp
    if [[ $side == proxy ]]; then MODE=$mmode start_proxy bench "$PPORT" "$OPORT"; else MODE=$mmode start_haproxy bench "$HPORT" "$OPORT"; fi
    pin "$CLIENT_CPUS" wrk -t1 -c10 -d1s "http://127.0.0.1:$(port_of "$side")/small" >/dev/null 2>&1 || true
    # Both readings are taken after 3 s without traffic: a quiet worker of this proxy gives back the memory a burst
    # left committed within 1-2 s (worker/MemoryTrimmer.cs); HAProxy is read after the same wait.
    sleep 3
    pid=$(pid_of "$side")
    idle=$(rss_kb "$pid")
    local attempt rc
    for attempt in 1 2; do
        pin "$CLIENT_CPUS" python3 "$PERF/lib/holdconns.py" --port "$(port_of "$side")" -n "$HOLD" --hold 120 \
            >"$WORK/hold-$side.out" 2>"$WORK/hold-$side.err" &
        hp=$!
        _started_pids+=("$hp")
        for _ in $(seq 600); do grep -qs READY "$WORK/hold-$side.out" && break; kill -0 "$hp" 2>/dev/null || break; sleep 0.1; done
        grep -q READY "$WORK/hold-$side.out" && break
        rc=0; wait "$hp" 2>/dev/null || rc=$?
        # Seen once on the shared box (the client exited at once, nothing on stderr): one more try after a pause.
        (( attempt == 1 )) || die "holdconns did not get ready (exit $rc): $(cat "$WORK/hold-$side.out" "$WORK/hold-$side.err")"
        log "  holdconns exited ($rc) before it was ready; trying again"
        sleep 5
    done
    sleep 3
    held=$(rss_kb "$pid")
    opened=$(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$WORK/hold-$side.out")
    failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$WORK/hold-$side.out")
    kill "$hp" 2>/dev/null || true; wait "$hp" 2>/dev/null || true
    record "$side" "$round" "$w" idle_kb "$idle"
    record "$side" "$round" "$w" held_kb "$held"
    record "$side" "$round" "$w" opened "$opened"
    record "$side" "$round" "$w" failed "$failed"
    record "$side" "$round" "$w" per_conn_b "$(awk -v a="$idle" -v b="$held" -v n="$opened" 'BEGIN { printf "%.0f", n ? (b - a) * 1024 / n : 0 }')"
    log "  memory $mmode round $round $side: idle $idle kB, $opened connections held: $held kB ($failed failed), $(awk -v a="$idle" -v b="$held" -v n="$opened" 'BEGIN { printf "%.0f", n ? (b - a) * 1024 / n : 0 }') B each"
    if [[ $side == proxy ]]; then stop_proxy bench; else stop_haproxy bench; fi
}
if [[ -z $ONLY || $ONLY == *",mem,"* ]]; then
    for mmode in http tcp; do
        for round in $(seq 1 "$ROUNDS"); do
            if (( round % 2 )); then order=(proxy haproxy); else order=(haproxy proxy); fi
            for side in "${order[@]}"; do measure_memory "$side" "$mmode" "$round"; done
        done
    done
fi

# Figure 7: HELD_MANY idle sessions at once (default 20,000). The open-file limit here is 20,000 per process, hard
# (ulimit -Hn; root cannot raise it in this container), and a proxied keep-alive session costs the proxy 2 descriptors,
# so no single process of either proxy can hold 20,000: each side runs MANY_INSTANCES instances (this proxy: supervisor
# + 1 worker; HAProxy: master + 1 thread) with `option http-server-close` (HAProxy 4.2: the server connection closes
# after each response; the client connection stays open), so a session holds 1 descriptor in the proxy and none in
# nginx, and each instance holds its share. One holdconns.py per instance. Memory = RSS of all instances (held - idle), per session.
measure_many() { # measure_many SIDE
    local side=$1 n=$MANY_INSTANCES i port base pids=() idle=0 held=0 opened=0 failed=0 hp hps=() each
    each=$(( (HELD_MANY + n - 1) / n ))
    base=$MANY_HAPROXY_PORT; [[ $side == proxy ]] && base=$MANY_PROXY_PORT
    for i in $(seq 0 $((n - 1))); do
        port=$((base + i))
        if [[ $side == proxy ]]; then MODE=http MAXCONN=$((each + 300)) EXTRA_DEFAULTS="option http-server-close" start_proxy "many$i" "$port" "$OPORT"
        else MODE=http MAXCONN=$((each + 300)) EXTRA_DEFAULTS="option http-server-close" start_haproxy "many$i" "$port" "$OPORT"; fi
        pin "$CLIENT_CPUS" wrk -t1 -c10 -d1s "http://127.0.0.1:$port/small" >/dev/null 2>&1 || true
    done
    sleep 3
    for i in $(seq 0 $((n - 1))); do
        if [[ $side == proxy ]]; then pids+=("$(proxy_pid "many$i")"); else pids+=("$(haproxy_pid "many$i")"); fi
        idle=$((idle + $(rss_kb "${pids[$i]}")))
    done
    for i in $(seq 0 $((n - 1))); do
        port=$((base + i))
        pin "$CLIENT_CPUS" python3 "$PERF/lib/holdconns.py" --port "$port" -n "$each" --hold 180 \
            >"$WORK/many-$side-$i.out" 2>"$WORK/many-$side-$i.err" &
        hp=$!; hps+=("$hp"); _started_pids+=("$hp")
    done
    for i in $(seq 0 $((n - 1))); do
        for _ in $(seq 1200); do grep -qs READY "$WORK/many-$side-$i.out" && break; kill -0 "${hps[$i]}" 2>/dev/null || break; sleep 0.1; done
        grep -q READY "$WORK/many-$side-$i.out" || die "holdconns did not get ready: $(cat "$WORK/many-$side-$i.err")"
    done
    sleep 3
    for i in $(seq 0 $((n - 1))); do
        held=$((held + $(rss_kb "${pids[$i]}")))
        opened=$((opened + $(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$WORK/many-$side-$i.out")))
        failed=$((failed + $(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$WORK/many-$side-$i.out")))
    done
    for hp in "${hps[@]}"; do kill "$hp" 2>/dev/null || true; wait "$hp" 2>/dev/null || true; done
    record "$side" 1 many idle_kb "$idle"
    record "$side" 1 many held_kb "$held"
    record "$side" 1 many opened "$opened"
    record "$side" 1 many failed "$failed"
    record "$side" 1 many per_conn_b "$(awk -v a="$idle" -v b="$held" -v n="$opened" 'BEGIN { printf "%.0f", n ? (b - a) * 1024 / n : 0 }')"
    log "  $opened sessions held by $side ($failed failed): RSS $idle kB idle, $held kB held"
    for i in $(seq 0 $((n - 1))); do if [[ $side == proxy ]]; then stop_proxy "many$i"; else stop_haproxy "many$i"; fi; done
}
MANY_PROXY_PORT=${BENCH_MANY_PROXY_PORT:-18083} MANY_HAPROXY_PORT=${BENCH_MANY_HAPROXY_PORT:-18093}
# HAProxy sizes its descriptors as 2 per maxconn whatever the options (maxconn 10,500 -> 21,037: "Cannot raise FD
# limit ... limit is 20000", fatal), so one instance holds at most ~9,980: three instances per side, 6,667 each.
MANY_INSTANCES=${BENCH_MANY_INSTANCES:-3}
if (( HELD_MANY > 0 )) && [[ -z $ONLY || $ONLY == *",many,"* ]]; then
    for side in proxy haproxy; do measure_many "$side"; done
fi

# Figure 8: scaling (issue 15: CPU per request must not rise from 1 to 2 workers). The keep-alive and `Connection:
# close` loads of figures 1-2 again on SCALE_CPUS, first with one worker (this proxy) against nbthread 1 (HAProxy),
# then with SCALE_WORKERS workers (nbproc + cpu-map) against nbthread SCALE_WORKERS: fresh instances, the sides
# alternated per round, the same CPUs for both counts, so that the rise is the workers' own. On a 2-core box wrk and
# nginx share those CPUs with the proxy; the figure to read is each side's rise, side by side. A 16-core machine runs
# 1-16 the same way (BENCH_SCALE_WORKERS, BENCH_SCALE_CPUS, PROXY_CPUS/ORIGIN_CPUS/CLIENT_CPUS apart).
SCALE_WORKERS=${BENCH_SCALE_WORKERS:-2} SCALE_CPUS=${BENCH_SCALE_CPUS:-0-$((NCPU - 1))}
if (( SCALE_WORKERS > 1 && NCPU > 1 )) && [[ -z $ONLY || $ONLY == *",scale,"* ]]; then
    for count in 1 "$SCALE_WORKERS"; do
        suffix=one; (( count > 1 )) && suffix=scaled
        log "scaling: $count worker(s) / thread(s) on CPUs $SCALE_CPUS"
        WORKERS=$count PROXY_CPUS=$SCALE_CPUS start_proxy bench "$PPORT" "$OPORT"
        WORKERS=$count PROXY_CPUS=$SCALE_CPUS start_haproxy bench "$HPORT" "$OPORT"
        for side in proxy haproxy; do pin "$CLIENT_CPUS" wrk -t1 -c10 -d1s "http://127.0.0.1:$(port_of $side)/small" >/dev/null 2>&1 || true; done
        for round in $(seq 1 "$ROUNDS"); do
            if (( round % 2 )); then order=(proxy haproxy); else order=(haproxy proxy); fi
            for w in ka close; do for side in "${order[@]}"; do run_one "$side" "$round" "${w}_$suffix"; done; done
        done
        stop_proxy bench; stop_haproxy bench
    done
fi

if [[ -n $ONLY ]]; then
    # A/B mode: the median of each recorded figure per side, no results file.
    log "medians (--only ${ONLY//,/ }):"
    python3 - "$TSV" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, _, workload, metric, value = line.rstrip("\n").split("\t")
    runs[(workload, metric, side)].append(float(value))
for workload, metric in sorted({(w, m) for w, m, _ in runs}):
    cells = [f"{side}={statistics.median(runs[(workload, metric, side)]):g}"
             for side in ("proxy", "haproxy", "direct") if runs[(workload, metric, side)]]
    print(f"{workload} {metric}: " + "  ".join(cells))
PY
    exit 0
fi

# Figure 6: reload under load (its own instances and ports).
RELOAD_TABLE=""
if (( ! SKIP_RELOAD )); then
    log "reload under load (perf/reload-bench.sh --duration $RELOAD_SECS)"
    RELOAD_TABLE=$(MODE=$MODE "$PERF/reload-bench.sh" --duration "$RELOAD_SECS" --tsv "$TSV")
fi

# The stats board micro-benchmark, against the CPU one keep-alive request costs this proxy (figure 1).
BOARD_OUT=""
if (( ! SKIP_BOARD )); then
    req_ns=$(awk -F'\t' '$1 == "proxy" && $3 == "ka" && $4 == "cpu_us" {print $5 * 1000}' "$TSV" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
    log "stats board micro-benchmark (request cost ${req_ns} ns)"
    BOARD_OUT=$(cd "$ROOT" && dotnet run -c Release --project perf/BoardBench -- --request-ns "$req_ns" --seconds "$BOARD_SECS" 2>&1) || BOARD_OUT="board-bench failed: $BOARD_OUT"
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$(dirname "$OUT")"
python3 "$PERF/lib/report.py" --tsv "$TSV" --out "$OUT" \
    --meta "command=./build.sh bench $ARGS" --meta "mode=$MODE" --meta "rounds=$ROUNDS" --meta "duration=$DURATION" \
    --meta "hold=$HOLD" --meta "many=$HELD_MANY" --meta "reload_secs=$RELOAD_SECS" --meta "workers=$WORKERS" --meta "scale_workers=$SCALE_WORKERS" --meta "scale_cpus=$SCALE_CPUS" \
    --meta "proxy_cpus=$PROXY_CPUS" --meta "origin_cpus=$ORIGIN_CPUS" --meta "client_cpus=$CLIENT_CPUS" \
    --meta "direct_client_cpus=$DIRECT_CLIENT_CPUS" --meta "lat_conns=$LAT_CONNS" --meta "lat_delay_ms=$LAT_DELAY_MS" \
    --meta "load_before=$LOAD_BEFORE" --meta "load_after=$LOAD_AFTER" --meta "elapsed_s=$((SECONDS - BEGAN))" \
    --meta "ports=origin $OPORT, proxy $PPORT, haproxy $HPORT" \
    --text "wrk_ka=wrk $(wrk_args ka PORT)" --text "wrk_close=wrk $(wrk_args close PORT)" \
    --text "wrk_big=wrk $(wrk_args big PORT)" --text "wrk_lat=wrk $(wrk_args lat PORT)" \
    --text "proxy_cfg=$(cat "$(proxy_cfg bench)")" --text "haproxy_cfg=$(cat "$(haproxy_cfg bench)")" \
    --text "nginx_cfg=$(grep -v '^\s*#' "$WORK/origin-$OPORT/nginx.conf")" \
    --text "reload=$RELOAD_TABLE" --text "board=$BOARD_OUT" \
    --text "haproxy_start=taskset -c $PROXY_CPUS haproxy -W -D -S WORK/haproxy-bench-master.sock -f WORK/haproxy-bench.cfg" \
    --text "proxy_start=taskset -c $PROXY_CPUS artifacts/bin/proxyctl start -f WORK/proxy-bench.cfg" \
    --text "origin_start=taskset -c $ORIGIN_CPUS nginx -p WORK/origin-$OPORT -c WORK/origin-$OPORT/nginx.conf"
log "results: $OUT ($((SECONDS - BEGAN)) s)"
cat "$OUT"

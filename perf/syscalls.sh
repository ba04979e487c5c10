#!/usr/bin/env bash
# Syscalls per request, this proxy's worker against HAProxy's worker: `strace -c -f -p PID` attached during one wrk run
# per side and workload (keep-alive, `Connection: close`), the counts divided by the requests wrk made; also the worker's
# minor page faults per request (/proc/PID/stat: memory touched for the first time, e.g. fresh GC heap). See perf/README.md.
# usage: perf/syscalls.sh [--mode http|tcp] [--duration S] [--conns N]      (after ./build.sh; BIN=... for another build)
set -euo pipefail
DURATION=3 CONNS=10
while (( $# )); do
    case $1 in
        --mode) MODE=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --conns) CONNS=$2; shift 2 ;;
        -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
: "${MODE:=http}"
source "$(dirname "$0")/lib/common.sh"
command -v strace >/dev/null || die "strace missing (apt-get install strace)"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081} HPORT=${BENCH_HAPROXY_PORT:-18082}
WORK=$(mktemp -d /tmp/proxy-syscalls.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
start_origin "$OPORT"
start_proxy sys "$PPORT" "$OPORT"
start_haproxy sys "$HPORT" "$OPORT"
for side in proxy haproxy; do
    port=$PPORT; [[ $side == haproxy ]] && port=$HPORT
    pin "$CLIENT_CPUS" wrk -t1 -c10 -d1s "http://127.0.0.1:$port/small" >/dev/null 2>&1 || true
done
for w in ka close; do
    for side in proxy haproxy; do
        if [[ $side == proxy ]]; then port=$PPORT pid=$(worker_of "$(proxy_pid sys)"); else port=$HPORT pid=$(worker_of "$(haproxy_pid sys)"); fi
        extra=(); [[ $w == close ]] && extra=(-H "Connection: close")
        f0=$(awk '{print $10}' "/proc/$pid/stat")
        strace -c -f -p "$pid" -o "$WORK/strace-$side-$w.txt" &
        sp=$!
        sleep 1
        r=$(wrk_run "$CLIENT_CPUS" "$WORK/wrk-$side-$w.out" -t1 -c"$CONNS" -d"${DURATION}s" "${extra[@]}" -s "$PERF/lib/report.lua" "http://127.0.0.1:$port/small")
        kill -INT "$sp"; wait "$sp" 2>/dev/null || true
        f1=$(awk '{print $10}' "/proc/$pid/stat")
        req=$(field requests "$r")
        echo "== $side $w: $req requests; syscalls per request (strace -c -f -p worker)"
        awk -v n="$req" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" { printf "  %-16s %6.2f\n", $NF, $4 / n; t += $4 }
            END { printf "  %-16s %6.2f\n", "total", t / n }' "$WORK/strace-$side-$w.txt"
        awk -v n="$req" -v f=$((f1 - f0)) 'BEGIN { printf "  %-16s %6.3f\n", "(minor faults)", f / n }'
    done
done

#!/usr/bin/env bash
# Managed bytes the worker allocates per request, and gen0 collections per 1,000 requests (perf/README.md, "pooled
# sessions"), from two PROXY_HEAP_REPORT readings (worker/HeapReport.cs) around one wrk run of this proxy alone.
#
# usage: perf/alloc.sh [--load close|ka] [--duration S]      after ./build.sh; BIN=DIR for another build
set -euo pipefail
LOAD=close DURATION=3
while (( $# )); do
    case $1 in
        --load) LOAD=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http
source "$(dirname "$0")/lib/common.sh"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081}
WORK=$(mktemp -d /tmp/proxy-alloc.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
# The worker writes a line after each trim (MemoryTrimmer), which runs once it had no traffic for the check period.
export PROXY_HEAP_REPORT=$WORK/heap.txt PROXY_TRIM_CHECK_MS=300
start_origin "$OPORT"
start_proxy alloc "$PPORT" "$OPORT"
extra=(); [[ $LOAD == close ]] && extra=(-- close)
url=http://127.0.0.1:$PPORT/small
reports() { [[ -s $WORK/heap.txt ]] && wc -l <"$WORK/heap.txt" || echo 0; }
reading_after() { # reading_after N: waits (10 s at most) for report line N+1, echoes the last line
    for _ in $(seq 100); do
        (( $(reports) > $1 )) && { tail -1 "$WORK/heap.txt"; return; }
        sleep 0.1
    done
    die "no heap report from the worker (PROXY_HEAP_REPORT; a trim needs 2 MiB allocated since the last: try a longer --duration)"
}
# Warm-up, the measured load's own: pools filled, and a first trim due once it stops.
wrk_run "$CLIENT_CPUS" "$WORK/warm.out" -t1 -c50 -d2s -s "$PERF/lib/report.lua" "$url" "${extra[@]}" >/dev/null
before=$(reading_after 0)
seen=$(reports)
r=$(wrk_run "$CLIENT_CPUS" "$WORK/wrk.out" -t1 -c50 -d"${DURATION}"s -s "$PERF/lib/report.lua" "$url" "${extra[@]}")
after=$(reading_after "$seen")
requests=$(field requests "$r")
[[ -n $requests && $requests -gt 0 ]] || die "wrk made no request"
# Each reading follows the trim's own blocking collection, which counts as a gen0 one too: one is taken off.
awk -v n="$requests" -v a0="$(field allocated "$before")" -v a1="$(field allocated "$after")" \
    -v g0="$(field gen0 "$before")" -v g1="$(field gen0 "$after")" -v load="$LOAD" \
    'BEGIN {printf "%s: %d requests, %.0f bytes allocated per request, %.3f gen0 collections per 1,000 requests\n", load, n, (a1 - a0) / n, (g1 - g0 - 1) * 1000 / n}'

#!/usr/bin/env bash
# How often each proxy's worker sleeps and wakes per request, this proxy against HAProxy: kernel tracepoints counted by
# `perf stat -e ... -p PID` during one wrk run per side and round (no strace, so the load keeps its pace): epoll_wait
# calls, scheduler switches away from the worker's threads (each a sleep in epoll_wait or a futex, or a preemption),
# futex calls and all syscalls, each divided by the requests wrk made; and each CPU's idle time over the run (/proc/stat).
# A loop that sleeps more often per request pays the scheduler's switch more often (perf/README.md, "seventeenth session").
# usage: perf/wakeups.sh [--load close|ka] [--rounds N] [--duration S]      (after ./build.sh; BIN=... for another build)
set -euo pipefail
LOAD=close ROUNDS=2 DURATION=4
while (( $# )); do
    case $1 in
        --load) LOAD=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http
source "$(dirname "$0")/lib/common.sh"
[[ $LOAD == close || $LOAD == ka ]] || die "--load close|ka"
command -v perf >/dev/null || die "perf missing (apt-get install linux-perf)"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081} HPORT=${BENCH_HAPROXY_PORT:-18082}
WORK=$(mktemp -d /tmp/proxy-wakeups.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
start_origin "$OPORT"
start_proxy wake "$PPORT" "$OPORT"
start_haproxy wake "$HPORT" "$OPORT"
events=syscalls:sys_enter_epoll_wait,sched:sched_switch,syscalls:sys_enter_futex,raw_syscalls:sys_enter
extra=(); [[ $LOAD == close ]] && extra=(-- close)
idle() { awk '/^cpu[0-9]+ / { printf "%s=%s ", $1, $5 + $6 } END { print "" }' /proc/stat; }
for side in proxy haproxy; do
    port=$PPORT; [[ $side == haproxy ]] && port=$HPORT
    pin "$CLIENT_CPUS" wrk -t1 -c50 -d1s -s "$PERF/lib/report.lua" "http://127.0.0.1:$port/small" "${extra[@]}" >/dev/null 2>&1 || true
done
for r in $(seq "$ROUNDS"); do
    order="proxy haproxy"; (( r % 2 == 0 )) && order="haproxy proxy"
    for side in $order; do
        if [[ $side == proxy ]]; then port=$PPORT pid=$(worker_of "$(proxy_pid wake)"); else port=$HPORT pid=$(worker_of "$(haproxy_pid wake)"); fi
        [[ -n $pid ]] || die "round $r, $side: no worker process"
        i0=$(idle)
        # wrk is perf's command: the counting starts before the load and ends with it (-p: only the worker is counted).
        out=$(perf stat -e "$events" -p "$pid" -x, -o "$WORK/$side-$r.stat" -- \
            taskset -c "$CLIENT_CPUS" wrk -t1 -c50 -d"${DURATION}s" -s "$PERF/lib/report.lua" "http://127.0.0.1:$port/small" "${extra[@]}" \
            | grep RESULT || true)
        i1=$(idle)
        counted=$(grep -cE '^[0-9]+,' "$WORK/$side-$r.stat" 2>/dev/null) || counted=0
        (( counted == 4 )) || die "round $r, $side: perf stat counted nothing (root, or kernel.perf_event_paranoid=-1; tracepoints: $events)"
        req=$(field requests "$out")
        (( req > 0 )) || die "round $r, $side: wrk made no request"
        echo "== round $r, $side ($LOAD): $req requests in ${DURATION} s; per request:"
        awk -F, -v n="$req" '$1 ~ /^[0-9]+$/ { printf "  %-34s %7.3f\n", $3, $1 / n }' "$WORK/$side-$r.stat"
        # Idle time of each CPU over the run, in clock ticks (USER_HZ); on two CPUs, the proxy's and the client's (wrk, nginx).
        awk -v a="$i0" -v b="$i1" -v hz="$(getconf CLK_TCK)" -v s="$DURATION" 'BEGIN {
            n = split(a, x, " "); split(b, y, " ")
            for (i = 1; i <= n; i++) { split(x[i], p, "="); split(y[i], q, "="); printf "  idle %-5s %4d of %d ticks\n", p[1], q[2] - p[2], hz * s } }'
    done
done

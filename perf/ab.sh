#!/usr/bin/env bash
# Paired A/B of two builds of this proxy, or of one build under two environments: the worker's CPU per request (its
# process CPU clock, in ns, so no 10 ms tick rounds it). The two sides run in turn within each round, the
# order changing every round; then both instances are restarted on each other's port and in the other start order,
# and the rounds run again: two identical builds read up to 7% apart by placement alone, most often the one started
# first (on 18181) the cheaper (perf/README.md, "eighteenth session"), and swapping cancels that. Prints every run,
# each side's median, and A/B: the mean of the two placements' geometric means of their paired ratios, with its 95%
# interval (Student's t, Welch's degrees of freedom); a change shows when the interval excludes 1.
#
# usage: perf/ab.sh [--a DIR] [--b DIR] [--a-env VAR=VALUE] [--b-env VAR=VALUE] [--load close|ka] [--rounds N] [--duration S]
#   DIR: a build's bin folder (proxyctl, proxy-supervisor, proxy-worker), default artifacts/bin; --rounds per
#   placement, at least 2 (default 10); --duration of each run in seconds (default 3)
set -euo pipefail
A_BIN="" B_BIN="" A_ENV="" B_ENV="" LOAD=close ROUNDS=10 DURATION=3
while (( $# )); do
    case $1 in
        --a) A_BIN=${2-}; shift 2 ;;
        --b) B_BIN=${2-}; shift 2 ;;
        --a-env) A_ENV=${2-}; shift 2 ;;
        --b-env) B_ENV=${2-}; shift 2 ;;
        --load) LOAD=${2-}; shift 2 ;;
        --rounds) ROUNDS=${2-}; shift 2 ;;
        --duration) DURATION=${2-}; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http WORKERS=1   # one worker per instance: the CPU read is that worker's
source "$(dirname "$0")/lib/common.sh"
A_BIN=${A_BIN:-$BIN} B_BIN=${B_BIN:-$BIN}
BIN=$A_BIN   # ensure_tools and the EXIT trap's cleanup use a build that exists
for d in "$A_BIN" "$B_BIN"; do
    for f in proxyctl proxy-supervisor proxy-worker; do [[ -x $d/$f ]] || die "$d: no $f, not a build's bin folder (--help)"; done
done
for e in "$A_ENV" "$B_ENV"; do [[ -z $e || $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--a-env/--b-env: VAR=VALUE, not $e"; done
[[ $LOAD == close || $LOAD == ka ]] || die "--load close|ka"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] && (( ROUNDS >= 2 )) || die "--rounds: a number, at least 2"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "--duration: whole seconds"
OPORT=${BENCH_ORIGIN_PORT:-18080}
WORK=$(mktemp -d /tmp/proxy-ab.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
start_origin "$OPORT"
close_args=(); [[ $LOAD == close ]] && close_args=(-- close)

# worker_cpu_ns PID: the process's CPU time in ns, every thread's, those that ended included (its process CPU clock,
# MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)); fails once the process is gone.
worker_cpu_ns() {
    python3 -c 'import sys, time; print(time.clock_gettime_ns(((~int(sys.argv[1])) << 3) | 2))' "$1" 2>/dev/null
}

# start_with NAME PORT BIN ENV: one instance, ENV (VAR=VALUE or empty) in its environment and its workers' only
# (local -x: the caller's own value, if any, comes back after the call).
start_with() {
    [[ -n $4 ]] && local -x "$4"
    BIN=$3 start_proxy "$1" "$2" "$OPORT"
}

# placement P FIRST_SIDE SECOND_SIDE: FIRST_SIDE starts first, on 18181; adds "P ROUND SIDE US_PER_REQUEST" lines to
# $WORK/runs (not in a pipeline: cleanup must see the instances it starts).
placement() {
    local p=$1 first=$2 second=$3 r s before after n out errors
    declare -A dir=([A]=$A_BIN [B]=$B_BIN) env=([A]=$A_ENV [B]=$B_ENV) port=([$first]=18181 [$second]=18183) pid
    for s in "$first" "$second"; do
        start_with "p$p$s" "${port[$s]}" "${dir[$s]}" "${env[$s]}"
        pid[$s]=$(worker_of "$(proxy_pid "p$p$s")")
        [[ -n ${pid[$s]} ]] || die "placement $p, $s: no worker under $(proxy_pid "p$p$s")"
        wrk_run "$CLIENT_CPUS" "$WORK/warm.out" -t1 -c50 -d2s -s "$PERF/lib/report.lua" "http://127.0.0.1:${port[$s]}/small" "${close_args[@]}" >/dev/null
    done
    for r in $(seq "$ROUNDS"); do
        for s in $( (( r % 2 )) && echo "$first $second" || echo "$second $first"); do
            before=$(worker_cpu_ns "${pid[$s]}") || die "placement $p round $r, $s: worker ${pid[$s]} is gone"
            out=$(wrk_run "$CLIENT_CPUS" "$WORK/run.out" -t1 -c50 -d"${DURATION}s" -s "$PERF/lib/report.lua" \
                "http://127.0.0.1:${port[$s]}/small" "${close_args[@]}")
            after=$(worker_cpu_ns "${pid[$s]}") || die "placement $p round $r, $s: worker ${pid[$s]} is gone"
            [[ $out == *err_status=* ]] || die "placement $p round $r, $s: wrk gave no result: $(cat "$WORK/run.out")"
            n=$(field requests "$out")
            errors=$(( $(field err_connect "$out") + $(field err_read "$out") + $(field err_write "$out") \
                + $(field err_timeout "$out") + $(field err_status "$out") ))
            [[ -n $n && $n -gt 0 && $errors == 0 ]] || die "placement $p round $r, $s: the run failed ($errors errors): $(cat "$WORK/run.out")"
            awk -v p="$p" -v r="$r" -v s="$s" -v c=$((after - before)) -v n="$n" \
                'BEGIN {printf "%s %s %s %.2f\n", p, r, s, c / 1000 / n}' | tee -a "$WORK/runs" >&2
        done
    done
    BIN=${dir[$first]} stop_proxy "p$p$first"
    BIN=${dir[$second]} stop_proxy "p$p$second"
}

log "A: $A_BIN ${A_ENV:-}; B: $B_BIN ${B_ENV:-}; $LOAD, $ROUNDS rounds of ${DURATION}s per placement"
placement 1 A B
placement 2 B A
python3 - "$WORK/runs" <<'PY'
import math, statistics as st, sys
rows = [line.split() for line in open(sys.argv[1])]
rounds = {}
for p, r, side, us in rows:
    rounds.setdefault((p, r), {})[side] = float(us)
# Each placement's own paired log ratios: the placement's offset (which instance started first) is not noise, so the
# estimate is the mean of the two placements' means, and its error combines their two spreads.
logs = {q: [math.log(v["A"] / v["B"]) for (p, _), v in rounds.items() if p == q and len(v) == 2] for q in "12"}
mean = (st.mean(logs["1"]) + st.mean(logs["2"])) / 2
a, b = (st.variance(logs[q]) / len(logs[q]) for q in "12")
se = math.sqrt(a + b) / 2
# Welch's degrees of freedom: the two placements' spreads need not be alike.
df = (a + b) ** 2 / (a * a / (len(logs["1"]) - 1) + b * b / (len(logs["2"]) - 1)) if a + b > 0 else len(logs["1"]) + len(logs["2"]) - 2
# Student's t, 97.5th percentile, for df degrees of freedom (the nearest tabulated df at or below it).
t_table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
           12: 2.179, 14: 2.145, 16: 2.120, 18: 2.101, 20: 2.086, 24: 2.064, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}
t = t_table[max(k for k in t_table if k <= df)]
for side in "AB":
    print(f"{side}: median {st.median(float(us) for _, _, s, us in rows if s == side):.2f} us CPU per request")
print(f"A/B: {math.exp(mean):.4f} (95% interval {math.exp(mean - t * se):.4f}-{math.exp(mean + t * se):.4f}), "
      f"{len(logs['1']) + len(logs['2'])} paired rounds; by placement (A started first, then B): "
      + ", ".join(f"{math.exp(st.mean(logs[q])):.4f}" for q in "12"))
PY

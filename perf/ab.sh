#!/usr/bin/env bash
# Paired A/B of two builds of this proxy, or of one build under two environments: the worker's CPU per request (its
# threads' schedstat run time, in ns, so no 10 ms tick rounds it). The two sides run in turn within each round, the
# order changing every round; then both instances are restarted on each other's port and in the other start order,
# and the rounds run again: an instance started first read up to 7% cheaper than an identical one started second
# (perf/README.md, "eighteenth session"), and swapping cancels that. Prints every run, each side's median, and the
# geometric mean of the paired rounds' ratios A/B with its 95% interval: a change shows when the interval excludes 1.
#
# usage: perf/ab.sh --a DIR --b DIR [--a-env VAR=VALUE] [--b-env VAR=VALUE] [--load close|ka] [--rounds N] [--duration S]
#   DIR: a build's bin folder (proxyctl, proxy-supervisor, proxy-worker), default artifacts/bin; --rounds per placement
set -euo pipefail
A_BIN="" B_BIN="" A_ENV="" B_ENV="" LOAD=close ROUNDS=10 DURATION=3
while (( $# )); do
    case $1 in
        --a) A_BIN=$2; shift 2 ;;
        --b) B_BIN=$2; shift 2 ;;
        --a-env) A_ENV=$2; shift 2 ;;
        --b-env) B_ENV=$2; shift 2 ;;
        --load) LOAD=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http
source "$(dirname "$0")/lib/common.sh"
A_BIN=${A_BIN:-$BIN} B_BIN=${B_BIN:-$BIN}
for d in "$A_BIN" "$B_BIN"; do [[ -x $d/proxy-worker ]] || die "$d: not a build's bin folder (--help)"; done
for e in "$A_ENV" "$B_ENV"; do [[ -z $e || $e == *=* ]] || die "--a-env/--b-env: VAR=VALUE"; done
[[ $LOAD == close || $LOAD == ka ]] || die "--load close|ka"
OPORT=${BENCH_ORIGIN_PORT:-18080}
WORK=$(mktemp -d /tmp/proxy-ab.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
start_origin "$OPORT"
close_args=(); [[ $LOAD == close ]] && close_args=(-- close)

# worker_cpu_ns PID: the run time of all the process's threads (schedstat's first field).
worker_cpu_ns() {
    local total=0 ns _ f
    for f in /proc/"$1"/task/*/schedstat; do read -r ns _ <"$f" && total=$((total + ns)); done
    echo "$total"
}

# start_with NAME PORT BIN ENV: one instance, ENV (VAR=VALUE or empty) set for it and its workers only.
start_with() {
    [[ -n $4 ]] && export "${4?}"
    BIN=$3 start_proxy "$1" "$2" "$OPORT"
    [[ -n $4 ]] && unset "${4%%=*}"
    return 0
}

# placement P FIRST_SIDE SECOND_SIDE: FIRST_SIDE starts first, on 18181; adds "P ROUND SIDE US_PER_REQUEST" lines to
# $WORK/runs (not in a pipeline: cleanup must see the instances it starts).
placement() {
    local p=$1 first=$2 second=$3 r s c0 c1 n out
    declare -A dir=([A]=$A_BIN [B]=$B_BIN) env=([A]=$A_ENV [B]=$B_ENV) port=([$first]=18181 [$second]=18183) pid
    for s in "$first" "$second"; do
        start_with "p$p$s" "${port[$s]}" "${dir[$s]}" "${env[$s]}"
        pid[$s]=$(worker_of "$(proxy_pid "p$p$s")")
        wrk_run "$CLIENT_CPUS" "$WORK/warm.out" -t1 -c50 -d2s -s "$PERF/lib/report.lua" "http://127.0.0.1:${port[$s]}/small" "${close_args[@]}" >/dev/null
    done
    for r in $(seq "$ROUNDS"); do
        for s in $( (( r % 2 )) && echo "$first $second" || echo "$second $first"); do
            c0=$(worker_cpu_ns "${pid[$s]}")
            out=$(wrk_run "$CLIENT_CPUS" "$WORK/run.out" -t1 -c50 -d"${DURATION}s" -s "$PERF/lib/report.lua" \
                "http://127.0.0.1:${port[$s]}/small" "${close_args[@]}")
            c1=$(worker_cpu_ns "${pid[$s]}")
            n=$(field requests "$out")
            [[ -n $n && $n -gt 0 && $(field err_status "$out") == 0 ]] || die "placement $p round $r, $s: the run failed: $WORK/run.out"
            awk -v p="$p" -v r="$r" -v s="$s" -v c=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%s %s %s %.2f\n", p, r, s, c / 1000 / n}' \
                | tee -a "$WORK/runs" >&2
        done
    done
    stop_proxy "p$p$first"
    stop_proxy "p$p$second"
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
logs = [math.log(v["A"] / v["B"]) for v in rounds.values() if len(v) == 2]
mean, se = st.mean(logs), st.stdev(logs) / math.sqrt(len(logs))
for side in "AB":
    print(f"{side}: median {st.median(float(us) for _, _, s, us in rows if s == side):.2f} us CPU per request")
print(f"A/B: {math.exp(mean):.4f} (95% interval {math.exp(mean - 1.96 * se):.4f}-{math.exp(mean + 1.96 * se):.4f}), "
      f"geometric mean of {len(logs)} paired rounds; by placement: "
      + ", ".join(f"{math.exp(st.mean(math.log(v['A'] / v['B']) for (p, _), v in rounds.items() if p == q)):.4f}" for q in "12"))
PY

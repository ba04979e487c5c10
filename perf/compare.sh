#!/usr/bin/env bash
# Before/after of one optimisation: this build (BIN, default artifacts/bin), another build (--before DIR, e.g. a fresh
# clone's artifacts/bin) and HAProxy, one wrk load each in turn within every round, so that the box's drift touches the
# three alike (perf/README.md, "pooled sessions"); the order changes each round. Prints each run, the medians of CPU µs
# per request (user + system, from /proc, the whole process tree; and each part's own median) and requests/s, and the
# medians of each round's CPU ratios (the steadier figure). The instances keep their start order and ports for the
# whole run, and two identical builds read up to 7% apart by placement alone (perf/README.md, "eighteenth session"):
# for two builds of the worker alone, perf/ab.sh swaps the placements.
#
# usage: perf/compare.sh --before DIR [--load close|ka|big] [--rounds N] [--duration S]
set -euo pipefail
BEFORE="" LOAD=close ROUNDS=6 DURATION=3
while (( $# )); do
    case $1 in
        --before) BEFORE=$2; shift 2 ;;
        --load) LOAD=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http
source "$(dirname "$0")/lib/common.sh"
[[ -x $BEFORE/proxy-worker ]] || die "--before DIR: a build's bin folder (proxyctl, proxy-supervisor, proxy-worker)"
[[ $LOAD == close || $LOAD == ka || $LOAD == big ]] || die "--load close|ka|big"
OPORT=${BENCH_ORIGIN_PORT:-18080}
WORK=$(mktemp -d /tmp/proxy-compare.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
start_origin "$OPORT"
start_proxy after 18181 "$OPORT"
BIN=$BEFORE start_proxy before 18183 "$OPORT"
start_haproxy haproxy 18182 "$OPORT"
port() { case $1 in after) echo 18181 ;; before) echo 18183 ;; haproxy) echo 18182 ;; esac; }
pid() { case $1 in haproxy) haproxy_pid haproxy ;; *) proxy_pid "$1" ;; esac; }
args() { # args SIDE
    local u=http://127.0.0.1:$(port "$1")
    case $LOAD in
        close) echo "-t1 -c50 -d${DURATION}s -s $PERF/lib/report.lua $u/small -- close" ;;
        ka) echo "-t1 -c50 -d${DURATION}s -s $PERF/lib/report.lua $u/small" ;;
        big) echo "-t1 -c10 -d${DURATION}s -s $PERF/lib/report.lua $u/big" ;;
    esac
}
declare -A cpu rps last user kern
tck=$(getconf CLK_TCK)
sides=(after before haproxy)
orders=(012 120 201 021 210 102)   # indexes into sides
# shellcheck disable=SC2046
for s in "${sides[@]}"; do wrk_run "$CLIENT_CPUS" "$WORK/warm.out" $(args "$s") >/dev/null; done
for r in $(seq "$ROUNDS"); do
    # The order takes each of the six orders in turn (use a multiple of 6 rounds to balance them): no side always runs
    # first, or always right after the same other one's load (its TIME_WAIT sockets, its cache footprint).
    for i in 0 1 2; do
        s=${sides[${orders[$(( (r - 1) % 6 ))]:i:1}]}
        read -r u0 s0 <<<"$(cpu_split "$(pid "$s")")"
        # shellcheck disable=SC2046
        read -r reqs us n _ errors <<<"$(measure_wrk "$(pid "$s")" "$WORK/$s-$r.out" $(args "$s"))"
        read -r u1 s1 <<<"$(cpu_split "$(pid "$s")")"
        log "round $r $s: $reqs req/s, CPU $us us/request, $errors errors"
        [[ $errors == 0 && $us != 0 && $us != 0.0 ]] || die "round $r, $s: the run failed ($errors errors): $WORK/$s-$r.out"
        cpu[$s]="${cpu[$s]:-} $us" rps[$s]="${rps[$s]:-} $reqs" last[$s]=$us
        # The same ticks split into user and kernel time (read around the run: the process is idle in between).
        user[$s]="${user[$s]:-} $(awk -v t=$((u1 - u0)) -v n="$n" -v k="$tck" 'BEGIN {printf "%.1f", t * 1e6 / k / n}')"
        kern[$s]="${kern[$s]:-} $(awk -v t=$((s1 - s0)) -v n="$n" -v k="$tck" 'BEGIN {printf "%.1f", t * 1e6 / k / n}')"
    done
    # Ratios within the round: the three sides ran within seconds of each other, so the box's drift cancels out.
    ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x / y}'; }
    ab="${ab:-} $(ratio "${last[after]}" "${last[before]}")"
    ah="${ah:-} $(ratio "${last[after]}" "${last[haproxy]}")"
    bh="${bh:-} $(ratio "${last[before]}" "${last[haproxy]}")"
done
for s in "${sides[@]}"; do
    printf '%-8s CPU us/request %7s (user %5s, system %5s)   req/s %7s\n' "$s" "$(median "${cpu[$s]}")" \
        "$(median "${user[$s]}")" "$(median "${kern[$s]}")" "$(median "${rps[$s]}")"
done
echo "CPU per request, median of the rounds' ratios: after/before $(median "$ab"), after/HAProxy $(median "$ah"), before/HAProxy $(median "$bh")"

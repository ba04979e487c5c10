#!/usr/bin/env bash
# Reload under load (issue "hot reload"; figure 6 of perf/bench.sh).
# For this proxy and for HAProxy (master-worker mode), in turn: an nginx origin, two bounded wrk loads
# at once for DURATION seconds (one opening a new connection per request, one keep-alive), and a
# reload every INTERVAL seconds meanwhile (`proxyctl reload -f CFG`; HAProxy: `reload` on the master
# CLI, i.e. echo reload | socat - UNIX-CONNECT:master.sock). Reports wrk's socket errors (connect,
# read, write, timeout) and non-2xx/3xx responses for each load and side.
#
# usage: perf/reload-bench.sh [--duration S] [--interval S (whole seconds)] [--side proxy|haproxy|both] [--tsv FILE] [--mode tcp|http]
# env:   PROXY_CPUS ORIGIN_CPUS CLIENT_CPUS WORKERS HARD_STOP (see perf/README.md); ports 18090-18092
#        (RELOAD_ORIGIN_PORT, RELOAD_PROXY_PORT, RELOAD_HAPROXY_PORT).
set -euo pipefail
DURATION=15 INTERVAL=1 SIDES="proxy haproxy" TSV="" CONNS=20
while (( $# )); do
    case $1 in
        --duration) DURATION=$2; shift 2 ;;
        --interval) INTERVAL=$2; shift 2 ;;
        --side) [[ $2 == both ]] && SIDES="proxy haproxy" || SIDES=$2; shift 2 ;;
        --tsv) TSV=$2; shift 2 ;;
        --mode) MODE=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
# Old generations keep their keep-alive tunnels until they close or hard-stop-after fires; mode tcp
# cannot end an idle keep-alive connection cleanly, so by default outlast the run (see README).
: "${HARD_STOP:=60s}"
source "$(dirname "$0")/lib/common.sh"
OPORT=${RELOAD_ORIGIN_PORT:-18090} PPORT=${RELOAD_PROXY_PORT:-18091} HPORT=${RELOAD_HAPROXY_PORT:-18092}
WORK=$(mktemp -d /tmp/reload-bench.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools

start_origin "$OPORT"
results=()
for side in $SIDES; do
    if [[ $side == proxy ]]; then start_proxy rl "$PPORT" "$OPORT"; port=$PPORT; else start_haproxy rl "$HPORT" "$OPORT"; port=$HPORT; fi
    url=http://127.0.0.1:$port/small
    log "reload bench: $side, ${DURATION}s of load, reload every ${INTERVAL}s"
    ( wrk_run "$CLIENT_CPUS" "$WORK/$side-close.out" -t1 -c"$CONNS" -d"${DURATION}s" -H 'Connection: close' -s "$PERF/lib/report.lua" "$url" >"$WORK/$side-close.res" ) &
    wc=$!
    ( wrk_run "$CLIENT_CPUS" "$WORK/$side-ka.out" -t1 -c"$CONNS" -d"${DURATION}s" -s "$PERF/lib/report.lua" "$url" >"$WORK/$side-ka.res" ) &
    wk=$!
    _started_pids+=("$wc" "$wk")
    # One reload every INTERVAL seconds on a fixed schedule (a reload that takes long delays the next
    # one, never queues them), from INTERVAL after the start to one second before the end.
    reloads=0 failed=0 t0=${EPOCHREALTIME/[.,]/}
    while :; do
        next=$((t0 + (reloads + 1) * INTERVAL * 1000000)) now=${EPOCHREALTIME/[.,]/}
        (( next <= t0 + (DURATION - 1) * 1000000 )) || break
        if (( next > now )); then sleep "$(awk -v d=$((next - now)) 'BEGIN { printf "%.3f", d / 1e6 }')"; fi
        if [[ $side == proxy ]]; then reload_proxy rl >>"$WORK/reload.log" 2>&1 || failed=$((failed + 1))
        else reload_haproxy rl >>"$WORK/reload.log" 2>&1 || failed=$((failed + 1)); fi
        reloads=$((reloads + 1))
    done
    wait "$wc" "$wk" || true
    for load in close ka; do
        r=$(cat "$WORK/$side-$load.res")
        [[ -n $r ]] || die "wrk gave no result for $side $load: $(cat "$WORK/$side-$load.out")"
        errs=0
        for k in err_connect err_read err_write err_timeout err_status; do errs=$((errs + $(field $k "$r"))); done
        results+=("$side $load $(field requests "$r") $errs $(field err_connect "$r") $(field err_read "$r") $(field err_write "$r") $(field err_timeout "$r") $(field err_status "$r") $reloads $failed")
        if [[ -n $TSV ]]; then
            printf '%s\t0\treload_%s\tfailed\t%s\n' "$side" "$load" "$errs" >>"$TSV"
            printf '%s\t0\treload_%s\trequests\t%s\n' "$side" "$load" "$(field requests "$r")" >>"$TSV"
        fi
    done
    [[ -n $TSV ]] && printf '%s\t0\treload\treloads\t%s\n%s\t0\treload\treloads_failed\t%s\n' "$side" "$reloads" "$side" "$failed" >>"$TSV"
    if [[ $side == proxy ]]; then stop_proxy rl; else stop_haproxy rl; fi
done

echo
echo "Reload under load: ${DURATION}s, one reload every ${INTERVAL}s, $CONNS connections per load, mode $MODE, hard-stop-after $HARD_STOP"
echo
echo "| side | load | requests | failed | connect | read | write | timeout | non-2xx/3xx | reloads (failed) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${results[@]}"; do
    read -r side load req errs c rd w t s n f <<<"$r"
    [[ $load == close ]] && load="new connection per request" || load="keep-alive"
    [[ $side == proxy ]] && side="this proxy" || side="HAProxy $(haproxy -v | awk 'NR == 1 {print $3}')"
    echo "| $side | $load | $req | $errs | $c | $rd | $w | $t | $s | $n ($f) |"
done

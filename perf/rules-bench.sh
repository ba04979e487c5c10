#!/usr/bin/env bash
# The rule language's cost, side by side: this proxy vs HAProxy 2.6 (Debian's), both running the same 10 typical
# rules in the frontend (issue 18): 5 `http-request set-header` with `%[...]` values, 3 ACL conditions, a map
# lookup and a `log-format` line (sent to a UDP syslog port), keep-alive `wrk -t1 -c50` on nginx's 64-byte object.
# Reports requests/s and CPU per request (the proxy's process tree, from /proc, around each run), with and without
# the rules, so the rules' own cost shows on a shared box.
#
# usage: perf/rules-bench.sh [--stick] [--duration S] [--rounds N]     (after ./build.sh; `./build.sh bench --rules` runs it)
#   --stick        instead of the 10 rules, a stick table (issue 19): `http-request track-sc0 src` and a rate check
#                  (`./build.sh bench --stick`)
#   --duration S   seconds per wrk run (default 5)
#   --rounds N     runs per side, alternated (default 3; the median is reported)
# env: as perf/bench.sh (PROXY_CPUS ORIGIN_CPUS CLIENT_CPUS, ports BENCH_ORIGIN_PORT BENCH_PROXY_PORT BENCH_HAPROXY_PORT).
set -euo pipefail
DURATION=5 ROUNDS=3 CONNS=50 STICK=0 LABEL="the 10 rules"
while (( $# )); do
    case $1 in
        --stick) STICK=1 LABEL="track-sc0 src + rate check"; shift ;;
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http
source "$(dirname "$0")/lib/common.sh"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081} HPORT=${BENCH_HAPROXY_PORT:-18082}
PPORT0=$((PPORT + 10)) HPORT0=$((HPORT + 10))   # the same proxies without the rules
SYSLOG_PORT=${BENCH_SYSLOG_PORT:-18099}          # nothing listens: both proxies send the same datagrams
WORK=$(mktemp -d /tmp/proxy-rules-bench.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
start_origin "$OPORT"

MAP=$WORK/hosts.map
printf '127.0.0.1:%s pool_a\n127.0.0.1:%s pool_b\n127.0.0.1:%s pool_c\n127.0.0.1:%s pool_d\n' "$PPORT" "$HPORT" "$PPORT0" "$HPORT0" >"$MAP"
RULES=$WORK/rules.txt
cat >"$RULES" <<RULES_EOF
    log 127.0.0.1:$SYSLOG_PORT local0
    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %{+Q}r"
    capture request header Host len 32
    acl local src 127.0.0.0/8
    acl small path_beg /small
    acl known req.hdr(host),lower,map_str($MAP) -m found
    http-request set-header X-Real-IP %[src]
    http-request set-header X-Host %[req.hdr(host),lower]
    http-request set-header X-Section %[path,field(2,/)]
    http-request set-header X-Pool %[req.hdr(host),lower,map_str($MAP,none)]
    http-request set-header X-Port %[src_port] if local small known
RULES_EOF
if (( STICK )); then
    # The table every keep-alive request updates (one client: one entry, the worst contention), and a limit never hit.
    cat >"$RULES" <<STICK_EOF
    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100000000 }
STICK_EOF
fi

add_rules() { sed -i "/^frontend fe/r $RULES" "$2"; }
start_side proxy rules "$PPORT" add_rules
start_side haproxy rules "$HPORT" add_rules
start_side proxy plain "$PPORT0"
start_side haproxy plain "$HPORT0"
SIDES=(proxy:rules haproxy:rules proxy:plain haproxy:plain)
port_of() { case $1 in proxy:rules) echo "$PPORT" ;; haproxy:rules) echo "$HPORT" ;; proxy:plain) echo "$PPORT0" ;; *) echo "$HPORT0" ;; esac; }
pid_of() { if [[ $1 == proxy:* ]]; then proxy_pid "${1#*:}"; else haproxy_pid "${1#*:}"; fi; }

# Each side with rules answers before anything is measured.
for side in proxy:rules haproxy:rules; do
    curl -sf -o /dev/null "http://127.0.0.1:$(port_of $side)/small" || die "$side: /small failed"
done

declare -A RPS CPU
for round in $(seq "$ROUNDS"); do
    for side in "${SIDES[@]}"; do
        read -r rps cpu _ _ errors < <(measure_wrk "$(pid_of "$side")" "$WORK/wrk-${side/:/-}-$round.txt" -t1 -c"$CONNS" \
            -d"${DURATION}s" -s "$PERF/lib/report.lua" "http://127.0.0.1:$(port_of "$side")/small")
        (( errors == 0 )) || log "$side: $errors errors in round $round"
        log "round $round $side: $rps requests/s, $cpu CPU µs per request"
        RPS[$side]+="$rps " CPU[$side]+="$cpu "
    done
done

printf '\n| %-14s | %12s | %20s |\n' side "requests/s" "CPU µs per request"
printf '|----------------|--------------|----------------------|\n'
declare -A MED
for side in "${SIDES[@]}"; do
    MED[$side]=$(median "${RPS[$side]}")
    printf '| %-14s | %12s | %20s |\n' "$side" "${MED[$side]}" "$(median "${CPU[$side]}")"
done
awk -v a="${MED[proxy:rules]}" -v b="${MED[haproxy:rules]}" -v l="$LABEL" 'BEGIN {printf "\nwith %s, proxy / haproxy requests per second: %.2fx\n", l, a / b}'
awk -v a="${MED[proxy:plain]}" -v b="${MED[haproxy:plain]}" 'BEGIN {printf "without rules,     proxy / haproxy requests per second: %.2fx\n", a / b}'
echo "$CONNS keep-alive connections, ${DURATION}s x $ROUNDS round(s) per side, median; proxy CPUs $PROXY_CPUS, origin $ORIGIN_CPUS, client $CLIENT_CPUS; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

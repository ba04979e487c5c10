#!/usr/bin/env bash
# TLS termination, side by side: this proxy vs HAProxy 2.6 (Debian's, on the same OpenSSL), one worker against one
# thread, `bind ... ssl crt FILE ssl-min-ver TLSv1.3` on both, nginx's plain-HTTP origin behind (issue 16):
#   1. new TLS sessions/s: wrk -t1 -c50 with `Connection: close`, a full TLS 1.3 handshake per request (resumption
#      off on both sides, see add_tls), with an RSA 2048 and an ECDSA P-256 certificate; plus CPU per session;
#   2. keep-alive requests/s over TLS: wrk -t1 -c50 on the 64-byte object; plus CPU per request;
#   3. 1 MiB responses over TLS: wrk -t1 -c10, MB/s and CPU per response;
#   4. memory per idle TLS keep-alive session: RSS growth while N TLS sessions are held (perf/lib/holdconns.py --tls).
# CPU is the proxy's process tree's user+system time from /proc around each run: on a 2-core box where wrk and the
# origin compete for CPU it is the steadier figure; requests/s are reported too.
#
# usage: perf/tls-bench.sh [--duration S] [--rounds N] [--hold N]     (after ./build.sh; `./build.sh bench --tls`)
#   --duration S   seconds per wrk run (default 5)
#   --rounds N     runs per side and workload, alternated (default 3; the median is reported)
#   --hold N       idle TLS sessions held for figure 4 (default 2000)
#   --only LIST    some figures only, comma-separated: handshake,keepalive,big,memory (default: all)
# env: as perf/bench.sh (PROXY_CPUS ORIGIN_CPUS CLIENT_CPUS, ports BENCH_ORIGIN_PORT BENCH_PROXY_PORT BENCH_HAPROXY_PORT).
set -euo pipefail
DURATION=5 ROUNDS=3 HOLD=2000 ONLY=handshake,keepalive,big,memory
while (( $# )); do
    case $1 in
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --hold) HOLD=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http
source "$(dirname "$0")/lib/common.sh"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081} HPORT=${BENCH_HAPROXY_PORT:-18082}
PPORT_EC=$((PPORT + 10)) HPORT_EC=$((HPORT + 10))
WORK=$(mktemp -d /tmp/proxy-tls-bench.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
command -v openssl >/dev/null || die "openssl missing (apt-get install openssl)"
start_origin "$OPORT"

# One self-signed certificate per key type, certificate and key in one PEM as `crt` takes them on both proxies.
make_cert() { # make_cert NAME OPENSSL-REQ-KEY-ARGS...
    local name=$1; shift
    openssl req -x509 -nodes -days 2 -subj "/CN=bench.example" "$@" -keyout "$WORK/$name.key" -out "$WORK/$name.crt" 2>/dev/null \
        || die "openssl could not make the $name certificate"
    cat "$WORK/$name.crt" "$WORK/$name.key" >"$WORK/$name.pem"
}
make_cert rsa -newkey rsa:2048
make_cert ecdsa -newkey ec -pkeyopt ec_paramgen_curve:P-256

CERT=
# No resumption on either side, so that every new connection is a full handshake: wrk keeps a connection's TLS
# session when it reconnects (SSL_clear) and would resume it. `no-tls-tickets` turns tickets off and
# `tune.ssl.cachesize 0` the session-id cache, on both (README, TLS: this proxy sets both on SslStream's context).
add_tls() {
    sed -i "s|^\(    bind 127.0.0.1:[0-9]*\)\$|\1 ssl crt $CERT ssl-min-ver TLSv1.3 no-tls-tickets|" "$2"
    grep -q " ssl crt " "$2" || die "no bind line to add TLS to in $2"
    sed -i "/^global/a\\    tune.ssl.cachesize 0" "$2"
    return 0
}
CERT=$WORK/rsa.pem;   start_side proxy rsa "$PPORT" add_tls;   start_side haproxy rsa "$HPORT" add_tls
CERT=$WORK/ecdsa.pem; start_side proxy ecdsa "$PPORT_EC" add_tls; start_side haproxy ecdsa "$HPORT_EC" add_tls
port_of() { case $1 in proxy:rsa) echo "$PPORT" ;; haproxy:rsa) echo "$HPORT" ;; proxy:ecdsa) echo "$PPORT_EC" ;; *) echo "$HPORT_EC" ;; esac; }
pid_of() { if [[ $1 == proxy:* ]]; then proxy_pid "${1#*:}"; else haproxy_pid "${1#*:}"; fi; }

# Every side answers over TLS 1.3 with its own certificate before anything is measured.
for side in proxy:rsa haproxy:rsa proxy:ecdsa haproxy:ecdsa; do
    curl -skf --tlsv1.3 -o /dev/null "https://127.0.0.1:$(port_of $side)/small" || die "$side: https /small failed"
    key=$(openssl s_client -connect "127.0.0.1:$(port_of $side)" </dev/null 2>/dev/null | sed -n 's/^Server public key is \([0-9]*\) bit/\1/p')
    log "$side: TLS 1.3 answers, server key $key bit"
done

declare -A RPS CPU MBS
wanted() { [[ ,$ONLY, == *,$1,* ]]; }
run_workload() { # run_workload NAME WRK-ARGS-BEFORE-URL PATH SCRIPT-ARGS SIDES...
    local workload=$1 args=$2 path=$3 script_args=$4 round side rps cpu requests bytes errors; shift 4
    wanted "$workload" || return 0
    local sides=("$@") n=$#
    for round in $(seq "$ROUNDS"); do
        for i in $(seq 0 $((n - 1))); do
            side=${sides[$(( (i + round - 1) % n ))]}
            # shellcheck disable=SC2086 # args holds several wrk options
            read -r rps cpu requests bytes errors < <(measure_wrk "$(pid_of "$side")" "$WORK/wrk-$workload-${side/:/-}-$round.txt" \
                $args -d"${DURATION}s" -s "$PERF/lib/report.lua" "https://127.0.0.1:$(port_of "$side")$path" $script_args)
            (( errors == 0 )) || log "$workload $side: $errors errors in round $round"
            local mbs; mbs=$(awk -v b="$bytes" -v d="$DURATION" 'BEGIN {printf "%.0f", b / d / 1e6}')
            log "round $round $workload $side: $rps requests/s, $cpu CPU µs per request, $mbs MB/s"
            RPS[$workload:$side]+="$rps " CPU[$workload:$side]+="$cpu " MBS[$workload:$side]+="$mbs "
        done
    done
}
run_workload handshake "-t1 -c50" /small "-- close" proxy:rsa haproxy:rsa proxy:ecdsa haproxy:ecdsa
run_workload keepalive "-t1 -c50" /small "" proxy:rsa haproxy:rsa
run_workload big "-t1 -c10" /big "" proxy:rsa haproxy:rsa

# Figure 4: RSS growth of each side while HOLD TLS sessions are held idle, read after 3 s without traffic on both.
declare -A MEM
for side in proxy:rsa haproxy:rsa; do
    wanted memory || break
    sleep 3
    pid=$(pid_of "$side") idle=$(rss_kb "$(pid_of "$side")")
    out=$WORK/hold-${side/:/-}
    pin "$CLIENT_CPUS" python3 "$PERF/lib/holdconns.py" --tls --port "$(port_of "$side")" -n "$HOLD" --hold 120 >"$out.out" 2>"$out.err" &
    hp=$!
    _started_pids+=("$hp")
    for _ in $(seq 1200); do grep -qs READY "$out.out" && break; kill -0 "$hp" 2>/dev/null || break; sleep 0.1; done
    grep -q READY "$out.out" || die "holdconns --tls did not get ready: $(cat "$out.err")"
    sleep 3
    held=$(rss_kb "$pid") opened=$(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$out.out")
    kill "$hp" 2>/dev/null || true; wait "$hp" 2>/dev/null || true
    MEM[$side]=$(awk -v a="$idle" -v b="$held" -v n="$opened" 'BEGIN { printf "%.0f", n ? (b - a) * 1024 / n : 0 }')
    log "$side: idle $idle kB, $opened TLS sessions held: $held kB, ${MEM[$side]} B per session"
done

# Full handshakes only: HAProxy's count of them against its TLS connections shows it.
info=$(echo "show info" | socat - "UNIX-CONNECT:$WORK/haproxy-rsa.sock" 2>/dev/null)
reuse="$(sed -n 's/^SslFrontendSessionReuse_pct: //p' <<<"$info")% reused, $(sed -n 's/^CumSslConns: //p' <<<"$info") TLS connections"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", (b > 0 ? a / b : 0)}'; }
printf '\n| %-34s | %12s | %12s | %13s |\n' figure "this proxy" "HAProxy 2.6" "proxy/HAProxy"
printf '|------------------------------------|--------------|--------------|---------------|\n'
row() { printf '| %-34s | %12s | %12s | %13s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
if wanted handshake; then
    for key in rsa ecdsa; do
        p=$(median "${RPS[handshake:proxy:$key]}") h=$(median "${RPS[handshake:haproxy:$key]}")
        row "new TLS sessions/s ($key)" "$p" "$h"
        row "  CPU µs per session ($key)" "$(median "${CPU[handshake:proxy:$key]}")" "$(median "${CPU[handshake:haproxy:$key]}")"
    done
fi
if wanted keepalive; then
    row "keep-alive requests/s over TLS" "$(median "${RPS[keepalive:proxy:rsa]}")" "$(median "${RPS[keepalive:haproxy:rsa]}")"
    row "  CPU µs per request" "$(median "${CPU[keepalive:proxy:rsa]}")" "$(median "${CPU[keepalive:haproxy:rsa]}")"
fi
if wanted big; then
    row "1 MiB responses over TLS, MB/s" "$(median "${MBS[big:proxy:rsa]}")" "$(median "${MBS[big:haproxy:rsa]}")"
    row "  CPU µs per 1 MiB response" "$(median "${CPU[big:proxy:rsa]}")" "$(median "${CPU[big:haproxy:rsa]}")"
fi
if wanted memory; then row "bytes per idle TLS session" "${MEM[proxy:rsa]}" "${MEM[haproxy:rsa]}"; fi
echo
echo "TLS 1.3 only; RSA 2048 and ECDSA P-256 self-signed; ${DURATION}s x $ROUNDS round(s) per side, median; $HOLD idle sessions held;" \
    "HAProxy rsa side after the run: $reuse; proxy CPUs $PROXY_CPUS, origin $ORIGIN_CPUS, client $CLIENT_CPUS;" \
    "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(openssl version)"

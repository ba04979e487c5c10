#!/usr/bin/env bash
# HTTP compression side by side: this proxy vs HAProxy 2.6 (Debian's, built with libslz), both gzip-compressing
# the same 150 KB text page served by nginx, 10 keep-alive clients (wrk). Reports compressed responses per second,
# the compression ratio, and CPU time per MB compressed (the proxy's process tree, from /proc, around each run).
#
# usage: perf/compression-bench.sh [--duration S] [--rounds N] [--level N]     (after ./build.sh)
#   --duration S   seconds per wrk run (default 15)
#   --rounds N     runs per side, alternated (default 1; the best is reported)
#   --level N      this proxy's tune.comp.maxlevel (default 1, HAProxy's default; libslz has one level)
# env: as perf/bench.sh (PROXY_CPUS ORIGIN_CPUS CLIENT_CPUS, ports BENCH_ORIGIN_PORT BENCH_PROXY_PORT BENCH_HAPROXY_PORT).
set -euo pipefail
DURATION=15 ROUNDS=1 LEVEL=1 SIZE=153600 CONNS=10
while (( $# )); do
    case $1 in
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --level) LEVEL=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
MODE=http
source "$(dirname "$0")/lib/common.sh"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081} HPORT=${BENCH_HAPROXY_PORT:-18082}
WORK=$(mktemp -d /tmp/proxy-comp-bench.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools

start_origin "$OPORT"
# The page: this repository's own C# sources, a realistic text (not one repeated byte), cut to SIZE bytes.
PAGE=$WORK/origin-$OPORT/www/page.html
(set +o pipefail; cd "$ROOT" && git ls-files '*.cs' | sort | xargs cat 2>/dev/null | head -c "$SIZE") >"$PAGE"
(( $(stat -c %s "$PAGE") == SIZE )) || die "could not make a $SIZE-byte page"

# Both configs are perf/configs' ones with the same compression lines added to the frontend.
COMPRESSION="    compression algo gzip"
add_compression() { # the same line on both; the level cap is this proxy's (HAProxy's libslz has one level)
    sed -i "/^frontend fe/a\\$COMPRESSION" "$2"
    [[ $1 == proxy ]] && sed -i "/^global/a\\    tune.comp.maxlevel $LEVEL" "$2"
    return 0
}
start_side proxy comp "$PPORT" add_compression
start_side haproxy comp "$HPORT" add_compression
port_of() { [[ $1 == proxy ]] && echo "$PPORT" || echo "$HPORT"; }
pid_of() { [[ $1 == proxy ]] && proxy_pid comp || haproxy_pid comp; }

# Ratio, checked: the body decodes to the page.
declare -A SIZE_OF
for side in proxy haproxy; do
    out=$WORK/$side.gz
    headers=$(curl -s -D - -o "$out" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$(port_of $side)/page.html")
    grep -qi '^content-encoding: gzip' <<<"$headers" || die "$side did not compress: $headers"
    gunzip -c "$out" | cmp -s - "$PAGE" || die "$side: the gzip body does not decode to the page"
    SIZE_OF[$side]=$(stat -c %s "$out")
done

declare -A BEST_RPS BEST_CPU BEST_BYTES
for round in $(seq "$ROUNDS"); do
    for side in proxy haproxy; do
        pid=$(pid_of $side)
        read -r rps cpu_us requests bytes errors < <(measure_wrk "$pid" "$WORK/wrk-$side-$round.txt" -t1 -c"$CONNS" \
            -d"${DURATION}s" -H 'Accept-Encoding: gzip' -s "$PERF/lib/report.lua" "http://127.0.0.1:$(port_of $side)/page.html")
        (( errors == 0 )) || log "$side: $errors errors in round $round"
        # CPU ms per MB of input compressed (requests x page size).
        cpu=$(awk -v us="$cpu_us" -v s="$SIZE" 'BEGIN {printf "%.2f", us / 1000 / (s / 1048576)}')
        log "round $round $side: $rps responses/s, $(( bytes / (requests > 0 ? requests : 1) )) B per response, $cpu CPU ms per MB compressed"
        if [[ -z ${BEST_RPS[$side]:-} ]] || (( rps > BEST_RPS[$side] )); then
            BEST_RPS[$side]=$rps BEST_CPU[$side]=$cpu BEST_BYTES[$side]=$(( bytes / requests ))
        fi
    done
done

printf '\n| %-8s | %14s | %17s | %9s | %23s |\n' side "responses/s" "gzip body (bytes)" ratio "CPU ms per MB compressed"
printf '|----------|----------------|-------------------|-----------|-------------------------|\n'
for side in proxy haproxy; do
    ratio=$(awk -v a="$SIZE" -v b="${SIZE_OF[$side]}" 'BEGIN {printf "%.2f", a / b}')
    printf '| %-8s | %14s | %17s | %9s | %23s |\n' "$side" "${BEST_RPS[$side]}" "${SIZE_OF[$side]}" "$ratio" "${BEST_CPU[$side]}"
done
awk -v a="${BEST_RPS[proxy]}" -v b="${BEST_RPS[haproxy]}" 'BEGIN {printf "\nproxy / haproxy responses per second: %.2fx\n", a / b}'
echo "page $SIZE bytes, $CONNS connections, ${DURATION}s x $ROUNDS round(s), tune.comp.maxlevel $LEVEL; proxy CPUs $PROXY_CPUS, origin $ORIGIN_CPUS, client $CLIENT_CPUS; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

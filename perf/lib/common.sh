# Shared by perf/bench.sh and perf/reload-bench.sh: source it, don't run it.
# Everything started here is recorded and stopped by cleanup (called from the callers' EXIT trap).

PERF=${PERF:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ROOT=${ROOT:-$(cd "$PERF/.." && pwd)}
BIN=${BIN:-$ROOT/artifacts/bin}

# --- machine arrangement (see perf/README.md, "How the machine is arranged") ---------------------
NCPU=$(nproc)
if (( NCPU >= 4 )); then
    : "${PROXY_CPUS:=1}" "${ORIGIN_CPUS:=2}" "${CLIENT_CPUS:=3}" "${DIRECT_CLIENT_CPUS:=3}"
elif (( NCPU >= 2 )); then
    # 2 CPUs: the proxy under test gets CPU 1 to itself; the origin and the load generator share CPU 0.
    # Direct runs have no proxy, so wrk takes CPU 1 (the proxy's) and the origin keeps CPU 0.
    : "${PROXY_CPUS:=1}" "${ORIGIN_CPUS:=0}" "${CLIENT_CPUS:=0}" "${DIRECT_CLIENT_CPUS:=1}"
else
    : "${PROXY_CPUS:=0}" "${ORIGIN_CPUS:=0}" "${CLIENT_CPUS:=0}" "${DIRECT_CLIENT_CPUS:=0}"
fi
: "${WORKERS:=1}"           # proxy worker processes (nbproc) = HAProxy threads (nbthread)
: "${MODE:=tcp}"            # mode tcp today; mode http once it is implemented
: "${MAXCONN:=8000}"          # HAProxy needs ~2 fds per conn + slack under the 20000 fd limit
: "${HARD_STOP:=5s}"

_started_origins=() _started_proxies=() _started_haproxies=() _started_pids=()

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ensure_tools() {
    local missing=()
    command -v haproxy >/dev/null || missing+=(haproxy)
    command -v nginx >/dev/null || missing+=(nginx)
    command -v wrk >/dev/null || missing+=(wrk)
    command -v socat >/dev/null || missing+=(socat)
    command -v python3 >/dev/null || missing+=(python3)
    if (( ${#missing[@]} )); then
        log "installing ${missing[*]} (Debian packages)"
        [[ $EUID -eq 0 ]] || die "need root to apt-get install ${missing[*]}"
        apt-get update -q >/dev/null
        # Debian starts nginx/haproxy services on install where it can; policy-rc.d prevents that.
        local prc=/usr/sbin/policy-rc.d made=0
        if [[ ! -e $prc ]]; then printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod +x "$prc"; made=1; fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
        (( made )) && rm -f "$prc"
    fi
    for x in proxyctl proxy-supervisor proxy-worker; do
        [[ -x $BIN/$x ]] || die "$BIN/$x missing: run ./build.sh first"
    done
}

# mask_cpus "0-1" -> the CPU list as given (taskset -c syntax); pin CMD... runs CMD on CPUS.
pin() { local cpus=$1; shift; taskset -c "$cpus" "$@"; }

# render TEMPLATE OUT KEY=VALUE...: copies TEMPLATE to OUT replacing @KEY@ with VALUE.
render() {
    local in=$1 out=$2; shift 2
    local args=()
    for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
    sed "${args[@]}" "$in" >"$out"
    if grep -q '@[A-Z_]*@' "$out"; then die "unfilled placeholder in $out: $(grep -o '@[A-Z_]*@' "$out" | head -1)"; fi
}

# cpu-map lines for WORKERS processes / threads on PROXY_CPUS.
proxy_cpu_map() { if (( WORKERS == 1 )); then echo "1 $PROXY_CPUS"; else echo "auto:1-$WORKERS $PROXY_CPUS"; fi; }
haproxy_cpu_map() { if (( WORKERS == 1 )); then echo "1/1 $PROXY_CPUS"; else echo "auto:1/1-$WORKERS $PROXY_CPUS"; fi; }

wait_port() { # wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT
    local port=$1 deadline=$((SECONDS + ${2:-10}))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        (( SECONDS < deadline )) || die "nothing listens on 127.0.0.1:$port"
        sleep 0.1
    done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- origin: nginx ---------------------------------------------------------------------------------
start_origin() { # start_origin PORT
    local port=$1 dir=$WORK/origin-$1
    port_free "$port" || die "port $port is taken"
    mkdir -p "$dir/www" "$dir/nginx-tmp"
    head -c 64 /dev/zero | tr '\0' 'x' >"$dir/www/small"
    head -c 1048576 /dev/urandom >"$dir/www/big"
    render "$PERF/configs/nginx.conf.in" "$dir/nginx.conf" "WORK=$dir" "ORIGIN_PORT=$port"
    pin "$ORIGIN_CPUS" nginx -q -p "$dir" -c "$dir/nginx.conf" || die "nginx failed: $(cat "$dir/nginx-error.log" 2>/dev/null)"
    _started_origins+=("$dir")
    wait_port "$port"
}

stop_origin() { # stop_origin PORT
    local dir=$WORK/origin-$1 pid
    pid=$(cat "$dir/nginx.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

# --- this proxy ------------------------------------------------------------------------------------
proxy_cfg() { echo "$WORK/proxy-$1.cfg"; }

start_proxy() { # start_proxy NAME PORT ORIGIN_PORT
    local name=$1 port=$2 oport=$3 cfg
    cfg=$(proxy_cfg "$name")
    port_free "$port" || die "port $port is taken"
    render "$PERF/configs/proxy.cfg.in" "$cfg" "WORK=$WORK" "NAME=$name" "PORT=$port" "ORIGIN_PORT=$oport" \
        "WORKERS=$WORKERS" "PROXY_CPU_MAP=$(proxy_cpu_map)" "MAXCONN=$MAXCONN" "HARD_STOP=$HARD_STOP" "MODE=$MODE" "EXTRA_DEFAULTS=${EXTRA_DEFAULTS:-}"
    # The supervisor inherits PROXY_CPUS from taskset; workers pin themselves from cpu-map.
    pin "$PROXY_CPUS" "$BIN/proxyctl" start -f "$cfg" >"$WORK/proxy-$name.start.log" 2>&1 \
        || die "proxyctl start failed: $(cat "$WORK/proxy-$name.start.log")"
    _started_proxies+=("$cfg")
    wait_port "$port"
}

stop_proxy() { # stop_proxy NAME
    local cfg; cfg=$(proxy_cfg "$1")
    "$BIN/proxyctl" stop -f "$cfg" --timeout 5 >/dev/null 2>&1 || true
    local pid; pid=$(cat "$WORK/proxy-$1.pid" 2>/dev/null) || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

reload_proxy() { "$BIN/proxyctl" reload -f "$(proxy_cfg "$1")"; }
proxy_pid() { cat "$WORK/proxy-$1.pid"; }

# --- HAProxy, master-worker mode --------------------------------------------------------------------
haproxy_cfg() { echo "$WORK/haproxy-$1.cfg"; }

start_haproxy() { # start_haproxy NAME PORT ORIGIN_PORT
    local name=$1 port=$2 oport=$3 cfg
    cfg=$(haproxy_cfg "$name")
    port_free "$port" || die "port $port is taken"
    render "$PERF/configs/haproxy.cfg.in" "$cfg" "WORK=$WORK" "NAME=$name" "PORT=$port" "ORIGIN_PORT=$oport" \
        "WORKERS=$WORKERS" "HAPROXY_CPU_MAP=$(haproxy_cpu_map)" "MAXCONN=$MAXCONN" "HARD_STOP=$HARD_STOP" "MODE=$MODE" "EXTRA_DEFAULTS=${EXTRA_DEFAULTS:-}"
    haproxy -c -q -f "$cfg" || die "haproxy -c failed for $cfg"
    pin "$PROXY_CPUS" haproxy -W -D -S "$WORK/haproxy-$name-master.sock" -f "$cfg" \
        >"$WORK/haproxy-$name.start.log" 2>&1 || die "haproxy failed: $(cat "$WORK/haproxy-$name.start.log")"
    _started_haproxies+=("$name")
    wait_port "$port"
}

stop_haproxy() { # stop_haproxy NAME
    local pid; pid=$(head -1 "$WORK/haproxy-$1.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

reload_haproxy() { echo reload | socat - "UNIX-CONNECT:$WORK/haproxy-$1-master.sock" >/dev/null; }
haproxy_pid() { head -1 "$WORK/haproxy-$1.pid"; }

# worker_of PID: the process that serves, the first child of PID (this proxy's supervisor, HAProxy's master).
worker_of() { ps -o pid= --ppid "$1" | awk 'NR == 1 {print $1}'; }

# --- a side with extra lines -----------------------------------------------------------------------
# start_side proxy|haproxy NAME PORT [EDIT]: starts one side from perf/configs' template (mode http), after the
# caller's function EDIT SIDE CFG has added its lines to the rendered config (the rules, compression or TLS
# benches); HAProxy's copy is checked with `haproxy -c` first. Both are stopped by cleanup.
start_side() {
    local side=$1 name=$2 port=$3 edit=${4:-:} cfg
    port_free "$port" || die "port $port is taken"
    if [[ $side == proxy ]]; then
        cfg=$(proxy_cfg "$name")
        render "$PERF/configs/proxy.cfg.in" "$cfg" "WORK=$WORK" "NAME=$name" "PORT=$port" "ORIGIN_PORT=$OPORT" \
            "WORKERS=$WORKERS" "PROXY_CPU_MAP=$(proxy_cpu_map)" "MAXCONN=$MAXCONN" "HARD_STOP=$HARD_STOP" "MODE=http" "EXTRA_DEFAULTS="
        "$edit" "$side" "$cfg"
        pin "$PROXY_CPUS" "$BIN/proxyctl" start -f "$cfg" >"$WORK/proxy-$name.start.log" 2>&1 \
            || die "proxyctl start failed: $(cat "$WORK/proxy-$name.start.log")"
        _started_proxies+=("$cfg")
    else
        cfg=$(haproxy_cfg "$name")
        render "$PERF/configs/haproxy.cfg.in" "$cfg" "WORK=$WORK" "NAME=$name" "PORT=$port" "ORIGIN_PORT=$OPORT" \
            "WORKERS=$WORKERS" "HAPROXY_CPU_MAP=$(haproxy_cpu_map)" "MAXCONN=$MAXCONN" "HARD_STOP=$HARD_STOP" "MODE=http" "EXTRA_DEFAULTS="
        "$edit" "$side" "$cfg"
        haproxy -c -q -f "$cfg" || die "haproxy -c failed for $cfg"
        pin "$PROXY_CPUS" haproxy -W -D -S "$WORK/haproxy-$name-master.sock" -f "$cfg" \
            >"$WORK/haproxy-$name.start.log" 2>&1 || die "haproxy failed: $(cat "$WORK/haproxy-$name.start.log")"
        _started_haproxies+=("$name")
    fi
    wait_port "$port"
}

# measure_wrk PID OUTFILE WRK-ARGS...: one wrk run (give it -s report.lua) between two CPU readings of PID's
# process tree. Echoes "RPS CPU_US_PER_REQUEST REQUESTS BYTES ERRORS".
measure_wrk() {
    local pid=$1 out=$2 before after r requests us; shift 2
    before=$(cpu_ticks "$pid")
    r=$(wrk_run "$CLIENT_CPUS" "$out" "$@")
    after=$(cpu_ticks "$pid")
    requests=$(field requests "$r") us=$(field duration_us "$r")
    [[ -n $requests && $requests -gt 0 ]] || { echo "0 0 0 0 1"; return; }
    awk -v n="$requests" -v us="$us" -v t=$((after - before)) -v tck="$(getconf CLK_TCK)" -v b="$(field bytes "$r")" \
        -v e=$(( $(field err_read "$r") + $(field err_status "$r") + $(field err_timeout "$r") + $(field err_connect "$r") )) \
        'BEGIN {printf "%.0f %.1f %d %d %d\n", n / (us / 1e6), t * 1e6 / tck / n, n, b, e}'
}

# median "1 3 2": the middle value.
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- measuring ------------------------------------------------------------------------------------
# tree_pids PID: PID and all its descendants.
tree_pids() {
    local p=$1; echo "$p"
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done
}

# rss_kb PID: summed VmRSS (kB) of PID and its descendants.
rss_kb() {
    local total=0 v
    for p in $(tree_pids "$1"); do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# threads PID: the threads of PID and its descendants.
threads() {
    local total=0 v
    for p in $(tree_pids "$1"); do
        v=$(awk '/^Threads:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
# ctx_switches PID: "VOLUNTARY INVOLUNTARY" context switches of every thread of PID and its descendants.
ctx_switches() {
    local p
    for p in $(tree_pids "$1"); do cat /proc/"$p"/task/*/status 2>/dev/null; done |
        awk '/^voluntary_ctxt_switches:/ {v += $2} /^nonvoluntary_ctxt_switches:/ {n += $2} END {print v + 0, n + 0}'
}
# wrk_run CPUS OUTFILE WRK-ARGS...: runs wrk pinned, keeps its output, echoes the RESULT line's fields.
wrk_run() {
    local cpus=$1 out=$2; shift 2
    echo "wrk $*" >"$out"
    pin "$cpus" wrk "$@" >>"$out" 2>&1 || true
    grep '^RESULT ' "$out" | tail -1 | cut -d' ' -f2- || true
}

# field KEY "k=v k=v ...": the value of KEY.
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }

cleanup() {
    local p
    for p in "${_started_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${_started_proxies[@]}"; do "$BIN/proxyctl" stop -f "$p" --timeout 3 >/dev/null 2>&1 || true; done
    for p in "${_started_haproxies[@]}"; do stop_haproxy "$p"; done
    for p in "${_started_origins[@]}"; do
        local pid; pid=$(cat "$p/nginx.pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null || true
    done
}

# cpu_split PID: "USER SYSTEM" CPU time (clock ticks) of PID and its descendants (see cpu_ticks).
cpu_split() {
    local user=0 sys=0 u s
    for p in $(tree_pids "$1"); do
        # fields 14 (utime) and 15 (stime), counted after the ")" that ends the command name
        read -r u s < <(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12, $13}') || { u=0 s=0; }
        user=$((user + ${u:-0})) sys=$((sys + ${s:-0}))
    done
    echo "$user $sys"
}

# cpu_ticks PID: user+system CPU time (clock ticks, see getconf CLK_TCK) of PID and its descendants,
# all threads included. A process that exits between two readings takes its ticks with it: only
# compare readings around a run in which the process tree does not change.
cpu_ticks() {
    local user sys
    read -r user sys <<<"$(cpu_split "$1")"
    echo $((user + sys))
}

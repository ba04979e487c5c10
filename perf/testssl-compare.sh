#!/usr/bin/env bash
# testssl.sh (Debian's package) against both proxies with the same default TLS settings side by side (issue 16):
# `bind 127.0.0.1:PORT ssl crt FILE` and nothing else, an RSA 2048 certificate, nginx's plain origin behind. Prints
# each side's protocols, cipher categories, forward secrecy, vulnerabilities and rating findings (severity and text,
# from testssl's --jsonfile), then the findings where the two differ. Not a benchmark: it runs a few minutes per side.
# usage: perf/testssl-compare.sh      (after ./build.sh; apt-get install testssl.sh)
set -euo pipefail
MODE=http
source "$(dirname "$0")/lib/common.sh"
OPORT=${BENCH_ORIGIN_PORT:-18080} PPORT=${BENCH_PROXY_PORT:-18081} HPORT=${BENCH_HAPROXY_PORT:-18082}
WORK=$(mktemp -d /tmp/proxy-testssl.XXXXXX)
trap 'cleanup; rm -rf "$WORK"' EXIT
ensure_tools
command -v testssl >/dev/null || die "testssl missing (apt-get install testssl.sh)"
start_origin "$OPORT"
openssl req -x509 -nodes -days 2 -subj "/CN=localhost" -newkey rsa:2048 -keyout "$WORK/k" -out "$WORK/c" 2>/dev/null
cat "$WORK/c" "$WORK/k" >"$WORK/rsa.pem"
add_tls() { sed -i "s|^\(    bind 127.0.0.1:[0-9]*\)\$|\1 ssl crt $WORK/rsa.pem|" "$2"; }
start_side proxy tls "$PPORT" add_tls
start_side haproxy tls "$HPORT" add_tls
for side in proxy:$PPORT haproxy:$HPORT; do
    name=${side%%:*} port=${side##*:}
    log "$name: testssl on 127.0.0.1:$port"
    testssl --quiet --color 0 --warnings batch --sneaky -p -s -f -U -S -H --jsonfile "$WORK/$name.json" "127.0.0.1:$port" >"$WORK/$name.txt" 2>&1 || true
    python3 - "$WORK/$name.json" >"$WORK/$name.findings" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1])):
    if f.get("id") in ("scanTime", "engine_problem", "service", "pre_128cipher", "cert_notAfter", "cert_notBefore"): continue
    print(f"{f['id']:<36} {f['severity']:<8} {f['finding']}")
PY
done
echo "== this proxy (findings not OK/INFO)"; grep -vE '^\S+\s+(OK|INFO)\s' "$WORK/proxy.findings" || true
echo "== HAProxy 2.6 (findings not OK/INFO)"; grep -vE '^\S+\s+(OK|INFO)\s' "$WORK/haproxy.findings" || true
echo "== where they differ (< this proxy, > HAProxy)"
diff <(sort "$WORK/proxy.findings") <(sort "$WORK/haproxy.findings") | grep '^[<>]' || echo "(no difference)"

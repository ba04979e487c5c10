#!/usr/bin/env bash
# Acceptance test for the packages: builds them (unless --no-build), checks contents, metadata,
# conffiles, the unit and the maintainer scripts, runs lintian, runs the programs from an
# extracted .deb, then (as root, with dpkg) installs the .deb for real, starts the installed
# proxy as the _proxy user with the packaged config, sends requests through it to a local
# HTTP server, reloads (good and bad config), removes (must stop it) and purges (must remove
# the config and the user); finally installs the .rpm into a throwaway rpm root.
# All traffic stays on 127.0.0.1. Ends with "package tests: OK" or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NAME=proxy
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
DEB=$ROOT/artifacts/packages/${NAME}_${VERSION}-1_amd64.deb
RPM=$ROOT/artifacts/packages/${NAME}-${VERSION}-1.x86_64.rpm

[[ "${1:-}" == "--no-build" ]] || packaging/build-packages.sh

TMP=$(mktemp -d /tmp/proxy-pkgtest.XXXXXX)
ORIGIN_PID=
INSTALLED=
cleanup() {
    set +e
    if [[ -n "$INSTALLED" ]]; then
        /usr/lib/proxy/proxyctl stop -f /etc/proxy/proxy.cfg >/dev/null 2>&1
        dpkg -P "$NAME" >/dev/null 2>&1
    fi
    [[ -n "$ORIGIN_PID" ]] && kill "$ORIGIN_PID" 2>/dev/null && wait "$ORIGIN_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
has() { grep -qE -- "$2" <<<"$1" || fail "$3: no line matching '$2'"; }
hasnt() { ! grep -qE -- "$2" <<<"$1" || fail "$3: unexpected line matching '$2'"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds
    local until=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do ((SECONDS < until)) || return 1; sleep 0.3; done
}
port_closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[[ -f "$DEB" ]] || fail "$DEB missing"
[[ -f "$RPM" ]] || fail "$RPM missing"

step "deb metadata"
[[ $(dpkg-deb -f "$DEB" Package) == "$NAME" ]] || fail "Package"
[[ $(dpkg-deb -f "$DEB" Version) == "$VERSION-1" ]] || fail "Version is not $VERSION-1"
[[ $(dpkg-deb -f "$DEB" Architecture) == amd64 ]] || fail "Architecture"
has "$(dpkg-deb -f "$DEB" Depends)" 'adduser' "Depends"
hasnt "$(dpkg-deb -f "$DEB" Depends)" 'dotnet|aspnetcore' "Depends (self-contained: no .NET runtime package)"

step "deb contents (dpkg-deb -c)"
list=$(dpkg-deb -c "$DEB")
for f in ./usr/lib/proxy/proxyctl ./usr/lib/proxy/proxy-supervisor ./usr/lib/proxy/proxy-worker \
         ./usr/lib/proxy/libcoreclr.so ./usr/lib/proxy/System.Private.CoreLib.dll \
         ./etc/proxy/proxy.cfg ./lib/systemd/system/proxy.service ./usr/lib/tmpfiles.d/proxy.conf \
         ./usr/share/man/man1/proxyctl.1.gz ./usr/share/doc/proxy/copyright \
         ./usr/share/doc/proxy/changelog.Debian.gz; do
    has "$list" " ${f//./\\.}( |$)" "dpkg-deb -c"
done
has "$list" '^l.* \./usr/bin/proxyctl -> \.\./lib/proxy/proxyctl$' "dpkg-deb -c (symlink)"
has "$list" '^l.* \./usr/lib/proxy/haproxy -> proxyctl$' "dpkg-deb -c (haproxy link)"
has "$list" '^-rwxr-xr-x root/root .* \./usr/lib/proxy/proxy-worker$' "dpkg-deb -c (mode, owner)"
hasnt "$list" 'proxy-origin|\.pdb$' "dpkg-deb -c"

step "deb control: conffiles and maintainer scripts"
dpkg-deb -e "$DEB" "$TMP/control"
[[ $(cat "$TMP/control/conffiles") == /etc/proxy/proxy.cfg ]] || fail "conffiles"
for s in postinst prerm postrm; do
    [[ -x "$TMP/control/$s" ]] || fail "$s missing or not executable"
    sh -n "$TMP/control/$s" || fail "$s: syntax"
done
has "$(cat "$TMP/control/postinst")" 'adduser --system' "postinst"
has "$(cat "$TMP/control/postinst")" 'deb-systemd-invoke try-restart' "postinst"
has "$(cat "$TMP/control/prerm")" 'deb-systemd-invoke stop' "prerm"
has "$(cat "$TMP/control/postrm")" 'deluser' "postrm"

step "systemd unit"
dpkg-deb -x "$DEB" "$TMP/x"
unit=$(cat "$TMP/x/lib/systemd/system/proxy.service")
for line in '^Type=simple$' '^User=_proxy$' '^ExecStartPre=/usr/lib/proxy/proxyctl check -f ' \
            '^ExecStart=/usr/lib/proxy/proxy-supervisor -f ' '^ExecReload=/usr/lib/proxy/proxyctl reload -f ' \
            '^KillMode=mixed$' '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' '^ProtectHome=yes$' \
            '^PrivateTmp=yes$' '^AmbientCapabilities=CAP_NET_BIND_SERVICE$' '^RuntimeDirectory=proxy$' \
            '^WantedBy=multi-user.target$'; do
    has "$unit" "$line" "proxy.service"
done
if command -v systemd-analyze >/dev/null; then
    # Only complaints about the paths (not installed on this machine) are expected.
    out=$(systemd-analyze verify "$TMP/x/lib/systemd/system/proxy.service" 2>&1 || true)
    hasnt "$out" 'Unknown|unknown|Invalid|invalid|Failed to parse|ignoring' "systemd-analyze verify"
fi

step "lintian"
lint=$(lintian --pedantic "$DEB" 2>&1 | grep -v 'running with root privileges' || true)
echo "$lint" | sed 's/^/   /'
hasnt "$lint" '^E: ' "lintian"

step "extracted .deb runs without an installed .NET"
X=$TMP/x
clean_env=(env -i PATH=/usr/bin:/bin HOME=/nonexistent DOTNET_ROOT=/nonexistent)
out=$("${clean_env[@]}" "$X/usr/bin/proxyctl" check -f "$X/etc/proxy/proxy.cfg" 2>&1) || fail "check: $out"
has "$out" 'Configuration file is valid' "proxyctl check (extracted)"
grep -q '"includedFrameworks"' "$X/usr/lib/proxy/proxy-supervisor.runtimeconfig.json" || fail "not self-contained"
zcat "$X/usr/share/man/man1/proxyctl.1.gz" | grep -q '^\.TH PROXYCTL 1' || fail "man page"

step "rpm metadata and contents (rpm -qlp)"
[[ $(rpm -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}' "$RPM" 2>/dev/null) == "$NAME $VERSION 1 x86_64 MIT" ]] \
    || fail "rpm header: $(rpm -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}' "$RPM")"
rlist=$(rpm -qlp "$RPM" 2>/dev/null)
for f in /usr/bin/proxyctl /usr/lib/proxy/proxy-supervisor /usr/lib/proxy/proxy-worker /usr/lib/proxy/libcoreclr.so \
         /etc/proxy/proxy.cfg /usr/lib/systemd/system/proxy.service /usr/share/man/man1/proxyctl.1.gz; do
    has "$rlist" "^$f$" "rpm -qlp"
done
hasnt "$rlist" 'proxy-origin' "rpm -qlp"
[[ $(rpm -qcp "$RPM" 2>/dev/null) == /etc/proxy/proxy.cfg ]] || fail "rpm config files"
scripts=$(rpm -qp --scripts "$RPM" 2>/dev/null)
has "$scripts" 'useradd -r' "rpm %pre"; has "$scripts" 'disable --now proxy.service' "rpm %preun"
has "$scripts" 'try-restart proxy.service' "rpm %postun"
hasnt "$(rpm -qpR "$RPM" 2>/dev/null)" 'dotnet' "rpm requires"

step "rpm into a throwaway root (rpm -i --nodeps --noscripts --root)"
R=$TMP/rpmroot
mkdir -p "$R"
rpm --root "$R" --initdb
rpm --root "$R" -i --nodeps --noscripts "$RPM" 2>&1 | grep -v -e "should not be used directly" -e "you know what you are doing" || true
[[ $(rpm --root "$R" -q "$NAME") == "$NAME-$VERSION-1.x86_64" ]] || fail "rpm -q in root"
[[ $(readlink "$R/usr/bin/proxyctl") == ../lib/proxy/proxyctl ]] || fail "rpm symlink"
out=$("${clean_env[@]}" "$R/usr/lib/proxy/proxyctl" check -f "$R/etc/proxy/proxy.cfg" 2>&1) || fail "rpm check: $out"
rpm --root "$R" -e --noscripts "$NAME" 2>&1 | grep -v -e "should not be used directly" -e "you know what you are doing" || true
[[ ! -e "$R/usr/lib/proxy/proxyctl" ]] || fail "rpm -e left files"

if [[ $(id -u) -ne 0 ]] || [[ "${PROXY_PACKAGE_NO_INSTALL:-}" == 1 ]]; then
    echo "== skipped: real dpkg -i (needs root; PROXY_PACKAGE_NO_INSTALL=1 skips it)"
    echo "package tests: OK"; exit 0
fi
if dpkg -s "$NAME" >/dev/null 2>&1; then
    fail "package $NAME is already installed on this machine: not touching it"
fi

step "dpkg -i (install)"
INSTALLED=1
dpkg -i "$DEB" >/dev/null
getent passwd _proxy >/dev/null || fail "no _proxy user"
[[ -L /etc/systemd/system/multi-user.target.wants/proxy.service ]] || fail "unit not enabled on install"
[[ -d /run/proxy && $(stat -c %U /run/proxy) == _proxy ]] || fail "/run/proxy not created for _proxy"
has "$(proxyctl check -f /etc/proxy/proxy.cfg 2>&1)" 'Configuration file is valid' "installed proxyctl check"
man -w proxyctl >/dev/null 2>&1 || echo "   (man-db not indexing: skipped man -w)"

step "start the installed proxy as _proxy with the packaged config"
FRONT=$(free_port); BACK=$(free_port)
# The packaged file, with its loopback ports moved to free ones (the machine is shared).
sed -i -e "s/127\.0\.0\.1:8080/127.0.0.1:$FRONT/" -e "s/127\.0\.0\.1:8081/127.0.0.1:$BACK/" /etc/proxy/proxy.cfg
mkdir -p "$TMP/www" && echo "hello-from-origin" > "$TMP/www/index.html"
python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$BACK" >/dev/null 2>&1 &
ORIGIN_PID=$!
wait_for 10 curl -fsS "http://127.0.0.1:$BACK/" || fail "origin did not start"
runuser -u _proxy -- /usr/bin/proxyctl start -f /etc/proxy/proxy.cfg || fail "proxyctl start"
status=$(proxyctl status -f /etc/proxy/proxy.cfg) || fail "status"
echo "$status" | sed 's/^/   /'
sup_pid=$(cat /run/proxy/proxy.pid)
[[ $(stat -c %U "/proc/$sup_pid") == _proxy ]] || fail "supervisor does not run as _proxy"
request() { curl -fsS --max-time 5 "http://127.0.0.1:$FRONT/" | grep -q hello-from-origin; }
wait_for 15 request || fail "no response through the proxy"
echo "   request through 127.0.0.1:$FRONT -> 127.0.0.1:$BACK: ok"
proxyctl stats -f /etc/proxy/proxy.cfg >/dev/null || fail "proxyctl stats (board in /run/proxy)"

step "dpkg -i again (upgrade path: idempotent scripts, modified conffile kept)"
dpkg -i --force-confold "$DEB" >/dev/null
grep -q "127.0.0.1:$FRONT" /etc/proxy/proxy.cfg || fail "modified conffile was replaced"
request || fail "proxy not serving after reinstall"

step "reload: good config, then a bad one"
proxyctl reload -f /etc/proxy/proxy.cfg >/dev/null || fail "reload of a good config failed"
request || fail "no response after reload"
cp /etc/proxy/proxy.cfg "$TMP/good.cfg"
echo "    no-such-keyword 1" >> /etc/proxy/proxy.cfg
if proxyctl reload -f /etc/proxy/proxy.cfg >"$TMP/bad.out" 2>&1; then fail "reload of a bad config succeeded"; fi
sed 's/^/   /' "$TMP/bad.out"
request || fail "old workers gone after a rejected reload"
cp "$TMP/good.cfg" /etc/proxy/proxy.cfg
[[ $(cat /run/proxy/proxy.pid) == "$sup_pid" ]] || fail "supervisor changed"

step "dpkg -r (remove: stops the proxy, keeps config and user)"
dpkg -r "$NAME" >/dev/null
wait_for 45 port_closed "$FRONT" || fail "proxy still listening after remove"
! kill -0 "$sup_pid" 2>/dev/null || fail "supervisor $sup_pid still running after remove"
[[ ! -e /usr/lib/proxy/proxyctl ]] || fail "binaries left after remove"
[[ -f /etc/proxy/proxy.cfg ]] || fail "config removed by remove"
getent passwd _proxy >/dev/null || fail "user removed by remove"

step "dpkg -P (purge: config and user gone)"
dpkg -P "$NAME" >/dev/null
INSTALLED=
[[ ! -e /etc/proxy ]] || fail "/etc/proxy left after purge"
! getent passwd _proxy >/dev/null || fail "_proxy user left after purge"
! getent group _proxy >/dev/null || fail "_proxy group left after purge"
! dpkg -s "$NAME" >/dev/null 2>&1 || fail "still known to dpkg"
[[ ! -e /etc/systemd/system/multi-user.target.wants/proxy.service ]] || fail "unit still enabled after purge"

echo "package tests: OK"

#!/usr/bin/env bash
# Builds artifacts/packages/proxy_VERSION_amd64.deb and proxy-VERSION-1.x86_64.rpm from packaging/.
# Called by `./build.sh package`. The version comes from Directory.Build.props (<Version>).
# PROXY_PACKAGE_XZ_LEVEL sets the xz level of both payloads (default 6 for the .deb, 9 for the .rpm); the package
# acceptance test sets 1: compressing ~90 MB at level 9 took minutes of the test's time and tests nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NAME=proxy
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
[[ -n "$VERSION" ]] || { echo "no <Version> in Directory.Build.props" >&2; exit 1; }
OUT=$ROOT/artifacts/packages
DEB_VERSION=$VERSION-1   # Debian revision 1, like the rpm Release: 1
WORK=$ROOT/artifacts/packaging
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# Debian's tools, installed when missing.
need=()
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v rpmbuild >/dev/null || need+=(rpm)
command -v lintian >/dev/null || need+=(lintian)
command -v fakeroot >/dev/null || need+=(fakeroot)
if ((${#need[@]})); then
    echo "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

rm -rf "$WORK" && mkdir -p "$WORK" "$OUT"
rm -f "$OUT/${NAME}"_*.deb "$OUT/${NAME}"-*.rpm

# 1. Self-contained executables, all three in one folder (they share the runtime and libraries).
#    -o overrides the PublishDir that Directory.Build.targets sets for every Exe project.
LIB=$WORK/publish
for proj in cli/Proxy.Cli.csproj supervisor/Proxy.Supervisor.csproj worker/Proxy.Worker.csproj; do
    dotnet publish "$proj" -c Release -r linux-x64 --self-contained -o "$LIB" \
        -p:DebugType=none -p:DebugSymbols=false --nologo -v quiet -clp:ErrorsOnly
done
# Not needed at run time: the LTTng tracing provider (it would pull in liblttng-ust) and symbols.
rm -f "$LIB"/libcoreclrtraceptprovider.so "$LIB"/*.pdb "$LIB"/*.dbg
for exe in proxyctl proxy-supervisor proxy-worker; do
    [[ -x "$LIB/$exe" ]] || { echo "publish did not produce $exe" >&2; exit 1; }
done
chmod 0644 "$LIB"/*.dll "$LIB"/*.json "$LIB"/*.so
chmod 0755 "$LIB"/proxyctl "$LIB"/proxy-supervisor "$LIB"/proxy-worker "$LIB"/createdump

# 2. The tree both packages share.
stage_common() {
    local r=$1
    install -d "$r/usr/lib/$NAME" "$r/usr/bin" "$r/etc/$NAME" "$r/usr/share/man/man1" \
        "$r/usr/share/doc/$NAME" "$r/usr/lib/tmpfiles.d"
    cp -a "$LIB/." "$r/usr/lib/$NAME/"
    ln -s "../lib/$NAME/proxyctl" "$r/usr/bin/proxyctl"
    # HAProxy's command line (cli/HaproxyFront.cs): proxyctl run under the name `haproxy`. Not on PATH, so it never
    # shadows a real HAProxy; link it where a unit or script expects one.
    ln -s proxyctl "$r/usr/lib/$NAME/haproxy"
    install -m 0644 packaging/proxy.cfg "$r/etc/$NAME/$NAME.cfg"
    install -m 0644 packaging/proxy.tmpfiles "$r/usr/lib/tmpfiles.d/$NAME.conf"
    sed "s/@VERSION@/$VERSION/" packaging/proxyctl.1 | gzip -9n > "$r/usr/share/man/man1/proxyctl.1.gz"
    chmod 0644 "$r/usr/share/man/man1/proxyctl.1.gz"
    install -m 0644 README.md "$r/usr/share/doc/$NAME/README.md"
}

# 3. The .deb (Debian 12 keeps units in /lib/systemd/system).
DEB=$WORK/deb
stage_common "$DEB"
install -d "$DEB/lib/systemd/system" "$DEB/DEBIAN"
install -m 0644 packaging/proxy.service "$DEB/lib/systemd/system/$NAME.service"
install -m 0644 packaging/debian/copyright "$DEB/usr/share/doc/$NAME/copyright"
sed "s/@VERSION@/$DEB_VERSION/" packaging/debian/changelog.in | gzip -9n > "$DEB/usr/share/doc/$NAME/changelog.Debian.gz"
chmod 0644 "$DEB/usr/share/doc/$NAME/changelog.Debian.gz"
install -d "$DEB/usr/share/lintian/overrides"
install -m 0644 packaging/debian/lintian-overrides "$DEB/usr/share/lintian/overrides/$NAME"
install -m 0644 packaging/debian/conffiles "$DEB/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$DEB/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$DEB" | cut -f1)
sed -e "s/@VERSION@/$DEB_VERSION/" -e "s/@INSTALLED_SIZE@/$size/" packaging/debian/control.in > "$DEB/DEBIAN/control"
(cd "$DEB" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$DEB/DEBIAN/md5sums"
chmod 0644 "$DEB/DEBIAN/md5sums" "$DEB/DEBIAN/control"
find "$DEB" -type d -exec chmod 0755 {} +
find "$DEB" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz -z"${PROXY_PACKAGE_XZ_LEVEL:-6}" --build "$DEB" "$OUT/${NAME}_${DEB_VERSION}_amd64.deb" >/dev/null

# 4. The .rpm, from its own staged tree.
RPMROOT=$WORK/rpmroot
stage_common "$RPMROOT"
install -d "$RPMROOT/usr/lib/systemd/system"
install -m 0644 packaging/proxy.service "$RPMROOT/usr/lib/systemd/system/$NAME.service"
install -m 0644 LICENSE "$RPMROOT/usr/share/doc/$NAME/LICENSE"
find "$RPMROOT" -type d -exec chmod 0755 {} +
TOP=$WORK/rpmbuild
mkdir -p "$TOP"/{SPECS,RPMS,BUILD,BUILDROOT,SOURCES,SRPMS}
sed -e "s/@VERSION@/$VERSION/" -e "s:@STAGE@:$RPMROOT:" packaging/rpm/proxy.spec.in > "$TOP/SPECS/$NAME.spec"
rpmbuild -bb --quiet --target x86_64 \
    --define "_topdir $TOP" --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "_binary_payload w${PROXY_PACKAGE_XZ_LEVEL:-9}.xzdio" \
    "$TOP/SPECS/$NAME.spec" >/dev/null
cp "$TOP/RPMS/$NAME-$VERSION-1.x86_64.rpm" "$OUT/"

echo "packages: $(cd "$OUT" && ls "${NAME}"_*.deb "${NAME}"-*.rpm | tr '\n' ' ')"

#!/usr/bin/env bash
# The one entry point: ./build.sh [build|test|run|bench|package]
#   build (default)  restore and build Release; executables land in artifacts/bin/
#   test             build, run every NUnit test, end with "N passed, N failed"
#   run              build, then start the quickstart (two origins behind the proxy) in the foreground
#   package          build artifacts/packages/*.deb and *.rpm (self-contained) from packaging/
#   bench [--quick]  build, then benchmark this proxy against HAProxy and the origin alone (perf/README.md);
#   bench --rules    build, then the same 10 typical rules on both proxies (perf/rules-bench.sh)
#   bench --tls      build, then TLS termination on both proxies: handshakes, keep-alive, 1 MiB, memory (perf/tls-bench.sh)
#   bench --stick    build, then `track-sc0 src` + a rate check on both proxies (perf/rules-bench.sh --stick)
#                    ~4.5 minutes after the build (--quick: ~2.3); writes perf/results/<date>-<host>.md
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

build() {
    # Publish (framework-dependent) puts each executable and its dependencies in artifacts/bin.
    # Exe projects set PublishDir in Directory.Build.targets; the test project is not publishable.
    dotnet publish Proxy.sln -c Release --nologo -v quiet -clp:ErrorsOnly
    # The supervisor and the worker are Native AOT (one worker runs per CPU). Measured on this 2-core box:
    # worker idle RSS 9 MB instead of 43 MB, supervisor 14 MB instead of 52 MB, and `proxyctl start`
    # serving in 0.19 s instead of 0.55 s. They replace the framework-dependent apphosts published above.
    for part in supervisor worker; do
        local name="proxy-$part" project
        project=$(ls "$part"/*.csproj)
        dotnet publish "$project" -c Release -r linux-x64 -p:PublishAot=true \
            -o "artifacts/aot-$part" --nologo -v quiet -clp:ErrorsOnly
        cp -f "artifacts/aot-$part/$name" "artifacts/bin/$name"   # -f: replaces a binary that is running
        rm -f "artifacts/bin/$name.dll" "artifacts/bin/$name.deps.json" "artifacts/bin/$name.runtimeconfig.json" "artifacts/bin/$name.pdb"
    done
    echo "built: $(ls artifacts/bin | grep -E '^(proxyctl|proxy-supervisor|proxy-worker|proxy-origin)$' | tr '\n' ' ')"
}

run_tests() {
    build
    local results="$ROOT/artifacts/test-results"
    rm -rf "$results"; mkdir -p "$results"
    local rc=0
    # Each test has its own time limit (tests/Proxy.Tests.runsettings: it fails, the run goes on). The blame
    # collector is the backstop for the run: when one test has run longer than any limit allows (a hang in a
    # fixture's one-time set-up, say), it kills the test host and the run ends as aborted. The package
    # acceptance (PROXY_PACKAGE_TESTS=1) may run 11 minutes by itself. PROXY_TEST_HANG_TIMEOUT overrides.
    local hang=3m
    [[ "${PROXY_PACKAGE_TESTS:-}" == 1 ]] && hang=12m
    hang=${PROXY_TEST_HANG_TIMEOUT:-$hang}
    dotnet test tests/Proxy.Tests.csproj -c Release --nologo \
        --blame-hang --blame-hang-timeout "$hang" --blame-hang-dump-type none \
        --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" \
        --results-directory "$results" "$@" || rc=$?
    # NUnit's own summary is not what CI reads: print the plain closing line from the trx counters.
    local trx="$results/tests.trx"
    if [[ -f "$trx" ]]; then
        local passed failed
        passed=$(grep -o 'passed="[0-9]*"' "$trx" | awk -F'"' 'NR == 1 {print $2}')
        failed=$(grep -o 'failed="[0-9]*"' "$trx" | awk -F'"' 'NR == 1 {print $2}')
        # An aborted run (the hang backstop killed the test host) counts the hung test nowhere: it is a failure.
        if [[ $rc -ne 0 && ${failed:-0} -eq 0 ]]; then
            echo "the test run did not complete (see above: a test hung, or the test host crashed)"
            failed=1
        fi
        # Name each failed test and its message's first line here, at the end: CI keeps only the output's tail.
        if [[ ${failed:-0} -gt 0 ]]; then
            echo "failed tests:"
            # One record per result; the message's lines joined, cut at 300 characters.
            awk 'BEGIN { RS = "<UnitTestResult " } /^[^>]*outcome="Failed"/ {
                    match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11); gsub(/&quot;/, "\"", name)
                    msg = ""; if (match($0, /<Message>[^<]*/)) msg = substr($0, RSTART + 9, RLENGTH - 9); gsub(/[ \t]*\n[ \t]*/, " | ", msg)
                    print "  " name ": " substr(msg, 1, 300) }' "$trx" || true
        fi
        echo "${passed:-0} passed, ${failed:-0} failed"
    else
        echo "0 passed, 1 failed"
        rc=1
    fi
    return $rc
}

run_quickstart() {
    build
    local bin="$ROOT/artifacts/bin"
    "$bin/proxy-origin" --port 8081 --name origin-1 &
    ORIGINS="$!"
    "$bin/proxy-origin" --port 8082 --name origin-2 &
    ORIGINS="$ORIGINS $!"
    # Global, not local: the EXIT trap runs after this function has returned.
    trap 'kill $ORIGINS 2>/dev/null || true' EXIT
    echo "quickstart: origins on 127.0.0.1:8081 and :8082; proxy on http://127.0.0.1:8080/ (Ctrl-C stops)"
    "$bin/proxyctl" start --foreground -f "$ROOT/examples/quickstart.cfg"
}

cmd=${1:-build}
[[ $# -gt 0 ]] && shift
case "$cmd" in
    build) build ;;
    test) run_tests "$@" ;;
    run) run_quickstart ;;
    package) build && packaging/build-packages.sh "$@" ;;
    bench)
        build
        # `bench --rules|--stick|--tls [...]`: one family's figures alone (perf/rules-bench.sh, perf/tls-bench.sh), else the six figures.
        case ${1:-} in
            --rules) shift; "$ROOT/perf/rules-bench.sh" "$@" ;;
            --stick) shift; "$ROOT/perf/rules-bench.sh" --stick "$@" ;;
            --tls) shift; "$ROOT/perf/tls-bench.sh" "$@" ;;
            *) "$ROOT/perf/bench.sh" "$@" ;;
        esac ;;
    *) echo "usage: $0 [build|test|run|package|bench [--quick|--rules|--stick|--tls]]" >&2; exit 2 ;;
esac

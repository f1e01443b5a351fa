#!/usr/bin/env bash
# The report as a reader sees it: runs the reference scenario (500 runs),
# opens its report.html in headless Chromium (Debian's chromium and
# chromium-driver, installed if missing, which needs root), and fails on an
# error on the browser's console, an image that does not load, a chart drawn
# at no size, or a page wider than its layout (1100 px) in a window as wide
# as the layout. First the checker is shown a page with one fault of each
# kind, and must find them all. See docs/charts.md ("Checking the report in
# a browser"). KEEP=1 keeps the output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TERM_COLOR=never

say() { echo "report-check: $*"; }
die() {
    echo "report-check: FAIL: $*" >&2
    exit 1
}

# --- packages ---------------------------------------------------------------
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    [[ $(id -u) == 0 ]] || die "chromium and chromium-driver are missing, and installing them needs root"
    say "installing chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq || die "apt-get update failed"
    timeout 900 apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null ||
        die "apt-get install chromium chromium-driver failed"
fi
command -v python3 >/dev/null || die "python3 is missing"
say "$(chromium --version 2>/dev/null | head -n 1), $(chromedriver --version | awk '{print $1, $2; exit}')"

# --- the report -----------------------------------------------------------------
say "cargo build --release"
cargo build --release --quiet
crmsim=${CARGO_TARGET_DIR:-$root/target}/release/crmsim
[[ -x $crmsim ]] || die "no binary at $crmsim"

work=$(mktemp -d /tmp/crmsim-report.XXXXXX)
cleanup() {
    local rc=$?
    if [[ -z ${KEEP:-} ]]; then
        rm -rf "$work"
    else
        say "files kept in $work (KEEP is set)"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$crmsim" run scenarios/gallium-eu.toml --runs 500 --out "$work/out" --quiet
[[ -f $work/out/report.html ]] || die "no report.html in $work/out"

# --- the checks -----------------------------------------------------------------
# Each bounded: a browser that hangs fails the check instead of the CI run.
timeout 120 python3 .ci/report-check.py --self-test ||
    die "the checker does not find the faults of its test page"
timeout 120 python3 .ci/report-check.py "$work/out/report.html" ||
    die "report.html of scenarios/gallium-eu.toml (500 runs)"
say "PASS"

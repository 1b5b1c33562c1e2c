#!/usr/bin/env bash
# Install Prometheus and promtool, used by the metrics test (tests/e2e/test_prometheus.py),
# to .tools/prometheus and .tools/promtool.
#
# From Debian's `prometheus` package, without root: `apt-get download` fetches the .deb
# (apt checks it against the signed archive index), `dpkg-deb -x` unpacks it, and only the
# two static binaries are kept. Does nothing when both are installed at the expected
# version. Usage: tools/fetch-prometheus.sh [DEST_DIR] (default: .tools).
set -euo pipefail

package="prometheus"
upstream_version="2.42." # Debian 12's; the test's PromQL and config need 2.x

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/.tools}"

installed() {
    [[ -x "$dest/prometheus" && -x "$dest/promtool" ]] &&
        "$dest/prometheus" --version 2>/dev/null | grep -q "version $upstream_version" &&
        "$dest/promtool" --version 2>/dev/null | grep -q "version $upstream_version"
}

if installed; then
    exit 0
fi

die() {
    echo "fetch-prometheus: $*" >&2
    exit 1
}

command -v apt-get >/dev/null || die "apt-get is needed to fetch Debian's $package package"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to unpack Debian's $package package"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

candidate() {
    apt-cache policy "$package" 2>/dev/null | sed -n 's/^ *Candidate: //p'
}
candidate="$(candidate)"
if [[ (-z "$candidate" || "$candidate" == "(none)") && "$(id -u)" == 0 ]]; then
    # A fresh machine (CI) has no package lists yet.
    echo "fetch-prometheus: apt knows no $package package; running apt-get update" >&2
    apt-get update -qq >/dev/null
    candidate="$(candidate)"
fi
[[ -n "$candidate" && "$candidate" != "(none)" ]] ||
    die "apt knows no $package package: run 'apt-get update' first"
[[ "$candidate" == "$upstream_version"* ]] ||
    die "apt offers $package $candidate; expected $upstream_version*"

echo "fetch-prometheus: fetching $package $candidate with apt-get download" >&2
(cd "$work" && apt-get download -q "$package=$candidate" >/dev/null 2>"$work/apt.log") || {
    cat "$work/apt.log" >&2
    die "apt-get download $package=$candidate failed"
}
dpkg-deb -x "$work"/"$package"_*.deb "$work/root"

mkdir -p "$dest"
for tool in prometheus promtool; do
    "$work/root/usr/bin/$tool" --version >/dev/null || die "the extracted $tool does not run"
    mv -f "$work/root/usr/bin/$tool" "$dest/$tool"
done
installed || die "the installed binaries are not version $upstream_version*"
echo "fetch-prometheus: installed $("$dest/prometheus" --version | head -n 1) in $dest" >&2

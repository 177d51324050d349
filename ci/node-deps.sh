#!/usr/bin/env bash
# Installs the npm packages the tests use (tests/servers/s3.js, the JS SDK child, and
# tests/servers/kube_validate.mjs, the fake kube-apiserver's schema check)
# into a cache folder outside the clone, keyed by this script's content, and prints its
# node_modules folder on stdout (everything else goes to stderr). Idempotent: a finished
# install is reused; concurrent runs wait for each other.
#   PARITY_NODE_CACHE  where the keyed folders live (default /var/cache/parity-node, or
#                      ~/.cache/parity-node when that is not writable)
set -euo pipefail

# Exact versions: @20minutes/s3rver 5.x and newer SDK releases may need Node >= 22/24.
PACKAGES=(
    "@20minutes/s3rver@4.0.4"
    "@aws-sdk/credential-providers@3.1175.0"
    "@aws-sdk/client-s3@3.1175.0"
    "kubernetes-models@5.1.0"
)

# Exit 3: no usable Node.js here (the tests skip what needs it); any other failure is an error.
for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "node-deps: $tool not found (ci/deps.sh installs it)" >&2; exit 3; }
done
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "node-deps: node $(node --version) is too old; these packages need Node >= 20" >&2
    exit 3
fi

key=$(sha256sum "$0" | cut -c1-12)
cache=${PARITY_NODE_CACHE:-/var/cache/parity-node}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/parity-node
    mkdir -p "$cache"
fi
dest=$cache/$key

exec 9>"$cache/.lock-$key"
flock 9
if [ ! -f "$dest/.complete" ]; then
    rm -rf "$dest" "$dest.tmp"
    mkdir -p "$dest.tmp"
    printf '{"name": "parity-test-node-deps", "private": true}\n' >"$dest.tmp/package.json"
    echo "node-deps: installing ${PACKAGES[*]} into $dest" >&2
    (cd "$dest.tmp" && npm install --no-audit --no-fund --no-update-notifier --ignore-scripts \
        --save-exact "${PACKAGES[@]}" >&2)
    touch "$dest.tmp/.complete"
    mv "$dest.tmp" "$dest"
fi
echo "$dest/node_modules"

#!/usr/bin/env bash
# tests/e2e/rootfs.sh: a minimal Debian 12 root filesystem (debootstrap --variant=minbase, plus
# the packages below) as a tarball, cached outside the clone and keyed by what goes into it.
# Prints the tarball's path on stdout; progress goes to stderr. Idempotent: a finished tarball
# is reused; concurrent runs wait for each other. Needs root and network access to the mirror.
#   PARITY_E2E_CACHE   cache folder (default /var/cache/parity-e2e)
#   PARITY_E2E_MIRROR  Debian mirror (default http://deb.debian.org/debian)
set -euo pipefail

SUITE=bookworm
VARIANT=minbase
# What the example images need at run time (python3 for train.py/serve.py, boto3 for the
# credential probe). Changing this list gives a new key, hence a new tarball.
PACKAGES=python3,python3-boto3
MIRROR=${PARITY_E2E_MIRROR:-http://deb.debian.org/debian}
cache=${PARITY_E2E_CACHE:-/var/cache/parity-e2e}

log() { printf 'e2e-rootfs: %s\n' "$*" >&2; }

key=$(printf '%s\n' "$SUITE" "$VARIANT" "$PACKAGES" "$MIRROR" | sha256sum | cut -c1-12)
dest=$cache/rootfs-$SUITE-$key.tar
mkdir -p "$cache"
exec 9>"$cache/.lock-rootfs-$key"
flock 9
if [ -s "$dest" ]; then
    echo "$dest"
    exit 0
fi

command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
}

work=$(mktemp -d "$cache/.rootfs-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "debootstrap --variant=$VARIANT --include=$PACKAGES $SUITE from $MIRROR (a few minutes)"
if ! debootstrap --variant="$VARIANT" --include="$PACKAGES" "$SUITE" "$work/root" "$MIRROR" \
    >"$work/debootstrap.out" 2>&1; then
    tail -n 40 "$work/debootstrap.out" >&2
    tail -n 40 "$work/root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
    log "debootstrap failed"
    exit 1
fi
# Slim it the way debian:bookworm-slim is slim: no apt lists, no caches.
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin \
    "$work/root/var/cache/apt/archives/"*.deb "$work/root/usr/share/doc/"* "$work/root/usr/share/man/"*
# Nothing is mounted inside; the runtime provides /proc, /dev, /sys, /etc/hosts, /etc/resolv.conf.
tar --numeric-owner --xattrs -C "$work/root" -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$dest"
log "cached $dest ($(du -h "$dest" | cut -f1))"
echo "$dest"

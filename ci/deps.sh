#!/usr/bin/env bash
# Installs everything the build, tests and benchmarks need on a fresh Debian 12 (run as root).
# Idempotent: apt-get skips what is already installed; deb-src is added once.
set -euo pipefail

src_list=/etc/apt/sources.list.d/parity-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    # apt-get source needs deb-src entries (BUILD.md); copy the Debian ones with Types: deb-src.
    for f in /etc/apt/sources.list.d/debian.sources; do
        [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" >"$src_list"
    done
    if [ ! -s "$src_list" ]; then
        printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$src_list"
    fi
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential musl-tools gperf dpkg-dev file pkg-config ca-certificates \
    libcurl4-openssl-dev libssl-dev libcjson-dev libseccomp-dev libcap-dev zlib1g-dev \
    libcmocka-dev python3 python3-pytest scdoc \
    clang clang-format libclang-rt-14-dev valgrind \
    runc busybox-static util-linux iproute2 procps \
    tini dumb-init catatonit hyperfine golang-github-containers-common \
    python3-boto3 awscli python3-kubernetes python3-cryptography \
    debootstrap buildah umoci >/dev/null
# The fake kube-apiserver's tests drive it with kubectl; Debian's kubernetes-client (1.20) only
# where there is none (it would clash with a kubectl package from the Kubernetes repository).
if ! command -v kubectl >/dev/null; then
    apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
# The credential tests' S3 fake and JS SDK child run on Node.js (packages: ci/node-deps.sh).
# CI machines carry NodeSource's node 20 (with npm); Debian's nodejs/npm only where there is none.
if ! command -v node >/dev/null; then
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

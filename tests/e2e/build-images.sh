#!/usr/bin/env bash
# tests/e2e/build-images.sh: builds the images the end-to-end tests run, with real OCI tooling
# and no Docker engine or registry (issue #8):
#   1. a minimal Debian 12 rootfs (tests/e2e/rootfs.sh, cached outside the clone) is imported
#      into buildah's storage as the BASE_IMAGE;
#   2. `buildah bud --isolation chroot` builds Dockerfile.base and the example images exactly
#      from the committed Dockerfiles;
#   3. each image is pushed to an OCI layout and unpacked with umoci into a runtime bundle.
# Leaves WORK/bundles/{base,train,serve}/ (config.json + rootfs) and the OCI layout WORK/oci
# (tags base, train, serve); prints WORK.
#   PARITY_E2E_WORK   output folder (default build/e2e)
#   PARITY_E2E_CACHE  cache folder for the rootfs and buildah's storage (default /var/cache/parity-e2e)
#   PARITY_INIT       the static binary to put in the base (default build/parity-init)
#   PARITY_INIT_STAGE prebuilt (default: PARITY_INIT via a build context) or build (the
#                     Dockerfile's own builder stages: ~8 minutes cold; see images/README.md)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

work=${PARITY_E2E_WORK:-build/e2e}
cache=${PARITY_E2E_CACHE:-/var/cache/parity-e2e}
init=${PARITY_INIT:-build/parity-init}
stage=${PARITY_INIT_STAGE:-prebuilt}
tag=e2e

log() { printf 'e2e-images: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

((EUID == 0)) || die "needs root (buildah storage, umoci unpack, runc)"
missing=()
for tool in buildah umoci runc; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
fi
[[ $stage == build || -x $init ]] || die "$init is missing: make build/parity-init"

# buildah's own storage, next to the rootfs cache, so the system's storage is left alone and
# warm runs reuse the imported base and cached layers.
mkdir -p "$cache" "$work"
# (its run-time state on tmpfs, one folder per cache folder)
buildah=(buildah --root "$cache/storage" --runroot "/run/parity-e2e/$(printf %s "$cache" | sha256sum | cut -c1-12)")

rootfs_tar=$(tests/e2e/rootfs.sh)
# One build at a time in this storage (bench/coldstart.sh uses it too).
exec 8>"$cache/.lock-build"
flock 8
key=$(basename "$rootfs_tar" .tar)
base_image=localhost/parity-e2e-rootfs:${key#rootfs-}
if ! "${buildah[@]}" inspect --type image "$base_image" >/dev/null 2>&1; then
    log "importing $rootfs_tar as $base_image"
    ctr=$("${buildah[@]}" from scratch)
    "${buildah[@]}" add "$ctr" "$rootfs_tar" / >/dev/null
    "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --cmd /bin/bash "$ctr"
    "${buildah[@]}" commit --rm -q "$ctr" "$base_image" >/dev/null
fi

bud=("${buildah[@]}" bud --isolation chroot --layers -q)
build_args=(--build-arg "BASE_IMAGE=$base_image" --build-arg "BUILDER_IMAGE=$base_image"
    --build-arg "PARITY_INIT_STAGE=$stage"
    --build-arg "PARITY_REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
if [[ $stage == prebuilt ]]; then
    bin_dir=$(mktemp -d)
    trap 'rm -rf "$bin_dir"' EXIT
    cp "$init" "$bin_dir/parity-init"
    build_args+=(--build-context "parity-init-bin=$bin_dir")
fi
log "buildah bud Dockerfile.base (BASE_IMAGE=$base_image, PARITY_INIT_STAGE=$stage)"
"${bud[@]}" "${build_args[@]}" -f Dockerfile.base -t "localhost/parity-base:$tag" . >/dev/null
for name in train serve; do
    log "buildah bud images/$name-example/Dockerfile"
    "${bud[@]}" --build-arg "PARITY_BASE=localhost/parity-base:$tag" \
        -f "images/$name-example/Dockerfile" -t "localhost/parity-$name-example:$tag" \
        "images/$name-example" >/dev/null
done

# One OCI layout holds the three images (the shared rootfs layer is stored once, uncompressed:
# it is unpacked right away). An image whose ID has not changed since its bundle was unpacked
# keeps that bundle: the tests mount its rootfs read-only, so a warm run unpacks nothing.
# buildah 1.28 leaves a working container behind for the `FROM ${PARITY_INIT_STAGE} AS
# parity-init` stage; this storage is the script's own, so remove every container in it.
"${buildah[@]}" rm --all >/dev/null

[[ -f $work/oci/index.json ]] || rm -rf "${work:?}/oci"
mkdir -p "$work/bundles"
for pair in base:parity-base train:parity-train-example serve:parity-serve-example; do
    name=${pair%%:*} image=${pair#*:}
    id=$("${buildah[@]}" inspect --type image --format '{{.FromImageID}}' "localhost/$image:$tag")
    if [[ -f $work/bundles/$name.id && $(<"$work/bundles/$name.id") == "$id" &&
        -f $work/bundles/$name/config.json ]]; then
        log "$image unchanged ($id): keeping $work/bundles/$name"
        continue
    fi
    log "push $image to $work/oci:$name, umoci unpack to $work/bundles/$name"
    rm -rf "${work:?}/bundles/$name" "$work/bundles/$name.id"
    "${buildah[@]}" push -q -D "localhost/$image:$tag" "oci:$work/oci:$name" >/dev/null
    umoci unpack --image "$work/oci:$name" "$work/bundles/$name" >/dev/null
    echo "$id" >"$work/bundles/$name.id"
done
# What the tests compare the bundles with: the image configs as buildah sees them.
for name in parity-base parity-train-example parity-serve-example; do
    "${buildah[@]}" inspect --type image "localhost/$name:$tag" >"$work/$name.inspect.json"
done
echo "$work"

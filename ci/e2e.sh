#!/usr/bin/env bash
# ci/e2e.sh (`make e2e`): the images end to end, with real OCI tooling (issue #8).
#   1. tests/e2e/build-images.sh: debootstrap a minimal Debian 12 rootfs (cached in
#      /var/cache/parity-e2e, keyed by its package list), import it into buildah as BASE_IMAGE,
#      `buildah bud --isolation chroot` Dockerfile.base and images/*-example/Dockerfile, push
#      them to OCI layouts and unpack them with umoci;
#   2. tests/e2e/test_images.py: run them with runc as SageMaker and EKS start containers,
#      against loopback fakes (credentials, S3), the serving image, a no-libc rootfs, and the
#      SageMaker/EKS parity check.
# Needs root and build/parity-init, build/probe (make builds them first). Installs buildah,
# umoci and debootstrap with apt-get when they are missing; debootstrap needs Debian's mirror
# on a cold cache. Environment: see tests/e2e/build-images.sh (PARITY_E2E_*, PARITY_INIT,
# PARITY_INIT_STAGE); PYTEST_ARGS is passed to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PARITY_INIT=${PARITY_INIT:-build/parity-init}
export PARITY_PROBE=${PARITY_PROBE:-build/probe}
export PARITY_E2E_WORK=${PARITY_E2E_WORK:-build/e2e}
for f in "$PARITY_INIT" "$PARITY_PROBE"; do
    [[ -x $f ]] || { echo "ci/e2e.sh: $f is missing (make $f)" >&2; exit 2; }
done
# The tests need these from ci/deps.sh; check rather than install the whole list here.
for f in /usr/sbin/runc /bin/busybox /usr/bin/nsenter; do
    [[ -x $f ]] || { echo "ci/e2e.sh: $f is missing (run ci/deps.sh)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "ci/e2e.sh: node is missing (run ci/deps.sh)" >&2; exit 2; }

start=$SECONDS
tests/e2e/build-images.sh >/dev/null
echo "e2e: images built and unpacked in $((SECONDS - start)) s"
# runc passes on the signal dispositions it inherited: start the tests from a clean state.
# shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
"$PARITY_PROBE" exec --reset -- /usr/bin/python3 -m pytest -q ${PYTEST_ARGS:-} tests/e2e
echo "e2e: done in $((SECONDS - start)) s"

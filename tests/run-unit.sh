#!/usr/bin/env bash
# Runs each cmocka unit-test binary given as an argument; fails if any fails.
set -u
failed=0
for t in "$@"; do
    if ! "$t"; then
        echo "unit: FAILED $t" >&2
        failed=1
    fi
done
exit $failed

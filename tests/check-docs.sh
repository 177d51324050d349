#!/usr/bin/env bash
# Every long option and PARITY_* twin parity-init accepts is documented in README and man page.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
opts=$(grep -oE '\{"[a-z-]+", (no|required)_argument' entrypoint/options.c | cut -d'"' -f2)
envs=$(grep -ohE '"PARITY_[A-Z0-9_]+"' entrypoint/*.c lib/*.c | tr -d '"' | sort -u)
for o in $opts; do
    for doc in README.md docs/parity-init.1.scd; do
        grep -q -- "--$o" "$doc" || { echo "check-docs: --$o missing from $doc" >&2; status=1; }
    done
done
for e in $envs; do
    for doc in README.md docs/parity-init.1.scd; do
        grep -q "$e" "$doc" || { echo "check-docs: $e missing from $doc" >&2; status=1; }
    done
done
[ $status -eq 0 ] && echo "check-docs: $(echo $opts | wc -w) options and $(echo $envs | wc -w) variables documented"
exit $status

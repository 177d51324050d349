#!/usr/bin/env bash
# Lint: clang-format must agree with the tree, and the banned functions (STYLE.md §2.6) stay out.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
# Generated tables are exempt from formatting.
mapfile -t sources < <(git ls-files '*.c' '*.h' | grep -v '_table\.h$')
if ! clang-format --dry-run --Werror "${sources[@]}" 2>/tmp/parity-lint-format.txt; then
    head -n 40 /tmp/parity-lint-format.txt >&2
    echo "lint: clang-format disagrees; run 'make format'" >&2
    status=1
fi

banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets|system|popen)[[:space:]]*\('
# Tests may shell out to build fixtures; product code may not.
if grep -nE "$banned" $(git ls-files 'lib/*.c' 'lib/*.h' 'entrypoint/*.c' 'entrypoint/*.h' 'shim/*.c' 'shim/*.h'); then
    echo "lint: banned function used (see STYLE.md §2.6)" >&2
    status=1
fi
exit $status

# shellcheck shell=bash
# bench/lib.sh: shared by the bench scripts (sourced, not run).

# die MESSAGE...: say what went wrong, as the calling script, and exit 2.
die() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 2; }

# ensure_installed PATH=PACKAGE...: apt-get install the Debian packages whose files are missing.
ensure_installed() {
    local pair f missing=() sudo=()
    for pair in "$@"; do
        f=${pair%%=*}
        [[ -x $f ]] || missing+=("${pair#*=}")
    done
    ((${#missing[@]})) || return 0
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    ((EUID == 0)) || sudo=(sudo)
    echo "${BENCH_NAME:-bench}: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" ||
        { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; } ||
        die "apt-get install ${missing[*]} failed"
    for pair in "$@"; do
        f=${pair%%=*}
        [[ -x $f ]] || die "$f is still missing after apt-get install"
    done
}

# ensure_built VAR...: each VAR names a binary under test (build/parity-init, build/probe by
# default); make builds a default path that is missing, any other path must exist already.
ensure_built() {
    local v f
    for v in "$@"; do
        f=${!v}
        [[ -x $f ]] && continue
        case $f in
        build/parity-init | build/probe) make "$f" ;;
        *) die "$v=$f is not an executable file" ;;
        esac
        [[ -x $f ]] || die "$f is missing after make $f"
    done
}

#!/usr/bin/env bash
# Builds the static musl libraries parity-init links with (BUILD.md §6) from Debian 12 source
# packages into DEPS_DIR/x86_64-linux-musl/{include,lib}. One stamp per library, so an
# interrupted run resumes and a cached run costs nothing. Nothing fetched enters the source tree.
# Usage: ci/build-static-deps.sh DEPS_DIR
set -euo pipefail

deps=${1:?usage: $0 DEPS_DIR}
mkdir -p "$deps"
deps=$(cd "$deps" && pwd)
prefix=$deps/x86_64-linux-musl
stamps=$prefix/.stamps
src=$deps/src
kheaders=$deps/kheaders
jobs=$(nproc)
mkdir -p "$prefix/include" "$prefix/lib" "$stamps" "$src" "$kheaders"

# musl-gcc passes -nostdinc, so the kernel UAPI headers libseccomp and libcap need are
# linked in by hand (BUILD.md §2).
ln -sfn /usr/include/linux "$kheaders/linux"
ln -sfn /usr/include/asm-generic "$kheaders/asm-generic"
ln -sfn /usr/include/x86_64-linux-gnu/asm "$kheaders/asm"

export CC=musl-gcc
export CFLAGS="-O2 -ffunction-sections -fdata-sections -isystem $kheaders"

log() { printf 'build-static-deps: %s\n' "$*" >&2; }

# fetch PKG: downloads and unpacks one Debian source package (one at a time: one failed
# download aborts a multi-package apt-get source). Prints the unpacked folder.
fetch() {
    local pkg=$1 dir
    dir=$(find "$src" -maxdepth 1 -type d -name "$pkg-[0-9]*" | head -n 1)
    if [ -n "$dir" ]; then
        echo "$dir"
        return
    fi
    (cd "$src" && apt-get source --download-only "$pkg" >/dev/null 2>&1) || true
    local dsc
    dsc=$(find "$src" -maxdepth 1 -name "${pkg}_*.dsc" | sort | tail -n 1)
    if [ -n "$dsc" ]; then
        (cd "$src" && dpkg-source --no-check -x "$(basename "$dsc")" >/dev/null)
    else
        # The security archive sometimes lacks the .dsc while the orig tarball, checked by apt
        # against the signed Sources index, is present (BUILD.md §2, OpenSSL).
        local orig
        orig=$(find "$src" -maxdepth 1 -name "${pkg}_*.orig.tar.*" ! -name '*.asc' | sort | tail -n 1)
        [ -n "$orig" ] || { log "cannot download source package $pkg"; exit 1; }
        (cd "$src" && tar xf "$(basename "$orig")")
        local top
        top=$(tar tf "$orig" | head -n 1 | cut -d/ -f1)
        local ver=${orig##*_}
        ver=${ver%.orig.tar.*}
        [ -d "$src/$pkg-$ver" ] || mv "$src/$top" "$src/$pkg-$ver"
    fi
    find "$src" -maxdepth 1 -type d -name "$pkg-[0-9]*" | head -n 1
}

built() { [ -f "$stamps/$1" ]; }
done_() { date -u +%FT%TZ >"$stamps/$1"; log "$1 done"; }

if ! built zlib; then
    d=$(fetch zlib)
    (cd "$d" && ./configure --static --prefix="$prefix" >/dev/null && make -s -j"$jobs" libz.a >/dev/null && make -s install >/dev/null)
    done_ zlib
fi

if ! built openssl; then
    d=$(fetch openssl)
    (cd "$d" && ./Configure linux-x86_64 no-shared no-module no-dso no-engine no-afalgeng no-tests \
        no-comp no-ssl3 no-weak-ssl-ciphers enable-ec_nistp_64_gcc_128 \
        -DOPENSSL_TLS_SECURITY_LEVEL=2 --prefix="$prefix" --libdir=lib --openssldir=/etc/ssl >/dev/null \
        && make -s -j"$jobs" build_libs >/dev/null && make -s install_dev >/dev/null)
    done_ openssl
fi

if ! built curl; then
    d=$(fetch curl)
    (cd "$d" && ./configure --prefix="$prefix" --disable-shared --enable-static \
        --with-openssl="$prefix" --with-zlib="$prefix" \
        --without-ca-bundle --without-ca-path --with-ca-fallback --disable-openssl-auto-load-config \
        --without-libidn2 --without-libpsl --without-libssh2 --without-libssh --without-nghttp2 \
        --without-nghttp3 --without-ngtcp2 --without-quiche --without-brotli --without-zstd \
        --without-librtmp --without-gssapi --without-libgsasl --without-hyper \
        --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
        --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
        --disable-ftp --disable-file --disable-manual --disable-ntlm-wb --disable-ntlm \
        --enable-threaded-resolver --enable-ipv6 >/dev/null \
        && make -s -j"$jobs" -C lib >/dev/null && make -s -C lib install >/dev/null \
        && make -s -C include install >/dev/null)
    done_ curl
fi

if ! built libseccomp; then
    d=$(fetch libseccomp)
    (cd "$d" && ./configure --prefix="$prefix" --disable-shared --enable-static --disable-python >/dev/null \
        && make -s -j"$jobs" -C src >/dev/null && make -s -C src install >/dev/null \
        && make -s -C include install >/dev/null)
    done_ libseccomp
fi

if ! built libcap; then
    d=$(fetch libcap2)
    make -s -C "$d/libcap" CC=musl-gcc BUILD_CC=gcc COPTS="$CFLAGS" SHARED=no GOLANG=no PAM_CAP=no libcap.a >/dev/null
    install -m 0644 "$d/libcap/libcap.a" "$prefix/lib/"
    install -d "$prefix/include/sys"
    install -m 0644 "$d/libcap/include/sys/capability.h" "$prefix/include/sys/"
    done_ libcap
fi

if ! built cjson; then
    d=$(fetch cjson)
    (cd "$d" && musl-gcc $CFLAGS -std=c89 -c cJSON.c -o cJSON.o && ar rcs libcjson.a cJSON.o)
    install -m 0644 "$d/libcjson.a" "$prefix/lib/"
    install -d "$prefix/include/cjson"
    install -m 0644 "$d/cJSON.h" "$prefix/include/cjson/"
    done_ cjson
fi

if ! built libarchive; then
    d=$(fetch libarchive)
    # Debian's CVE patches touch Makefile.am; fix the timestamps so make does not re-run automake.
    (cd "$d" && touch aclocal.m4 && sleep 1 && touch configure Makefile.in config.h.in \
        && ./configure --prefix="$prefix" --disable-shared --enable-static --disable-bsdtar \
            --disable-bsdcpio --disable-bsdcat --disable-acl --disable-xattr --without-bz2lib \
            --without-iconv --without-lz4 --without-zstd --without-lzma --without-cng --without-nettle \
            --without-openssl --without-xml2 --without-expat --without-libb2 --without-mbedtls \
            --with-zlib CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib" >/dev/null \
        && make -s -j"$jobs" libarchive.la >/dev/null \
        && make -s install-libLTLIBRARIES install-includeHEADERS >/dev/null)
    done_ libarchive
fi

# The exact inputs, for --version and the licence notes (security updates change them).
(cd "$src" && ls -1 *.dsc *.orig.tar.* 2>/dev/null | grep -v '\.asc$' >"$prefix/SOURCES.txt") || true
log "ready: $prefix"

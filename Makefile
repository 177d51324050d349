# parity: one non-recursive GNU Makefile (STYLE.md §2.13).
#   make                 static release build/parity-init (musl, deps from ci/build-static-deps.sh)
#   make VARIANT=debug   dynamic debug build in build/debug/ (also asan, valgrind)
#   make test            unit tests + black-box tests + the images end to end (README, .ci/run)
#   make check           test + lint + ASan/UBSan run + valgrind run + static/symbol/docs checks
#   make e2e             the images (Dockerfile.base, images/) built by buildah, run by runc (ci/e2e.sh)
VARIANT ?= release
PARITY_VERSION := 0.1.0
PYTHON  ?= /usr/bin/python3
PREFIX  ?= /usr/local
DESTDIR ?=
V ?= 0

ifeq ($(V),0)
Q := @
quiet = @printf '  %-8s %s\n' $(1) $(2);
else
Q :=
quiet =
endif

# Static dependencies live outside the clone, keyed by the script that builds them (BUILD.md §6).
DEPS_KEY := $(shell sha256sum ci/build-static-deps.sh | cut -c1-12)
DEPS     ?= /var/cache/parity-deps/$(DEPS_KEY)
DEPS_P   := $(DEPS)/x86_64-linux-musl
DEPS_STAMP := $(DEPS_P)/.stamps/libarchive

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wvla -Wimplicit-fallthrough
BASE_CPPFLAGS := -I. -D_GNU_SOURCE -DPARITY_VERSION='"$(PARITY_VERSION)"'
BASE_CFLAGS   := -std=gnu11 -g $(WARN)
HARDEN        := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
DYN_LIBS      := $(shell pkg-config --libs libcurl libcrypto libcjson libseccomp libcap zlib 2>/dev/null)

ifeq ($(VARIANT),release)
O        := build/release
CC       := musl-gcc
CFLAGS_V := -O2 -ffunction-sections -fdata-sections $(HARDEN) -isystem $(DEPS)/kheaders -isystem $(DEPS_P)/include
LDFLAGS_V := -static -Wl,--gc-sections -Wl,-z,stack-size=1048576 -Wl,-z,relro,-z,now -L$(DEPS_P)/lib
LIBS     := -lcurl -lcjson -lseccomp -lcap -lssl -lcrypto -lz -lpthread
INIT_BIN := build/parity-init
OBJ_DEPS := $(DEPS_STAMP)
else ifeq ($(VARIANT),debug)
O        := build/debug
CC       := gcc
CFLAGS_V := -O0
LIBS     := $(DYN_LIBS)
else ifeq ($(VARIANT),asan)
O        := build/asan
CC       := gcc
CFLAGS_V := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS_V := -fsanitize=address,undefined
LIBS     := $(DYN_LIBS)
else ifeq ($(VARIANT),valgrind)
O        := build/valgrind
CC       := gcc
CFLAGS_V := -O1
LIBS     := $(DYN_LIBS)
else
$(error VARIANT must be release, debug, asan or valgrind)
endif
INIT_BIN ?= $(O)/parity-init
SHIM_BIN := $(if $(filter release,$(VARIANT)),build/parity,$(O)/parity)

CPPFLAGS_ALL := $(BASE_CPPFLAGS) $(CPPFLAGS)
CFLAGS_ALL   := $(BASE_CFLAGS) $(CFLAGS_V) $(CFLAGS)
LDFLAGS_ALL  := $(LDFLAGS_V) $(LDFLAGS)

LIB_SRCS   := $(wildcard lib/*.c)
INIT_SRCS  := $(wildcard entrypoint/*.c)
SHIM_SRCS  := $(wildcard shim/*.c)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(O)/%.o)
INIT_OBJS  := $(INIT_SRCS:%.c=$(O)/%.o)
SHIM_OBJS  := $(SHIM_SRCS:%.c=$(O)/%.o)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(O)/unit/%)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/fuzz/%)
PROBE      := build/probe
MANPAGE    := build/parity-init.1 build/parity.1

.PHONY: all test unit integration check check-extra asan-test lint format check-static check-symbols check-docs \
        memcheck fuzz fuzz-replay install clean demo bench deps e2e
.DELETE_ON_ERROR:

all: $(INIT_BIN) $(SHIM_BIN) $(PROBE) $(MANPAGE)

deps: $(DEPS_STAMP)

# The key already names the script's content, so only a missing stamp triggers a build.
$(DEPS_STAMP):
	$(call quiet,DEPS,$(DEPS))ci/build-static-deps.sh $(DEPS)

$(O)/%.o: %.c | $(OBJ_DEPS)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(O)/libparity.a: $(LIB_OBJS)
	$(call quiet,AR,$@)$(AR) rcs $@ $^

$(INIT_BIN): $(INIT_OBJS) $(O)/libparity.a
	@mkdir -p $(@D)
	$(call quiet,LD,$@)$(CC) $(LDFLAGS_ALL) -o $@ $(INIT_OBJS) $(O)/libparity.a $(LIBS)

# parity, the launcher: the same library, its own main.
$(SHIM_BIN): $(SHIM_OBJS) $(O)/libparity.a
	@mkdir -p $(@D)
	$(call quiet,LD,$@)$(CC) $(LDFLAGS_ALL) -o $@ $(SHIM_OBJS) $(O)/libparity.a $(LIBS)

# The built-in seccomp profile is compiled once, here, by the same code that compiles the others.
$(O)/tools/gen-seccomp-default: tools/gen-seccomp-default.c entrypoint/seccomp_default.h $(O)/libparity.a
	@mkdir -p $(@D)
	$(call quiet,LD,$@)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(O)/libparity.a $(LIBS)

$(O)/gen/seccomp_default_bpf.h: $(O)/tools/gen-seccomp-default
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)$< >$@

$(O)/entrypoint/harden.o: CPPFLAGS_ALL += -I$(O)/gen
$(O)/entrypoint/harden.o: $(O)/gen/seccomp_default_bpf.h

# The probe runs inside test containers with no libc, so it is always static musl.
$(PROBE): tests/helpers/probe.c
	@mkdir -p $(@D)
	$(call quiet,CC,$@)musl-gcc -static -O2 -std=gnu11 -D_GNU_SOURCE $(WARN) -o $@ $<

build/%.1: docs/%.1.scd
	@mkdir -p $(@D)
	$(call quiet,SCDOC,$@)scdoc <$< >$@

# Unit tests link the variant's libparity.a with cmocka; they are dynamic in every variant.
UNIT_CC      := $(if $(filter release,$(VARIANT)),gcc,$(CC))
UNIT_LIB_DIR := $(if $(filter release,$(VARIANT)),build/debug,$(O))
# The unit tests link Debian's shared libraries; the static musl ones are for parity-init only.
# Test code builds paths in fixed buffers on purpose; a cut path there fails the test anyway, so
# -Wformat-truncation (which -O1/-O2 make noisier) is left to the product code.
UNIT_LDFLAGS := $(if $(filter release,$(VARIANT)),,$(LDFLAGS_V))
$(UNIT_LIB_DIR)/unit/%: tests/unit/%.c $(UNIT_LIB_DIR)/libparity.a
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(UNIT_CC) $(CPPFLAGS_ALL) $(BASE_CFLAGS) $(if $(filter release,$(VARIANT)),,$(CFLAGS_V)) \
	    -Wno-missing-prototypes -Wno-format-truncation -o $@ $< $(UNIT_LIB_DIR)/libparity.a -lcmocka $(DYN_LIBS) $(UNIT_LDFLAGS)

ifeq ($(VARIANT),release)
build/debug/libparity.a: $(LIB_SRCS) $(wildcard lib/*.h)
	$(Q)$(MAKE) --no-print-directory VARIANT=debug build/debug/libparity.a
endif

UNIT_TARGETS := $(UNIT_SRCS:tests/unit/%.c=$(UNIT_LIB_DIR)/unit/%)

unit: $(UNIT_TARGETS)
	$(Q)tests/run-unit.sh $(UNIT_TARGETS)

# Tests start from a clean signal state: make itself leaves some real-time signals ignored, and
# parity-init rightly passes inherited dispositions on to the child.
PYTEST := $(PROBE) exec --reset -- $(PYTHON) -m pytest -q

integration: $(INIT_BIN) $(SHIM_BIN) $(PROBE)
	$(Q)PARITY_INIT=$(INIT_BIN) PARITY_BIN=$(SHIM_BIN) PARITY_PROBE=$(PROBE) $(PYTEST) $(PYTEST_ARGS) tests/integration

test: all unit integration e2e

# Fuzz targets: replayed over their corpus by a plain main() in every variant (gcc), and
# fuzzed for real by `make fuzz` with clang's libFuzzer.
$(O)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(UNIT_LIB_DIR)/libparity.a
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(UNIT_CC) $(CPPFLAGS_ALL) $(BASE_CFLAGS) $(if $(filter release,$(VARIANT)),,$(CFLAGS_V)) \
	    -Wno-missing-prototypes -Wno-format-truncation -o $@ $< tests/fuzz/replay.c $(UNIT_LIB_DIR)/libparity.a $(DYN_LIBS) $(UNIT_LDFLAGS)

fuzz-replay: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do t=$$(basename $$f); $$f tests/fuzz/corpus/$${t#fuzz_} || exit 1; done

FUZZ_SECONDS ?= 60
fuzz:
	$(Q)mkdir -p build/fuzz
	$(Q)for src in $(FUZZ_SRCS); do t=$$(basename $$src .c); \
	    clang $(BASE_CPPFLAGS) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	        -o build/fuzz/$$t $$src $(LIB_SRCS) $(DYN_LIBS) || exit 1; \
	    mkdir -p build/fuzz/corpus-$$t; \
	    build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=1 build/fuzz/corpus-$$t tests/fuzz/corpus/$${t#fuzz_} || exit 1; \
	done

lint:
	$(Q)tests/lint.sh

format:
	$(Q)clang-format -i $(LIB_SRCS) $(filter-out %_table.h,$(wildcard lib/*.h)) $(INIT_SRCS) $(wildcard entrypoint/*.h) \
	    $(SHIM_SRCS) $(wildcard shim/*.h) $(UNIT_SRCS) $(FUZZ_SRCS) tests/fuzz/replay.c tests/helpers/probe.c tools/*.c

check-static: build/parity-init
	$(Q)file build/parity-init | grep -q 'statically linked' || { echo "build/parity-init is not static"; exit 1; }
	$(Q)! readelf -d build/parity-init 2>/dev/null | grep -q 'Dynamic section' || { echo "build/parity-init has a dynamic section"; exit 1; }
	$(Q)! readelf -l build/parity-init | grep -q 'INTERP' || { echo "build/parity-init has an interpreter"; exit 1; }
	@echo "check-static: build/parity-init is fully static"

check-symbols: $(O)/libparity.a
	$(Q)tests/check-symbols.sh $(O)/libparity.a

check-docs: $(MANPAGE)
	$(Q)tests/check-docs.sh

VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no
memcheck:
	$(Q)$(MAKE) --no-print-directory VARIANT=valgrind build/valgrind/parity-init $(PROBE)
	$(Q)PARITY_INIT=build/valgrind/parity-init PARITY_INIT_WRAPPER="$(VALGRIND)" PARITY_PROBE=$(PROBE) \
	    $(PYTEST) -m "not slow" tests/integration/test_pid1.py

# The ASan+UBSan parity-init is dynamic (gcc refuses -static with ASan), so it runs the
# namespace tests but not the no-libc container tests.
asan-test: $(PROBE)
	$(Q)$(MAKE) --no-print-directory VARIANT=asan unit fuzz-replay build/asan/parity-init build/asan/parity
	$(Q)PARITY_INIT=build/asan/parity-init PARITY_BIN=build/asan/parity PARITY_PROBE=$(PROBE) \
	    $(PYTEST) tests/integration/test_pid1.py tests/integration/test_launcher.py

# Everything `check` adds to `test`; .ci/run calls `make test` and then this.
check-extra: lint check-static check-symbols check-docs asan-test memcheck

check: test check-extra

install: build/parity-init build/parity $(MANPAGE)
	install -D -m 0755 build/parity-init $(DESTDIR)$(PREFIX)/bin/parity-init
	install -D -m 0755 build/parity $(DESTDIR)$(PREFIX)/bin/parity
	ln -sf parity-init $(DESTDIR)$(PREFIX)/bin/train
	ln -sf parity-init $(DESTDIR)$(PREFIX)/bin/serve
	install -D -m 0644 build/parity-init.1 $(DESTDIR)$(PREFIX)/share/man/man1/parity-init.1
	install -D -m 0644 build/parity.1 $(DESTDIR)$(PREFIX)/share/man/man1/parity.1

# The README's first command: SageMaker script-mode training through parity-init, locally.
DEMO := build/demo
demo: build/parity-init
	$(Q)rm -rf $(DEMO) && mkdir -p $(DEMO)/opt-ml/code
	$(Q)cp images/train-example/train.py $(DEMO)/opt-ml/code/
	$(Q)sed 's|@REPO@|$(CURDIR)|' examples/train-local.json >$(DEMO)/job.json
	$(Q)PARITY_JOB_CONFIG_URI=file://$(CURDIR)/$(DEMO)/job.json \
	    build/parity-init --root $(CURDIR)/$(DEMO)/opt-ml train
	@echo "demo: the model landed in $(DEMO)/opt-ml/model/model.json:"
	@cat $(DEMO)/opt-ml/model/model.json; echo

bench: build/parity-init
	$(Q)bench/startup.sh

# End to end: Dockerfile.base and the example images, built with buildah from a debootstrapped
# Debian rootfs (cached in /var/cache/parity-e2e), unpacked with umoci, run with runc.
e2e: build/parity-init build/parity $(PROBE)
	$(Q)ci/e2e.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(INIT_OBJS:.o=.d) $(SHIM_OBJS:.o=.d)

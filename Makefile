# moss - one build system for the runtime, the host tool, tests, fuzzers
# and benchmarks.  Sources are listed in Filelists.mk.
#
#   make            build/bin/mossd, build/bin/mos, build/lib/libmoss.a
#   make test       build and run every test; last line "N passed, N failed"
#   make asan       the same under ASan+UBSan (in build/asan)
#   make fuzz       libFuzzer targets with clang (in build/fuzz)
#   make bench      benchmarks, one table
#   make run        run the device (esp32-sim) in ./state
#
# MBEDTLS_DIR=/path uses another mbedTLS 3.6 tree instead of the pinned one.

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
AR ?= ar
BUILD ?= build
SAN ?= 0
V ?= 0

include Filelists.mk

MBEDTLS_VERSION := 3.6.6
MBEDTLS_DIR ?= third_party/mbedtls-$(MBEDTLS_VERSION)

OPT ?= -O2
WARN := -Wall -Wextra -Werror -Wshadow -Wundef -Wstrict-prototypes \
  -Wmissing-prototypes -Wpointer-arith -Wvla -Wformat=2
CPPFLAGS += -Iinclude -Iconfig -I$(MBEDTLS_DIR)/include \
  -DMBEDTLS_CONFIG_FILE='<mbedtls_config.h>' -D_GNU_SOURCE \
  -I/usr/include/cjson
CFLAGS += -std=c11 $(OPT) -g $(WARN) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)
LDLIBS += -lcjson -lzip -lz -lyaml

# Build options of config/moss_config.h, e.g. `make MOSS_ENABLE_RPC=0`.
ifneq ($(MOSS_ENABLE_RPC),)
CPPFLAGS += -DMOSS_ENABLE_RPC=$(MOSS_ENABLE_RPC)
endif

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
  -fno-sanitize-recover=undefined
CFLAGS += $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
endif

ifeq ($(V),0)
Q := @
else
Q :=
endif

LIBMOSS := $(BUILD)/lib/libmoss.a
LIBEMU := $(BUILD)/lib/libmoss_emu.a
LIBMBEDTLS := $(BUILD)/lib/libmbedtls.a
LIBS := $(LIBEMU) $(LIBMOSS) $(LIBMBEDTLS)

# One id per build: UTC time plus the git commit, as in Mongoose OS's
# fw_id ("20250101-000000").
BUILD_ID ?= $(shell date -u +%Y%m%d-%H%M%S)$(shell git rev-parse --short HEAD 2>/dev/null | sed 's/^/-/')

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

.PHONY: all test asan fuzz bench run clean unit-tests fuzz-replay \
  integration-tests check-prefix format format-check
all: $(BUILD)/bin/mossd $(BUILD)/bin/mos $(LIBMOSS)

# Missing Debian/npm packages are installed before anything is built, so a
# fresh machine gives scripts/install-deps' message, never a compiler error.
# `run` covers building and running the device; the test goals add the test
# peers.  Checked once per top-level make (sub-makes inherit the result).
DEPS_GOALS := $(filter-out clean format format-check,$(or $(MAKECMDGOALS),all))
ifeq ($(MOSS_DEPS_CHECKED),)
ifneq ($(DEPS_GOALS),)
DEPS_PROFILE := $(if $(filter test asan fuzz fuzz-long bench,$(DEPS_GOALS)),test,run)
ifneq ($(shell scripts/install-deps $(DEPS_PROFILE) 1>&2; echo $$?),0)
$(error scripts/install-deps $(DEPS_PROFILE) failed: see its message above)
endif
endif
export MOSS_DEPS_CHECKED := 1
endif

# mbedTLS: fetched, pinned and built with our config (mk/mbedtls.mk);
# not needed (nor fetched) for clean and the formatting goals.
ifneq ($(DEPS_GOALS),)
include mk/mbedtls.mk
endif
# Extra build products owned by modules (firmware bundle, tools).
-include mk/*.part.mk

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBMOSS): $(call obj,$(MOSS_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBEMU): $(call obj,$(EMU_SRCS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/bin/mossd: $(call obj,$(MOSSD_SRCS)) $(LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(call obj,$(MOSSD_SRCS)) $(LIBS) $(LDLIBS)

$(BUILD)/obj/tools/mos/main.o: CPPFLAGS += -DMOS_BUILD_ID='"$(BUILD_ID)"'
$(BUILD)/bin/mos: $(call obj,$(MOS_SRCS)) $(LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(call obj,$(MOS_SRCS)) $(LIBS) $(LDLIBS)

# ---- unit tests: one binary per tests/unit/<module>/ -------------------
UNIT_MODS := $(notdir $(wildcard tests/unit/*))
UNIT_BINS := $(foreach m,$(UNIT_MODS),$(BUILD)/tests/unit_$(m))
HARNESS := tests/harness.c

define unit_rule
$(BUILD)/tests/unit_$(1): $(call obj,$(wildcard tests/unit/$(1)/*.c) $(HARNESS)) $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $(call obj,$(wildcard tests/unit/$(1)/*.c) $(HARNESS)) $$(LIBS) $$(LDLIBS)
endef
$(foreach m,$(UNIT_MODS),$(eval $(call unit_rule,$(m))))
$(call obj,$(wildcard tests/unit/*/*.c) $(HARNESS)): CPPFLAGS += -Itests

# ---- fuzz targets: replay binaries (any compiler) and libFuzzer (clang) --
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY := $(foreach f,$(FUZZ_NAMES),$(BUILD)/fuzz/replay_$(f))

define fuzz_rule
$(BUILD)/fuzz/replay_$(1): $(call obj,fuzz/fuzz_$(1).c fuzz/replay_main.c) $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $(call obj,fuzz/fuzz_$(1).c fuzz/replay_main.c) $$(LIBS) $$(LDLIBS)
$(BUILD)/fuzz/lf_$(1): $(call obj,fuzz/fuzz_$(1).c) $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(LDFLAGS) -fsanitize=fuzzer -o $$@ $(call obj,fuzz/fuzz_$(1).c) $$(LIBS) $$(LDLIBS)
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(f))))

# libFuzzer build: everything with clang and coverage instrumentation.
fuzz:
	$(MAKE) BUILD=build/fuzz CC=clang OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" \
	  $(foreach f,$(FUZZ_NAMES),build/fuzz/fuzz/lf_$(f))

# ---- benchmarks ----------------------------------------------------------
BENCH_NAMES := $(patsubst bench/bench_%.c,%,$(wildcard bench/bench_*.c))
BENCH_BINS := $(foreach b,$(BENCH_NAMES),$(BUILD)/bench/bench_$(b))
define bench_rule
$(BUILD)/bench/bench_$(1): $(call obj,bench/bench_$(1).c) $(LIBS) $(BENCH_EXTRA_$(1))
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $(call obj,bench/bench_$(1).c) $(BENCH_EXTRA_$(1)) $$(LIBS) $$(LDLIBS)
endef
$(foreach b,$(BENCH_NAMES),$(eval $(call bench_rule,$(b))))

bench: all $(BENCH_BINS) $(BENCH_DEPS)
	$(Q)scripts/run-bench $(BUILD) $(BENCH_BINS)

# ---- test entry points ---------------------------------------------------
TEST_DEPS := all $(UNIT_BINS) $(FUZZ_REPLAY) $(TEST_EXTRA_DEPS)

test: $(TEST_DEPS)
	$(Q)scripts/run-tests $(BUILD)

asan:
	$(MAKE) BUILD=build/asan SAN=1 OPT=-O1 test

check-prefix: $(LIBMOSS)
	$(Q)scripts/check-prefix $(LIBMOSS)

# ---- the device ------------------------------------------------------------
RUN_ARGS ?= --port-map 80=8000,443=8443
run: all $(RUN_DEPS)
	$(BUILD)/bin/mossd --state state $(RUN_ARGS)

# ---- formatting: clang-format 14 (Debian) with the committed .clang-format --
# format rewrites, format-check only reads (CI): both over the same files.
CLANG_FORMAT ?= clang-format
FORMAT_DIRS := src include port board emu app tools tests fuzz bench
FORMAT_FILES = $(sort $(shell find $(FORMAT_DIRS) -name '*.[ch]' 2>/dev/null))

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_FILES)

# Lists every file clang-format would change and fails if there is one
# (scripts/format-check); CI runs it before the tests.
format-check:
	$(Q)scripts/format-check $(CLANG_FORMAT) $(FORMAT_FILES)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# cfg/: the configuration tree is generated from config/schema.yaml by a
# host tool (tools/gencfg) into $(BUILD)/gen; nothing generated is committed.

HOSTCC ?= $(CC)
GENCFG := $(BUILD)/host/gencfg
CFG_GEN_H := $(BUILD)/gen/moss/cfg_schema.h
CFG_GEN_C := $(BUILD)/gen/cfg_schema.c

CPPFLAGS += -I$(BUILD)/gen

# Plain host flags: the tool runs at build time, never on the device and
# never under the sanitizers or the fuzzer instrumentation of the build.
$(GENCFG): tools/gencfg/gencfg.c
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  HOSTCC  $<")
	$(Q)$(HOSTCC) -std=c11 -O1 -Wall -Wextra -Werror -o $@ $< -lyaml

$(CFG_GEN_H) $(CFG_GEN_C) &: config/schema.yaml $(GENCFG)
	@mkdir -p $(dir $(CFG_GEN_H)) $(dir $(CFG_GEN_C))
	@$(if $(filter 0,$(V)),echo "  GEN     $(CFG_GEN_H) $(CFG_GEN_C)")
	$(Q)$(GENCFG) config/schema.yaml $(CFG_GEN_H) $(CFG_GEN_C)

# Any object may include moss/cfg.h: the header must exist before the
# first compile (later builds track it through the -MMD .d files).
$(call obj,$(MOSS_LIB_SRCS) $(MOSSD_SRCS) $(MOS_SRCS) \
  $(wildcard tests/unit/*/*.c fuzz/*.c bench/*.c app/*/*.c tools/*/*.c)): \
  | $(CFG_GEN_H)

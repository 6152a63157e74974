# mbedTLS 3.6 LTS, built from source with config/mbedtls_config.h into one
# archive ($(LIBMBEDTLS)).  The pinned tree is fetched on first use by
# scripts/fetch-mbedtls; MBEDTLS_DIR=... points at another checkout.
# moss's patches (patches/mbedtls/*.patch, docs/design/tls.md) are applied
# to the tree before anything is compiled; they only add code under
# MBEDTLS_SSL_MOSS_* options that config/mbedtls_config.h turns on.

ifeq ($(wildcard $(MBEDTLS_DIR)/library/ssl_tls.c),)
ifeq ($(MBEDTLS_DIR),third_party/mbedtls-$(MBEDTLS_VERSION))
$(info mbedTLS $(MBEDTLS_VERSION) not present: running scripts/fetch-mbedtls)
MBEDTLS_FETCH_RC := $(shell scripts/fetch-mbedtls 1>&2; echo $$?)
ifneq ($(MBEDTLS_FETCH_RC),0)
$(error scripts/fetch-mbedtls failed)
endif
else
$(error MBEDTLS_DIR=$(MBEDTLS_DIR) does not hold an mbedTLS source tree)
endif
endif

MBEDTLS_PATCH_RC := $(shell patches/mbedtls/apply.sh $(MBEDTLS_DIR) 1>&2; echo $$?)
ifneq ($(MBEDTLS_PATCH_RC),0)
$(error patches/mbedtls/apply.sh $(MBEDTLS_DIR) failed)
endif

MBEDTLS_SRCS := $(wildcard $(MBEDTLS_DIR)/library/*.c)
MBEDTLS_OBJS := $(patsubst $(MBEDTLS_DIR)/library/%.c,$(BUILD)/mbedtls/%.o,$(MBEDTLS_SRCS))
# Third-party code: its own warning set, never -Werror.
# The config is named with <...>: with quotes, build_info.h would pick
# mbedTLS's own include/mbedtls/mbedtls_config.h (same directory) first.
MBEDTLS_CFLAGS := -std=c99 $(OPT) -g -Wall -Wno-unused -MMD -MP \
  -I$(MBEDTLS_DIR)/include \
  -I$(MBEDTLS_DIR)/library -Iconfig -DMBEDTLS_CONFIG_FILE='<mbedtls_config.h>' \
  $(filter -fsanitize=% -fno-%,$(CFLAGS))

$(BUILD)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c config/mbedtls_config.h
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $(notdir $<) (mbedtls)")
	$(Q)$(CC) $(MBEDTLS_CFLAGS) -c -o $@ $<

$(LIBMBEDTLS): $(MBEDTLS_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Stock mbedTLS for the baselines of bench_tls: the same (patched) tree
# with mbedTLS's own default config, which leaves every moss option off;
# bench/tls_stock/user_config.h only routes the heap through a counter.
# Linked into its own program (the two libraries share symbol names).
MBEDTLS_STOCK_OBJS := $(patsubst $(MBEDTLS_DIR)/library/%.c,$(BUILD)/mbedtls-stock/%.o,$(MBEDTLS_SRCS))
LIBMBEDTLS_STOCK := $(BUILD)/mbedtls-stock/libmbedtls-stock.a
MBEDTLS_STOCK_CFLAGS := -std=c99 $(OPT) -g -w -MMD -MP -I$(MBEDTLS_DIR)/include \
  -I$(MBEDTLS_DIR)/library -Ibench/tls_stock \
  -DMBEDTLS_USER_CONFIG_FILE='<user_config.h>' \
  $(filter -fsanitize=% -fno-%,$(CFLAGS))

$(BUILD)/mbedtls-stock/%.o: $(MBEDTLS_DIR)/library/%.c bench/tls_stock/user_config.h
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $(notdir $<) (mbedtls stock)")
	$(Q)$(CC) $(MBEDTLS_STOCK_CFLAGS) -c -o $@ $<

$(LIBMBEDTLS_STOCK): $(MBEDTLS_STOCK_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

-include $(wildcard $(BUILD)/mbedtls/*.d $(BUILD)/mbedtls-stock/*.d)

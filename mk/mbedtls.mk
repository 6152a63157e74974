# mbedTLS 3.6 LTS, built from source with config/mbedtls_config.h into one
# archive ($(LIBMBEDTLS)).  The pinned tree is fetched on first use by
# scripts/fetch-mbedtls; MBEDTLS_DIR=... points at another checkout.

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

MBEDTLS_SRCS := $(wildcard $(MBEDTLS_DIR)/library/*.c)
MBEDTLS_OBJS := $(patsubst $(MBEDTLS_DIR)/library/%.c,$(BUILD)/mbedtls/%.o,$(MBEDTLS_SRCS))
# Third-party code: its own warning set, never -Werror.
# The config is named with <...>: with quotes, build_info.h would pick
# mbedTLS's own include/mbedtls/mbedtls_config.h (same directory) first.
MBEDTLS_CFLAGS := -std=c99 $(OPT) -g -Wall -Wno-unused -I$(MBEDTLS_DIR)/include \
  -I$(MBEDTLS_DIR)/library -Iconfig -DMBEDTLS_CONFIG_FILE='<mbedtls_config.h>' \
  $(filter -fsanitize=% -fno-%,$(CFLAGS))

$(BUILD)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c config/mbedtls_config.h
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $(notdir $<) (mbedtls)")
	$(Q)$(CC) $(MBEDTLS_CFLAGS) -c -o $@ $<

$(LIBMBEDTLS): $(MBEDTLS_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

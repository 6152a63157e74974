# TLS: the stock-mbedTLS baseline program of bench_tls
# (bench/tls_stock/stock_server.c, linked with $(LIBMBEDTLS_STOCK) from
# mk/mbedtls.mk; bench_tls runs it from its own directory).
TLS_STOCK_SERVER := $(BUILD)/bench/tls_stock_server

$(BUILD)/obj/bench/tls_stock/stock_server.o: bench/tls_stock/stock_server.c \
    bench/tls_stock/user_config.h
	@mkdir -p $(dir $@)
	@$(if $(filter 0,$(V)),echo "  CC      $< (mbedtls stock)")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(OPT) -g $(filter-out -Wundef,$(WARN)) \
	  -I$(MBEDTLS_DIR)/include -Ibench/tls_stock \
	  -DMBEDTLS_USER_CONFIG_FILE='<user_config.h>' \
	  $(filter -fsanitize=% -fno-%,$(CFLAGS)) -c -o $@ $<

$(TLS_STOCK_SERVER): $(BUILD)/obj/bench/tls_stock/stock_server.o \
    $(LIBMBEDTLS_STOCK)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

BENCH_DEPS += $(TLS_STOCK_SERVER)

# The fuzz target drives the server configuration directly (src/tls's
# private header).
$(BUILD)/obj/fuzz/fuzz_tls_server.o: CPPFLAGS += -Isrc/tls
# Programs that use mbedTLS themselves and moss's mbedTLS-typed helpers
# (CA lookup, verification texts): src/tls/tls_mbedtls.h.  Nothing else
# gets this path; moss/tls.h has no mbedTLS type.
$(BUILD)/obj/tools/mos/tool_tls.o: CPPFLAGS += -Isrc/tls
$(BUILD)/obj/bench/bench_tls.o: CPPFLAGS += -Isrc/tls
$(call obj,$(wildcard tests/unit/tls/*.c)): CPPFLAGS += -Isrc/tls

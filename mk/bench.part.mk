# bench/bench_rpc runs the real device ($(BUILD)/bin/mossd, which
# factory-flashes $(FW_ZIP)) as a child process: both must exist first.
BENCH_DEPS += $(BUILD)/bin/mossd $(FW_ZIP)

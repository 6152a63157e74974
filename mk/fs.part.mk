# Flash filesystem: the host image builder build/bin/moss-mkfs.
MKFS_SRCS := tools/mkfs/main.c

all: $(BUILD)/bin/moss-mkfs

$(BUILD)/bin/moss-mkfs: $(call obj,$(MKFS_SRCS)) $(LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(call obj,$(MKFS_SRCS)) $(LIBS) $(LDLIBS)

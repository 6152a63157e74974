# Firmware bundle of the esp32-sim board: $(BUILD)/fw.zip (mos-cli.md §6.1)
# made by the host tool moss-mkfw from the marker images, the default
# partition table and the filesystem image of fs/ (+ ca.pem) made by
# moss-mkfs (mk/fs.part.mk).  `mossd` factory-flashes it into a fresh
# state/flash.bin; `mos flash` writes it through the ROM loader.

MKFW_SRCS := tools/mkfw/main.c
MKFW := $(BUILD)/bin/moss-mkfw
MKFS ?= $(BUILD)/bin/moss-mkfs
FW_ZIP := $(BUILD)/fw.zip
FW_STAGE := $(BUILD)/fw
# /ca.pem on the device filesystem: the roots named in
# config/ca-roots.txt (CA_BUNDLE=curated, the default), or Debian's whole
# bundle (CA_BUNDLE=full, about 220 KB of the 254 KB filesystem).
CA_BUNDLE ?= curated
ifeq ($(filter curated full,$(CA_BUNDLE)),)
$(error CA_BUNDLE=$(CA_BUNDLE): use curated or full)
endif
FW_CA_PEM := $(BUILD)/fw-ca/ca-$(CA_BUNDLE).pem
FW_CA_LIST := config/ca-roots.txt
FW_FS_SIZE := 0x40000

$(MKFW): $(call obj,$(MKFW_SRCS)) $(LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(call obj,$(MKFW_SRCS)) $(LIBS) $(LDLIBS)

# Build id: UTC time of the build (SOURCE_DATE_EPOCH if set, for
# reproducible bundles) plus the git short hash when there is a checkout.
$(FW_CA_PEM): $(FW_CA_LIST) scripts/mk-ca-bundle
	@mkdir -p $(dir $@)
	$(Q)scripts/mk-ca-bundle $(CA_BUNDLE) $(FW_CA_LIST) $@

# The stamp names the bundle choice, so switching CA_BUNDLE remakes fw.zip.
FW_CA_STAMP := $(BUILD)/fw-ca/choice
$(shell mkdir -p $(BUILD)/fw-ca; [ "$$(cat $(FW_CA_STAMP) 2>/dev/null)" = "$(CA_BUNDLE)" ] || echo $(CA_BUNDLE) >$(FW_CA_STAMP))

$(FW_ZIP): $(MKFW) $(MKFS) $(wildcard fs/*) VERSION $(FW_CA_PEM) $(FW_CA_STAMP)
	@$(if $(filter 0,$(V)),echo "  MKFW    $@")
	$(Q)rm -rf $(FW_STAGE) && mkdir -p $(FW_STAGE)/root
	$(Q)cp -R fs/. $(FW_STAGE)/root/
	$(Q)cp $(FW_CA_PEM) $(FW_STAGE)/root/ca.pem
	$(Q)$(MKFS) $(FW_STAGE)/root $(FW_STAGE)/fs.img --size $(FW_FS_SIZE)
	$(Q)id=$$(date -u $${SOURCE_DATE_EPOCH:+-d @$$SOURCE_DATE_EPOCH} \
	    +%Y%m%d-%H%M%S); \
	  h=$$(git rev-parse --short HEAD 2>/dev/null) && id="$$id/$$h"; \
	  $(MKFW) --out $@ --version "$$(cat VERSION)" --build-id "$$id" \
	    --fs $(FW_STAGE)/fs.img >/dev/null

.PHONY: fw
fw: $(FW_ZIP)

# Hooked into all/test/run only once the filesystem tool exists, so that a
# tree without it still builds everything else.
ifneq ($(wildcard mk/fs.part.mk),)
all: $(FW_ZIP)
TEST_EXTRA_DEPS += $(FW_ZIP)
RUN_DEPS += $(FW_ZIP)
endif

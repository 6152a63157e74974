# Source lists, one block per module (lwIP Filelists.mk style).
# Each module owns its block; the Makefile never lists sources itself.

CORE_SRCS := src/core/err.c src/core/alloc.c src/core/log.c src/core/util.c \
  src/core/buf.c src/core/base64.c src/core/glob.c

FLASH_SRCS := src/flash/flash.c

# Partition table, app image, firmware bundle parsing (device side).
PART_SRCS :=

FS_SRCS :=

# Everything that goes into build/lib/libmoss.a (the device runtime).
MOSS_LIB_SRCS := $(CORE_SRCS) $(FLASH_SRCS) $(PART_SRCS) $(FS_SRCS)

# Host-only hardware models: build/lib/libmoss_emu.a.
EMU_SRCS := emu/flash_emu.c

# Programs.
MOSSD_SRCS := app/mossd/main.c
MOS_SRCS := tools/mos/main.c

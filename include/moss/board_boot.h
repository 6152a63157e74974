/*
 * moss/board_boot.h - esp32-sim: the boot-time checks of the flash
 * contents (device code, in libmoss.a).
 *
 * moss_board_boot_check() is steps 2, 3 and 6 of the esp32-sim boot
 * sequence (esp32.md §5.3), without flash encryption: bootloader header at
 * 0x1000, partition table at 0x8000, app selection via otadata, app image
 * verification.  It logs the same lines the spec gives.
 *
 * It takes a raw flash view (struct moss_flash, borrowed for the call).
 * Flash encryption will hook in by handing it a decrypting view for the
 * encrypted regions; see the FE comments in the source.
 *
 * Heap: none (about 4.5 KB of stack).  How the flash got its contents
 * (a factory programmer, `mos flash`) is not this module's business: the
 * host-side factory flasher is moss/board_factory.h.
 */
#ifndef MOSS_BOARD_BOOT_H
#define MOSS_BOARD_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "moss/flash.h"
#include "moss/fwimg.h"
#include "moss/part.h"

struct moss_boot_info {
  struct moss_part_table pt;     /* the verified partition table */
  uint32_t app_offset, app_size; /* the partition booted */
  char app_label[MOSS_PART_LABEL_MAX + 1];
  unsigned app_slot;           /* OTA slot index (0 = app_0) */
  uint32_t ota_seq;            /* winning otadata sequence, 0 = none */
  uint32_t fs_offset, fs_size; /* the filesystem partition to mount */
  char fs_label[MOSS_PART_LABEL_MAX + 1];
  bool fs_encrypted;        /* partition flagged encrypted */
  struct moss_app_desc app; /* identity of the booted firmware */
  uint32_t app_len;         /* bytes of the app image */
};

/* Check what is on flash and choose the app and filesystem.  out is fully
 * written on success.  Returns MOSS_OK; MOSS_ERR_NOENT when there is no
 * valid bootloader image at 0x1000; MOSS_ERR_CORRUPT for an invalid
 * partition table or no bootable app; or a flash read error. */
int moss_board_boot_check(const struct moss_flash *flash,
                          struct moss_boot_info *out);

#endif

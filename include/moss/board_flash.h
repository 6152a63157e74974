/*
 * moss/board_flash.h - esp32-sim: factory flashing from a firmware bundle
 * and the boot-time checks of the flash contents.
 *
 * A firmware bundle (build/fw.zip, mos-cli.md §6.1) is a zip holding
 * manifest.json and the part files:
 *
 *   {"name": "moss", "platform": "esp32", "version": "0.1.0",
 *    "build_id": "20250101-000000/1a2b3c4",
 *    "parts": {
 *      "boot": {"type": "boot", "addr": 4096, "src": "bootloader.bin",
 *               "size": 160, "encrypt": true, "sha256": "<hex>"},
 *      "nvs":  {"type": "nvs", "ptn": "nvs", "fill": 255, "size": 16384,
 *               "encrypt": false, "sha256": "<hex of the filled bytes>"},
 *      ...}}
 *
 * A part is placed at "addr", or, with "ptn", inside that partition of the
 * bundle's own partition table (the part of type "pt"): at the partition
 * start for app parts, at start + addr (default 0) for the others.  A part
 * has either "src" (a file in the zip) or "fill" + "size" (size bytes of
 * that value).  "sha256" is optional (Mongoose OS bundles lack it); when
 * present it must match.
 *
 * moss_board_factory_flash() is what a factory programmer (or `mossd
 * --flash-bundle`) does: everything is checked before the first erase, so
 * a bad bundle leaves the flash untouched; then each part's sectors are
 * erased and programmed, then every part is read back and compared by
 * SHA-256.  Errors are logged as "<bundle>: <reason>".
 *
 * moss_board_boot_check() is steps 2, 3 and 6 of the esp32-sim boot
 * sequence (esp32.md §5.3), without flash encryption: bootloader header at
 * 0x1000, partition table at 0x8000, app selection via otadata, app image
 * verification.  It logs the same lines the spec gives.
 *
 * Both take a raw flash view (struct moss_flash, borrowed for the call).
 * Flash encryption will hook in by handing these functions a decrypting
 * view for the encrypted regions; see the FE comments in the source.
 *
 * Heap: the manifest text and cJSON tree (MOSS_SUB_FLASH / cJSON's hooks)
 * during factory flashing only; libzip allocates with the host malloc (it
 * is host-side wiring of the simulated board, not device code).  The boot
 * check uses no heap (about 4.5 KB of stack).
 */
#ifndef MOSS_BOARD_FLASH_H
#define MOSS_BOARD_FLASH_H

#include <stdint.h>

#include "moss/flash.h"
#include "moss/fwimg.h"
#include "moss/part.h"

/* Caps on what a bundle may contain. */
#define MOSS_BOARD_MANIFEST_MAX (64u * 1024u)
#define MOSS_BOARD_MAX_PARTS 16u

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

/* Write the bundle at bundle_path (a .zip) onto flash.  flash->size bounds
 * every part.  Returns MOSS_OK, or MOSS_ERR_IO (cannot open/read the zip),
 * MOSS_ERR_CORRUPT (bad manifest, missing part, sha256 mismatch, bad
 * partition table, read-back mismatch), MOSS_ERR_RANGE (part beyond the
 * flash or its partition), MOSS_ERR_NOMEM, or a flash error.  On an error
 * after writing began the flash holds a partial image (as a real factory
 * programmer interrupted midway would); boot_check then fails. */
int moss_board_factory_flash(const struct moss_flash *flash,
                             const char *bundle_path);

/* Check what is on flash and choose the app and filesystem.  out is fully
 * written on success.  Returns MOSS_OK; MOSS_ERR_NOENT when there is no
 * valid bootloader image at 0x1000; MOSS_ERR_CORRUPT for an invalid
 * partition table or no bootable app; or a flash read error. */
int moss_board_boot_check(const struct moss_flash *flash,
                          struct moss_boot_info *out);

#endif

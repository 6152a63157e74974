/*
 * moss/board_factory.h - esp32-sim: factory flashing from a firmware
 * bundle.  Host-only: in libmoss_emu.a with the rest of the simulated
 * board's wiring, never in the device library (it needs libzip).
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
 * SHA-256.  Errors are logged as "<bundle>: <reason>".  What the device
 * then checks at boot is moss/board_boot.h.
 *
 * It takes a raw flash view (struct moss_flash, borrowed for the call).
 * Flash encryption will hook in by handing it an encrypting view for the
 * parts marked "encrypt"; see the FE comments in the source.
 *
 * Heap: the manifest text and cJSON tree (MOSS_SUB_FLASH / cJSON's hooks)
 * during the call only; libzip allocates with the host malloc.
 */
#ifndef MOSS_BOARD_FACTORY_H
#define MOSS_BOARD_FACTORY_H

#include "moss/flash.h"

/* Caps on what a bundle may contain. */
#define MOSS_BOARD_MANIFEST_MAX (64u * 1024u)
#define MOSS_BOARD_MAX_PARTS 16u

/* Write the bundle at bundle_path (a .zip) onto flash.  flash->size bounds
 * every part.  Returns MOSS_OK, or MOSS_ERR_IO (cannot open/read the zip),
 * MOSS_ERR_CORRUPT (bad manifest, missing part, sha256 mismatch, bad
 * partition table, read-back mismatch), MOSS_ERR_RANGE (part beyond the
 * flash or its partition), MOSS_ERR_NOMEM, or a flash error.  On an error
 * after writing began the flash holds a partial image (as a real factory
 * programmer interrupted midway would); moss_board_boot_check() then
 * fails. */
int moss_board_factory_flash(const struct moss_flash *flash,
                             const char *bundle_path);

#endif

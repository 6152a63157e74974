/*
 * moss/fwimg.h - ESP32 firmware image files (bootloader and app), as
 * written by esptool's elf2image, and moss's app description.
 *
 * On esp32-sim no Xtensa code runs: the images are markers the board
 * validates at boot (esp32.md §2, §5.3) and that carry the identity of the
 * firmware (name, version, build id, digest) reported by Sys.GetInfo.
 *
 * Image layout (all integers little-endian):
 *
 *   off  size  field
 *   0    1     magic 0xE9
 *   1    1     segment count (1..16)
 *   2    1     SPI flash mode (0 QIO, 1 QOUT, 2 DIO, 3 DOUT); moss: 2
 *   3    1     flash size (high nibble: 2 = 4 MB) | frequency (low
 *              nibble: 0 = 40 MHz); moss: 0x20.  mos rewrites bytes 2..3
 *              at 0x1000 to the detected flash parameters when flashing.
 *   4    4     entry address (no code runs; a plausible IRAM address)
 *   8    1     WP pin (0xEE = none)
 *   9    3     SPI pin drive settings (0)
 *   12   2     chip id: 0 = ESP32
 *   14   1     minimum chip revision (0)
 *   15   8     reserved (0)
 *   23   1     hash appended: 1 = a SHA-256 follows the checksum
 *   24   ...   segments: u32 load address, u32 length (multiple of 4),
 *              then length bytes of data
 *   ...        zero padding so that the byte after the checksum is at a
 *              multiple of 16, then the checksum byte: 0xEF XOR every byte
 *              of segment data (headers excluded)
 *   ...   32   SHA-256 of every byte from offset 0 through the checksum
 *
 * App description (moss_app_desc on flash, modelled on ESP-IDF's
 * esp_app_desc_t), the first MOSS_FWIMG_APP_DESC_SIZE bytes of the data of
 * the app image's first segment (load address 0x3F400020, DROM):
 *
 *   off  size  field
 *   0    4     magic 0xABCD5432
 *   4    4     secure_version (0)
 *   8    8     reserved (0)
 *   16   32    version, NUL-padded, e.g. "0.1.0"
 *   48   32    project_name, NUL-padded: "moss"
 *   80   16    time "HH:MM:SS" (UTC build time)
 *   96   16    date "YYYY-MM-DD"
 *   112  32    idf_ver: "moss" (there is no ESP-IDF underneath)
 *   144  32    build id, NUL-padded text, e.g. "20250101-000000/1a2b3c4"
 *              (ESP-IDF's app_elf_sha256; there is no ELF to hash)
 *   176  80    reserved (0)
 *
 * Text fields need not be NUL-terminated on flash (a full 32-byte field);
 * the parser copies them into NUL-terminated buffers and replaces bytes
 * outside printable ASCII by '?', so they can be logged and put in JSON.
 *
 * Lifecycle: none.  The builder writes into a caller buffer, the verifier
 * reads through a flash view or from memory; nothing is allocated and no
 * pointer is kept.
 */
#ifndef MOSS_FWIMG_H
#define MOSS_FWIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/flash.h"

#define MOSS_FWIMG_MAGIC 0xE9u
#define MOSS_FWIMG_HEADER_SIZE 24u
#define MOSS_FWIMG_SEG_HEADER_SIZE 8u
#define MOSS_FWIMG_MAX_SEGMENTS 16u
#define MOSS_FWIMG_CHECKSUM_SEED 0xEFu
#define MOSS_FWIMG_HASH_SIZE 32u
#define MOSS_FWIMG_CHIP_ESP32 0x0000u

#define MOSS_FWIMG_FLASH_MODE_DIO 0x02u
#define MOSS_FWIMG_FLASH_4MB_40M 0x20u
#define MOSS_FWIMG_ENTRY 0x40080404u     /* IRAM, as ESP-IDF apps use */
#define MOSS_FWIMG_DROM_ADDR 0x3F400020u /* first app segment */
#define MOSS_FWIMG_BOOT_ADDR 0x3FFF0000u /* bootloader DRAM segment */

#define MOSS_FWIMG_APP_DESC_MAGIC 0xABCD5432u
#define MOSS_FWIMG_APP_DESC_SIZE 256u

/* Decoded app description; every string NUL-terminated. */
struct moss_app_desc {
  char name[33];     /* project_name, "moss" */
  char version[33];  /* e.g. "0.1.0" */
  char build_id[33]; /* e.g. "20250101-000000/1a2b3c4" */
  char date[17];     /* "YYYY-MM-DD" */
  char time[17];     /* "HH:MM:SS" */
  char idf_ver[33];  /* "moss" */
  char sha256[65];   /* lower-case hex of the image's appended SHA-256;
                        filled by the verifier, ignored by the encoder */
};

/* What the verifier found. */
struct moss_fwimg_info {
  uint8_t segments;
  uint8_t flash_mode;
  uint8_t flash_size_freq;
  uint32_t entry;
  uint32_t len; /* whole image, including the SHA-256 */
  uint8_t sha256[MOSS_FWIMG_HASH_SIZE];
  bool has_desc; /* an app description was found and decoded */
  struct moss_app_desc desc;
  char reason[96]; /* why verification failed; empty on success */
};

/* One segment for the builder; data is borrowed for the call. */
struct moss_fwimg_seg {
  uint32_t load_addr;
  const void *data;
  size_t len; /* padded with zeros to a multiple of 4 in the image */
};

/* Bytes moss_fwimg_build() needs for these segments. */
size_t moss_fwimg_build_size(const struct moss_fwimg_seg *segs, size_t n);

/* Write an image (header for ESP32, DIO 4 MB 40 MHz, hash appended) of n
 * segments (1..16) into out (cap bytes).  *out_len gets the image length.
 * Errors: MOSS_ERR_INVAL (n), MOSS_ERR_NOSPC (cap too small),
 * MOSS_ERR_CRYPTO. */
int moss_fwimg_build(uint8_t *out, size_t cap, size_t *out_len,
                     const struct moss_fwimg_seg *segs, size_t n,
                     uint32_t entry);

/* Encode d (sha256 ignored) into the 256-byte on-flash form.  Strings
 * longer than their field are MOSS_ERR_TOOBIG. */
int moss_fwimg_app_desc_encode(uint8_t out[MOSS_FWIMG_APP_DESC_SIZE],
                               const struct moss_app_desc *d);

/* Verify the image at [off, off + max_len) of f: magic, chip id, segment
 * count, every length within max_len, checksum, appended SHA-256.  With
 * want_desc, the first segment must start with an app description, which
 * is decoded into info->desc (with desc.sha256 set).  info is always
 * written; on failure info->reason says why.
 * Errors: MOSS_ERR_CORRUPT (the image is bad), or the flash read's error
 * (MOSS_ERR_RANGE, MOSS_ERR_FAULT, ...). */
int moss_fwimg_verify(const struct moss_flash *f, uint32_t off,
                      uint32_t max_len, bool want_desc,
                      struct moss_fwimg_info *info);
/* The same over memory: buf holds len bytes. */
int moss_fwimg_verify_buf(const uint8_t *buf, size_t len, bool want_desc,
                          struct moss_fwimg_info *info);

#endif

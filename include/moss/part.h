/*
 * moss/part.h - the ESP32 flash map and the ESP-IDF partition table.
 *
 * The table lives at flash offset 0x8000 (MOSS_PART_TABLE_OFFSET) and is at
 * most 0xC00 bytes: 32-byte little-endian entries
 *
 *   0  u16  magic 0x50AA          12  char[16] label, NUL-padded
 *   2  u8   type (0 app, 1 data)  28  u32 flags, bit 0 = encrypted
 *   3  u8   subtype
 *   4  u32  offset                 8  u32 size
 *
 * then optionally one MD5 entry (0xEBEB, 14 x 0xFF, MD5 of every preceding
 * byte of the table), then 0xFF up to 0xC00.  The first entry whose magic
 * is 0xFFFF ends the table.
 *
 * Validity (moss_part_parse), first failure wins:
 *  - every entry before the end marker has magic 0x50AA or 0xEBEB;
 *  - at most one MD5 entry, its 14 pad bytes are 0xFF, its digest matches,
 *    and no partition entry follows it (it would not be covered);
 *  - each partition has size > 0, lies within the flash and above the
 *    table (offset >= 0x9000), does not overlap another one and its label
 *    is unique and non-empty;
 *  - app partitions are 64 KB aligned, other partitions 4 KB aligned, the
 *    data/ota (otadata) partition is exactly 0x2000 bytes.
 * A table without any partition is invalid ("empty table").
 *
 * Also here: the otadata format (two 4 KB sectors, each starting with an
 * ESP-IDF esp_ota_select_entry_t) and the selection rule of the ESP-IDF
 * bootloader.
 *
 * Pure functions: no heap, no I/O, no global state.  Every struct is
 * caller-owned; nothing keeps a pointer to its inputs after returning.
 */
#ifndef MOSS_PART_H
#define MOSS_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- flash map of the 4 MB ESP32 module (esp32.md §2) ------------------ */
#define MOSS_FW_BOOT_OFFSET 0x1000u   /* second-stage bootloader image */
#define MOSS_FW_BOOT_MAX_SIZE 0x7000u /* up to the table */
#define MOSS_PART_TABLE_OFFSET 0x8000u
#define MOSS_PART_TABLE_SIZE 0xC00u    /* bytes the table may use */
#define MOSS_PART_TABLE_SECTOR 0x1000u /* the sector it occupies */
#define MOSS_PART_FIRST_OFFSET 0x9000u /* partitions start here or later */

#define MOSS_PART_ENTRY_SIZE 32u
/* 0xC00 / 32 slots, one of which an MD5 entry may take. */
#define MOSS_PART_MAX_ENTRIES 96u
#define MOSS_PART_LABEL_MAX 16u /* bytes on flash, without NUL */
#define MOSS_PART_REASON_MAX 96u

#define MOSS_PART_MAGIC 0x50AAu
#define MOSS_PART_MD5_MAGIC 0xEBEBu

#define MOSS_PART_TYPE_APP 0x00u
#define MOSS_PART_TYPE_DATA 0x01u

#define MOSS_PART_SUBTYPE_FACTORY 0x00u
#define MOSS_PART_SUBTYPE_OTA_0 0x10u /* ota_N = 0x10 + N, N < 16 */
#define MOSS_PART_SUBTYPE_TEST 0x20u

#define MOSS_PART_SUBTYPE_OTADATA 0x00u
#define MOSS_PART_SUBTYPE_PHY 0x01u
#define MOSS_PART_SUBTYPE_NVS 0x02u
#define MOSS_PART_SUBTYPE_COREDUMP 0x03u
#define MOSS_PART_SUBTYPE_NVS_KEYS 0x04u
#define MOSS_PART_SUBTYPE_EFUSE 0x05u
#define MOSS_PART_SUBTYPE_UNDEFINED 0x06u
#define MOSS_PART_SUBTYPE_ESPHTTPD 0x80u
#define MOSS_PART_SUBTYPE_FAT 0x81u
#define MOSS_PART_SUBTYPE_SPIFFS 0x82u
/* moss_part_find_type(): match any subtype (ESP_PARTITION_SUBTYPE_ANY). */
#define MOSS_PART_SUBTYPE_ANY 0xFFu

#define MOSS_PART_FLAG_ENCRYPTED 0x1u

#define MOSS_PART_OTADATA_SIZE 0x2000u

struct moss_part_entry {
  uint8_t type;
  uint8_t subtype;
  uint32_t offset;
  uint32_t size;
  uint32_t flags;
  char label[MOSS_PART_LABEL_MAX + 1]; /* always NUL-terminated */
};

struct moss_part_table {
  struct moss_part_entry e[MOSS_PART_MAX_ENTRIES];
  size_t n;     /* partitions, in table order */
  bool has_md5; /* the table carried a (matching) MD5 entry */
  /* After a failed parse: why, e.g. "entry 2: bad magic 0x1234".  Empty on
   * success.  This is the <reason> of "partition table invalid: <reason>". */
  char reason[MOSS_PART_REASON_MAX];
};

/* Parse and validate the table in buf (len bytes, at least
 * MOSS_PART_TABLE_SIZE are looked at; a shorter buffer is treated as if
 * padded with 0xFF).  flash_size bounds every partition.
 * Returns MOSS_OK, or MOSS_ERR_CORRUPT with t->reason set.  Never reads past
 * buf + len. */
int moss_part_parse(struct moss_part_table *t, const uint8_t *buf, size_t len,
                    uint32_t flash_size);

/* Serialise n entries (n < MOSS_PART_MAX_ENTRIES) into out: entries, the
 * MD5 entry, 0xFF to MOSS_PART_TABLE_SIZE.  The entries are not validated
 * (write what you were given; parse it back to check).  Labels longer than
 * 16 bytes are MOSS_ERR_NAMETOOLONG.  Returns MOSS_OK or MOSS_ERR_INVAL /
 * MOSS_ERR_NAMETOOLONG / MOSS_ERR_CRYPTO. */
int moss_part_build(uint8_t out[MOSS_PART_TABLE_SIZE],
                    const struct moss_part_entry *e, size_t n);

/* The default 4 MB layout of esp32.md §4.2 (nvs, otadata, app_0, fs_0,
 * app_1, fs_1): a pointer to static storage and its length. */
const struct moss_part_entry *moss_part_default_layout(size_t *n);
/* moss_part_build() of that layout. */
int moss_part_build_default(uint8_t out[MOSS_PART_TABLE_SIZE]);

/* Lookups in a parsed table.  The returned pointer points into t and lives
 * as long as t.  NULL when absent. */
const struct moss_part_entry *moss_part_find(const struct moss_part_table *t,
                                             const char *label);
/* First partition with this type and subtype (MOSS_PART_SUBTYPE_ANY: any
 * subtype), in table order. */
const struct moss_part_entry *moss_part_find_type(
    const struct moss_part_table *t, uint8_t type, uint8_t subtype);

/* "app", "data" or "custom". Static storage. */
const char *moss_part_type_name(uint8_t type);

/* ---- otadata ------------------------------------------------------------
 * Each of the two 4 KB sectors of the otadata partition starts with a
 * 32-byte esp_ota_select_entry_t:
 *   0 u32 ota_seq   4 u8[20] seq_label   24 u32 ota_state   28 u32 crc
 * crc = CRC-32 (zlib) of the 4 bytes of ota_seq with initial value
 * 0xFFFFFFFF, as ESP-IDF's esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4).
 * An entry is valid when ota_seq is neither 0 nor 0xFFFFFFFF, its crc
 * matches, and ota_state is not INVALID (3) or ABORTED (4).  The valid entry
 * with the highest ota_seq wins and selects OTA app slot
 * (ota_seq - 1) % n_ota_slots.  No valid entry: slot 0 (ESP-IDF boots the
 * factory app, or ota_0 when there is none; moss has no factory app). */
#define MOSS_PART_OTA_STATE_NEW 0x0u
#define MOSS_PART_OTA_STATE_PENDING_VERIFY 0x1u
#define MOSS_PART_OTA_STATE_VALID 0x2u
#define MOSS_PART_OTA_STATE_INVALID 0x3u
#define MOSS_PART_OTA_STATE_ABORTED 0x4u
#define MOSS_PART_OTA_STATE_UNDEFINED 0xFFFFFFFFu

#define MOSS_PART_OTA_SEL_SIZE 32u   /* one esp_ota_select_entry_t */
#define MOSS_PART_OTA_SECTOR 0x1000u /* second copy at this offset */

/* Fill out (MOSS_PART_OTADATA_SIZE bytes) with 0xFF and, when seq != 0, an
 * entry with ota_seq = seq and ota_state = state in sector 0. */
void moss_part_otadata_build(uint8_t out[MOSS_PART_OTADATA_SIZE], uint32_t seq,
                             uint32_t state);
/* Apply the rule above to the entries at the start of the two otadata
 * sectors (MOSS_PART_OTA_SEL_SIZE bytes each, read from partition offsets
 * 0 and MOSS_PART_OTA_SECTOR).  Returns the slot index (0 .. n_slots-1);
 * *seq_out (may be NULL) gets the winning ota_seq, 0 when no entry was
 * valid.  n_slots 0 is treated as 1. */
unsigned moss_part_otadata_select(const uint8_t sel0[MOSS_PART_OTA_SEL_SIZE],
                                  const uint8_t sel1[MOSS_PART_OTA_SEL_SIZE],
                                  unsigned n_slots, uint32_t *seq_out);

#endif

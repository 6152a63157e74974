/*
 * Fuzz target: the partition table parser and the ESP32 image verifier,
 * the two parsers the board runs over flash contents at boot.
 *
 * Input: up to 0xC00 bytes of partition table; whatever follows is an
 * image (verified with and without an app description).  The first 64
 * bytes also serve as the two otadata entries.  A table that parses must
 * survive build -> parse unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moss/fwimg.h"
#include "moss/part.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct moss_part_table *t) {
  static struct moss_part_table t2;
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  if (t->n >= MOSS_PART_MAX_ENTRIES)
    abort();
  if (moss_part_build(tab, t->e, t->n) != 0)
    abort();
  if (moss_part_parse(&t2, tab, sizeof(tab), 4u << 20) != 0)
    abort();
  if (t2.n != t->n)
    abort();
  for (size_t i = 0; i < t->n; i++) {
    if (t2.e[i].offset != t->e[i].offset || t2.e[i].size != t->e[i].size ||
        strcmp(t2.e[i].label, t->e[i].label) != 0) {
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct moss_part_table t;
  size_t tlen = size < MOSS_PART_TABLE_SIZE ? size : MOSS_PART_TABLE_SIZE;
  if (moss_part_parse(&t, data, tlen, 4u << 20) == 0) {
    check_round_trip(&t);
    (void)moss_part_find(&t, "fs_0");
    (void)moss_part_find_type(&t, 0, 0x10);
  } else if (t.reason[0] == '\0' ||
             memchr(t.reason, 0, sizeof(t.reason)) == NULL) {
    abort(); /* every failure has a NUL-terminated reason */
  }
  if (size >= 2 * MOSS_PART_OTA_SEL_SIZE) {
    unsigned slot =
        moss_part_otadata_select(data, data + MOSS_PART_OTA_SEL_SIZE, 2, NULL);
    if (slot >= 2)
      abort();
  }
  if (size > MOSS_PART_TABLE_SIZE) {
    struct moss_fwimg_info info;
    const uint8_t *img = data + MOSS_PART_TABLE_SIZE;
    size_t ilen = size - MOSS_PART_TABLE_SIZE;
    if (moss_fwimg_verify_buf(img, ilen, true, &info) == 0 &&
        (info.len > ilen || !info.has_desc)) {
      abort();
    }
    (void)moss_fwimg_verify_buf(img, ilen, false, &info);
  }
  return 0;
}

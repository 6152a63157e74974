/* Partition table: golden bytes of the default layout, parser rules,
 * lookups, otadata selection. */
#include <string.h>

#include <mbedtls/md5.h>

#include "harness.h"
#include "moss/err.h"
#include "moss/part.h"
#include "moss/util.h"
#include "part_test.h"

#define FLASH_4M (4u << 20)

/* esp32.md §4.2, first 0xE0 bytes of the table, as printed there. */
static const char *const golden_hex =
    "aa 50 01 02 00 90 00 00 00 40 00 00 6e 76 73 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "aa 50 01 00 00 d0 00 00 00 20 00 00 6f 74 61 64"
    "61 74 61 00 00 00 00 00 00 00 00 00 01 00 00 00"
    "aa 50 00 10 00 00 01 00 00 00 18 00 61 70 70 5f"
    "30 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00"
    "aa 50 01 82 00 00 19 00 00 00 04 00 66 73 5f 30"
    "00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00"
    "aa 50 00 11 00 00 1d 00 00 00 18 00 61 70 70 5f"
    "31 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00"
    "aa 50 01 82 00 00 35 00 00 00 04 00 66 73 5f 31"
    "00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00"
    "eb eb ff ff ff ff ff ff ff ff ff ff ff ff ff ff"
    "f0 de 77 60 72 c7 1c 4e 2b f2 9e 6d 7c 5a 6c 4a";

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (; *s; s++) {
    int v;
    if (*s >= '0' && *s <= '9')
      v = *s - '0';
    else if (*s >= 'a' && *s <= 'f')
      v = *s - 'a' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else if (n < cap) {
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return n;
}

static void test_default_table_golden(void) {
  uint8_t want[MOSS_PART_TABLE_SIZE], got[MOSS_PART_TABLE_SIZE];
  memset(want, 0xFF, sizeof(want));
  MT_REQUIRE(unhex(golden_hex, want, sizeof(want)) == 0xE0);
  memset(got, 0, sizeof(got));
  MT_REQUIRE(moss_part_build_default(got) == MOSS_OK);
  MT_CHECK_MEM(got, want, sizeof(want));
  /* The MD5 printed in the spec, computed independently here. */
  uint8_t md5[16], spec_md5[16];
  unhex("f0de776072c71c4e2bf29e6d7c5a6c4a", spec_md5, 16);
  MT_REQUIRE(mbedtls_md5(got, 0xC0, md5) == 0);
  MT_CHECK_MEM(md5, spec_md5, 16);
  MT_CHECK_MEM(got + 0xD0, spec_md5, 16);
}

static void test_parse_default(void) {
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  struct moss_part_table t;
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  MT_REQUIRE(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M) == MOSS_OK);
  MT_CHECK_EQ(t.n, 6);
  MT_CHECK(t.has_md5);
  MT_CHECK_STR(t.reason, "");
  const struct moss_part_entry *e = moss_part_find(&t, "fs_0");
  MT_REQUIRE(e != NULL);
  MT_CHECK_EQ(e->offset, 0x190000);
  MT_CHECK_EQ(e->size, 0x40000);
  MT_CHECK_EQ(e->type, MOSS_PART_TYPE_DATA);
  MT_CHECK_EQ(e->subtype, MOSS_PART_SUBTYPE_SPIFFS);
  MT_CHECK_EQ(e->flags, MOSS_PART_FLAG_ENCRYPTED);
  e = moss_part_find(&t, "nvs");
  MT_REQUIRE(e != NULL);
  MT_CHECK_EQ(e->flags, 0);
  MT_CHECK(moss_part_find(&t, "fs_2") == NULL);
  MT_CHECK(moss_part_find(&t, "fs_") == NULL);
  e = moss_part_find_type(&t, MOSS_PART_TYPE_APP, MOSS_PART_SUBTYPE_OTA_0 + 1);
  MT_REQUIRE(e != NULL);
  MT_CHECK_STR(e->label, "app_1");
  e = moss_part_find_type(&t, MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_ANY);
  MT_REQUIRE(e != NULL);
  MT_CHECK_STR(e->label, "nvs");
  e = moss_part_find_type(&t, MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_OTADATA);
  MT_REQUIRE(e != NULL);
  MT_CHECK_EQ(e->offset, 0xd000);
  MT_CHECK(moss_part_find_type(&t, MOSS_PART_TYPE_APP,
                               MOSS_PART_SUBTYPE_FACTORY) == NULL);
  MT_CHECK_STR(moss_part_type_name(0), "app");
  MT_CHECK_STR(moss_part_type_name(1), "data");
  MT_CHECK_STR(moss_part_type_name(0x40), "custom");
}

/* Build a table from the default layout with entry i changed by fn. */
static int parse_modified(struct moss_part_table *t, size_t idx,
                          void (*fn)(struct moss_part_entry *),
                          uint32_t flash_size) {
  size_t n;
  const struct moss_part_entry *def = moss_part_default_layout(&n);
  struct moss_part_entry e[8];
  memcpy(e, def, n * sizeof(e[0]));
  if (fn != NULL)
    fn(&e[idx]);
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  if (moss_part_build(tab, e, n) != MOSS_OK)
    return MOSS_ERR_INTERNAL;
  return moss_part_parse(t, tab, sizeof(tab), flash_size);
}

static void set_past_flash(struct moss_part_entry *e) {
  e->offset = 0x3f0000;
  e->size = 0x20000;
}
static void set_wrap(struct moss_part_entry *e) {
  e->offset = 0xfffff000u;
  e->size = 0x2000;
}
static void set_overlap(struct moss_part_entry *e) {
  e->offset = 0x180000; /* inside app_0 */
}
static void set_misaligned_app(struct moss_part_entry *e) {
  e->offset = 0x11000;
  e->size = 0x10000;
}
static void set_bad_otadata(struct moss_part_entry *e) {
  e->size = 0x3000;
}
static void set_dup_label(struct moss_part_entry *e) {
  memcpy(e->label, "nvs", 4);
}
static void set_zero_size(struct moss_part_entry *e) {
  e->size = 0;
}
static void set_below_table(struct moss_part_entry *e) {
  e->offset = 0x8000;
}
static void set_empty_label(struct moss_part_entry *e) {
  e->label[0] = '\0';
}

static void test_parse_rejects_layout_errors(void) {
  struct moss_part_table t;
  static const struct {
    size_t idx;
    void (*fn)(struct moss_part_entry *);
    const char *reason;
  } cases[] = {
      {5, set_past_flash, "fs_1: 0x3f0000+0x20000 is beyond the flash size"},
      {5, set_wrap, "is beyond the flash size"},
      {3, set_overlap, "fs_0 overlaps app_0"},
      {2, set_misaligned_app, "app_0: offset 0x11000 is not 0x10000-aligned"},
      {1, set_bad_otadata, "otadata: otadata size 0x3000 is not 0x2000"},
      {5, set_dup_label, "duplicate label nvs"},
      {0, set_zero_size, "nvs: size 0"},
      {0, set_below_table, "nvs: offset 0x8000 overlaps"},
      {4, set_empty_label, "entry 4: empty label"},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++) {
    int ret = parse_modified(&t, cases[i].idx, cases[i].fn, FLASH_4M);
    MT_CHECK_EQ(ret, MOSS_ERR_CORRUPT);
    if (strstr(t.reason, cases[i].reason) == NULL) {
      mt_fail(__FILE__, __LINE__, "case %zu: reason \"%s\", want \"%s\"", i,
              t.reason, cases[i].reason);
    }
    MT_CHECK_EQ(t.n, 0);
  }
  /* The default layout on a 2 MB flash: fs_1 and app_1 do not fit. */
  MT_CHECK_EQ(parse_modified(&t, 0, NULL, 2u << 20), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(t.reason, "app_1: 0x1d0000+0x180000 is beyond") != NULL);
}

static void test_parse_rejects_bad_magic(void) {
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  struct moss_part_table t;
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  tab[0x40] = 0xAB; /* app_0 magic */
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "entry 2: bad magic 0x50ab");
  /* All zero (a zeroed sector) is not an empty table either. */
  memset(tab, 0, sizeof(tab));
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "entry 0: bad magic 0x0000");
  /* Erased flash. */
  memset(tab, 0xFF, sizeof(tab));
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "empty table");
}

static void test_parse_rejects_md5_mismatch(void) {
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  struct moss_part_table t;
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  tab[0x68] ^= 0x01; /* fs_0 size, still a plausible table */
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "MD5 mismatch");
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  tab[0xDF] ^= 0x80; /* the digest itself */
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "MD5 mismatch");
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  tab[0xC5] = 0x00; /* padding of the MD5 entry */
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "entry 6: malformed MD5 entry");
}

static void test_parse_rejects_two_md5(void) {
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  struct moss_part_table t;
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  /* A second copy of the (valid) MD5 entry right after the first. */
  memcpy(tab + 0xE0, tab + 0xC0, 32);
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "entry 7: more than one MD5 entry");
  /* A partition after the MD5 entry is not covered by it. */
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  memcpy(tab + 0xE0, tab + 0x00, 32);
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "entry 7: partition after the MD5 entry");
}

static void test_parse_without_md5_and_short(void) {
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  struct moss_part_table t;
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  /* ESP-IDF can be built without the MD5 entry: still valid. */
  memset(tab + 0xC0, 0xFF, 32);
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M), MOSS_OK);
  MT_CHECK_EQ(t.n, 6);
  MT_CHECK(!t.has_md5);
  /* A buffer cut after the MD5 entry reads as erased beyond its end. */
  MT_REQUIRE(moss_part_build_default(tab) == MOSS_OK);
  MT_CHECK_EQ(moss_part_parse(&t, tab, 0xE0, FLASH_4M), MOSS_OK);
  MT_CHECK_EQ(t.n, 6);
  /* Cut inside an entry: the padded label is garbage. */
  MT_CHECK_EQ(moss_part_parse(&t, tab, 0x50, FLASH_4M), MOSS_ERR_CORRUPT);
  MT_CHECK_STR(t.reason, "entry 2: label not printable");
  /* Labels of exactly 16 bytes are not NUL-terminated on flash. */
  struct moss_part_entry e = {
      MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_NVS, 0x9000, 0x1000, 0,
      "0123456789abcdef"};
  MT_REQUIRE(moss_part_build(tab, &e, 1) == MOSS_OK);
  MT_CHECK_EQ(tab[12 + 15], 'f');
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M), MOSS_OK);
  MT_CHECK_STR(t.e[0].label, "0123456789abcdef");
}

static void test_build_limits(void) {
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  struct moss_part_entry e[MOSS_PART_MAX_ENTRIES];
  memset(e, 0, sizeof(e));
  for (size_t i = 0; i < MOSS_PART_MAX_ENTRIES - 1; i++) {
    e[i].type = MOSS_PART_TYPE_DATA;
    e[i].subtype = MOSS_PART_SUBTYPE_NVS;
    e[i].offset = 0x9000 + (uint32_t)i * 0x1000;
    e[i].size = 0x1000;
    e[i].label[0] = (char)('A' + i % 26);
    e[i].label[1] = (char)('a' + i / 26);
  }
  /* 95 partitions + MD5 fill all 96 slots: the largest valid table. */
  MT_REQUIRE(moss_part_build(tab, e, MOSS_PART_MAX_ENTRIES - 1) == MOSS_OK);
  struct moss_part_table t;
  MT_CHECK_EQ(moss_part_parse(&t, tab, sizeof(tab), FLASH_4M), MOSS_OK);
  MT_CHECK_EQ(t.n, MOSS_PART_MAX_ENTRIES - 1);
  MT_CHECK(t.has_md5);
  MT_CHECK_EQ(moss_part_build(tab, e, MOSS_PART_MAX_ENTRIES), MOSS_ERR_INVAL);
}

static void test_otadata_select(void) {
  uint8_t a[MOSS_PART_OTADATA_SIZE], b[MOSS_PART_OTADATA_SIZE];
  uint32_t seq;
  /* Erased: slot 0. */
  moss_part_otadata_build(a, 0, 0);
  MT_CHECK_EQ(moss_part_otadata_select(a, a + MOSS_PART_OTA_SECTOR, 2, &seq),
              0);
  MT_CHECK_EQ(seq, 0);
  /* seq 1 -> ota_0, seq 2 -> ota_1, seq 3 -> ota_0. */
  for (uint32_t s = 1; s <= 5; s++) {
    moss_part_otadata_build(a, s, MOSS_PART_OTA_STATE_VALID);
    MT_CHECK_EQ(moss_part_otadata_select(a, a + MOSS_PART_OTA_SECTOR, 2, &seq),
                (s - 1) % 2);
    MT_CHECK_EQ(seq, s);
  }
  /* ESP-IDF's CRC of ota_seq = 1 (crc32_le(UINT32_MAX, 01 00 00 00)). */
  moss_part_otadata_build(a, 1, MOSS_PART_OTA_STATE_UNDEFINED);
  MT_CHECK_EQ(moss_get_le32(a + 28), 0x4743989au);
  /* Highest valid seq wins across the two sectors. */
  moss_part_otadata_build(a, 4, MOSS_PART_OTA_STATE_VALID);
  moss_part_otadata_build(b, 3, MOSS_PART_OTA_STATE_VALID);
  MT_CHECK_EQ(moss_part_otadata_select(b, a, 2, &seq), 1);
  MT_CHECK_EQ(seq, 4);
  /* A torn newer copy (bad CRC) loses to the older one. */
  a[0] ^= 0x08;
  MT_CHECK_EQ(moss_part_otadata_select(b, a, 2, &seq), 0);
  MT_CHECK_EQ(seq, 3);
  /* An image marked invalid is not selected. */
  moss_part_otadata_build(a, 4, MOSS_PART_OTA_STATE_INVALID);
  MT_CHECK_EQ(moss_part_otadata_select(b, a, 2, &seq), 0);
  MT_CHECK_EQ(seq, 3);
  MT_CHECK_EQ(moss_part_otadata_select(b, a, 0, &seq), 0);
}

void part_tests_table(void) {
  MT_RUN(test_default_table_golden);
  MT_RUN(test_parse_default);
  MT_RUN(test_parse_rejects_layout_errors);
  MT_RUN(test_parse_rejects_bad_magic);
  MT_RUN(test_parse_rejects_md5_mismatch);
  MT_RUN(test_parse_rejects_two_md5);
  MT_RUN(test_parse_without_md5_and_short);
  MT_RUN(test_build_limits);
  MT_RUN(test_otadata_select);
}

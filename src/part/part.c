/*
 * ESP-IDF partition table: parser, builder, lookups.  See moss/part.h.
 *
 * The parser is on the boot path and reads flash contents, which are
 * untrusted (a torn write or a hostile reflash can leave anything there):
 * every field is range-checked before use, offsets are compared with 64-bit
 * arithmetic so offset + size cannot wrap, and the reason text names the
 * entry so a user staring at "partition table invalid" knows where to look.
 */
#include "moss/part.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md5.h>

#include "moss/err.h"
#include "moss/util.h"

#define MD5_LEN 16u

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
fail(struct moss_part_table *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
  va_end(ap);
  t->n = 0;
  t->has_md5 = false;
  return MOSS_ERR_CORRUPT;
}

/* Byte i of the table as if buf were padded with 0xFF (an erased tail). */
static uint8_t byte_at(const uint8_t *buf, size_t len, size_t i) {
  return i < len ? buf[i] : 0xFF;
}

static void copy_label(char dst[MOSS_PART_LABEL_MAX + 1], const uint8_t *src) {
  size_t i;
  for (i = 0; i < MOSS_PART_LABEL_MAX && src[i] != 0; i++) {
    dst[i] = (char)src[i];
  }
  dst[i] = '\0';
}

static int md5(const uint8_t *p, size_t n, uint8_t out[MD5_LEN]) {
  return mbedtls_md5(p, n, out) == 0 ? MOSS_OK : MOSS_ERR_CRYPTO;
}

/* Checks of one decoded partition against the flash and the ones before. */
static int check_entry(struct moss_part_table *t, size_t idx,
                       uint32_t flash_size) {
  const struct moss_part_entry *p = &t->e[idx];
  uint64_t end = (uint64_t)p->offset + p->size;
  if (p->label[0] == '\0')
    return fail(t, "entry %zu: empty label", idx);
  if (p->size == 0)
    return fail(t, "%s: size 0", p->label);
  if (p->offset < MOSS_PART_FIRST_OFFSET) {
    return fail(t, "%s: offset 0x%x overlaps the bootloader or table", p->label,
                (unsigned)p->offset);
  }
  if (end > flash_size) {
    return fail(t, "%s: 0x%x+0x%x is beyond the flash size 0x%x", p->label,
                (unsigned)p->offset, (unsigned)p->size, (unsigned)flash_size);
  }
  uint32_t align = p->type == MOSS_PART_TYPE_APP ? 0x10000u : 0x1000u;
  if (p->offset % align != 0) {
    return fail(t, "%s: offset 0x%x is not 0x%x-aligned", p->label,
                (unsigned)p->offset, (unsigned)align);
  }
  if (p->type == MOSS_PART_TYPE_DATA &&
      p->subtype == MOSS_PART_SUBTYPE_OTADATA &&
      p->size != MOSS_PART_OTADATA_SIZE) {
    return fail(t, "%s: otadata size 0x%x is not 0x2000", p->label,
                (unsigned)p->size);
  }
  for (size_t j = 0; j < idx; j++) {
    const struct moss_part_entry *q = &t->e[j];
    if (strcmp(q->label, p->label) == 0) {
      return fail(t, "duplicate label %s", p->label);
    }
    if (p->offset < (uint64_t)q->offset + q->size && q->offset < end) {
      return fail(t, "%s overlaps %s", p->label, q->label);
    }
  }
  return MOSS_OK;
}

int moss_part_parse(struct moss_part_table *t, const uint8_t *buf, size_t len,
                    uint32_t flash_size) {
  /* Work on a padded copy: the MD5 covers raw bytes and entries may sit
   * across the end of a short buffer. 3 KB of stack, no heap. */
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  for (size_t i = 0; i < sizeof(tab); i++)
    tab[i] = byte_at(buf, len, i);
  memset(t, 0, sizeof(*t));

  /* Pass 1, structure: magics and the MD5, before any field is believed,
   * so that a corrupted table is reported as such and not as whatever
   * nonsense its damaged fields describe. */
  bool md5_seen = false;
  size_t nent = 0;
  for (size_t slot = 0; slot < MOSS_PART_MAX_ENTRIES; slot++) {
    const uint8_t *p = tab + slot * MOSS_PART_ENTRY_SIZE;
    uint16_t magic = moss_get_le16(p);
    if (magic == 0xFFFFu)
      break;
    if (magic == MOSS_PART_MD5_MAGIC) {
      if (md5_seen)
        return fail(t, "entry %zu: more than one MD5 entry", slot);
      for (size_t i = 2; i < MD5_LEN; i++) {
        if (p[i] != 0xFF) {
          return fail(t, "entry %zu: malformed MD5 entry", slot);
        }
      }
      uint8_t want[MD5_LEN];
      if (md5(tab, slot * MOSS_PART_ENTRY_SIZE, want) != MOSS_OK) {
        return fail(t, "MD5 computation failed");
      }
      /* Not a secret: plain comparison is fine. */
      if (memcmp(want, p + MD5_LEN, MD5_LEN) != 0) {
        return fail(t, "MD5 mismatch");
      }
      md5_seen = true;
      continue;
    }
    if (magic != MOSS_PART_MAGIC) {
      return fail(t, "entry %zu: bad magic 0x%04x", slot, (unsigned)magic);
    }
    if (md5_seen) {
      return fail(t, "entry %zu: partition after the MD5 entry", slot);
    }
    nent++;
  }
  if (nent == 0)
    return fail(t, "empty table");

  /* Pass 2, contents: decode and check each partition. */
  for (size_t i = 0; i < nent; i++) {
    const uint8_t *p = tab + i * MOSS_PART_ENTRY_SIZE;
    struct moss_part_entry *e = &t->e[i];
    for (size_t j = 0; j < MOSS_PART_LABEL_MAX && p[12 + j] != 0; j++) {
      /* Labels end up in logs and JSON: printable ASCII only. */
      if (p[12 + j] < 0x20 || p[12 + j] > 0x7E) {
        return fail(t, "entry %zu: label not printable", i);
      }
    }
    e->type = p[2];
    e->subtype = p[3];
    e->offset = moss_get_le32(p + 4);
    e->size = moss_get_le32(p + 8);
    copy_label(e->label, p + 12);
    e->flags = moss_get_le32(p + 28);
    int ret = check_entry(t, i, flash_size);
    if (ret != MOSS_OK)
      return ret;
  }
  t->n = nent;
  t->has_md5 = md5_seen;
  t->reason[0] = '\0';
  return MOSS_OK;
}

int moss_part_build(uint8_t out[MOSS_PART_TABLE_SIZE],
                    const struct moss_part_entry *e, size_t n) {
  if (n >= MOSS_PART_MAX_ENTRIES)
    return MOSS_ERR_INVAL;
  memset(out, 0xFF, MOSS_PART_TABLE_SIZE);
  for (size_t i = 0; i < n; i++) {
    uint8_t *p = out + i * MOSS_PART_ENTRY_SIZE;
    size_t ll = strlen(e[i].label);
    if (ll > MOSS_PART_LABEL_MAX)
      return MOSS_ERR_NAMETOOLONG;
    moss_put_le16(p, MOSS_PART_MAGIC);
    p[2] = e[i].type;
    p[3] = e[i].subtype;
    moss_put_le32(p + 4, e[i].offset);
    moss_put_le32(p + 8, e[i].size);
    memset(p + 12, 0, MOSS_PART_LABEL_MAX);
    memcpy(p + 12, e[i].label, ll);
    moss_put_le32(p + 28, e[i].flags);
  }
  uint8_t *m = out + n * MOSS_PART_ENTRY_SIZE;
  moss_put_le16(m, MOSS_PART_MD5_MAGIC);
  return md5(out, n * MOSS_PART_ENTRY_SIZE, m + MD5_LEN);
}

#define ENC MOSS_PART_FLAG_ENCRYPTED
static const struct moss_part_entry default_layout[] = {
    {MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_NVS, 0x9000, 0x4000, 0, "nvs"},
    {MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_OTADATA, 0xd000, 0x2000, ENC,
     "otadata"},
    {MOSS_PART_TYPE_APP, MOSS_PART_SUBTYPE_OTA_0, 0x10000, 0x180000, ENC,
     "app_0"},
    /* moss encrypts the fs partitions (Mongoose OS SPIFFS builds did not,
     * which is how ca.pem leaked in plaintext). */
    {MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_SPIFFS, 0x190000, 0x40000, ENC,
     "fs_0"},
    {MOSS_PART_TYPE_APP, MOSS_PART_SUBTYPE_OTA_0 + 1, 0x1d0000, 0x180000, ENC,
     "app_1"},
    {MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_SPIFFS, 0x350000, 0x40000, ENC,
     "fs_1"},
};

const struct moss_part_entry *moss_part_default_layout(size_t *n) {
  *n = MOSS_ARRAY_SIZE(default_layout);
  return default_layout;
}

int moss_part_build_default(uint8_t out[MOSS_PART_TABLE_SIZE]) {
  return moss_part_build(out, default_layout, MOSS_ARRAY_SIZE(default_layout));
}

const struct moss_part_entry *moss_part_find(const struct moss_part_table *t,
                                             const char *label) {
  if (label == NULL)
    return NULL;
  for (size_t i = 0; i < t->n; i++) {
    if (strcmp(t->e[i].label, label) == 0)
      return &t->e[i];
  }
  return NULL;
}

const struct moss_part_entry *moss_part_find_type(
    const struct moss_part_table *t, uint8_t type, uint8_t subtype) {
  for (size_t i = 0; i < t->n; i++) {
    if (t->e[i].type == type &&
        (subtype == MOSS_PART_SUBTYPE_ANY || t->e[i].subtype == subtype)) {
      return &t->e[i];
    }
  }
  return NULL;
}

const char *moss_part_type_name(uint8_t type) {
  if (type == MOSS_PART_TYPE_APP)
    return "app";
  if (type == MOSS_PART_TYPE_DATA)
    return "data";
  return "custom"; /* 0x40..0xFE are user types in ESP-IDF */
}

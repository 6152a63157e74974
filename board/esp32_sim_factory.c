/*
 * esp32-sim: factory flashing from a firmware bundle.  See
 * moss/board_factory.h.
 *
 * Host-side wiring of the simulated board (libmoss_emu.a, with libzip):
 * what a factory programmer does before the device ever runs, so none of
 * it is in the device library.
 *
 * The bundle is untrusted input (a file anyone can hand to mossd): every
 * part is hashed and placed before the first erase, so a truncated zip, a
 * manifest pointing past the flash or a part whose digest does not match
 * leaves the flash exactly as it was.
 */
#include "moss/board_factory.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <mbedtls/sha256.h>
#include <zip.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/part.h"
#include "moss/util.h"

static const char *TAG = "esp32";

#define CHUNK 4096u
#define SHA_LEN 32u

struct part {
  const char *name; /* key in "parts"; points into the cJSON tree */
  const char *type;
  const char *src; /* NULL for fill parts */
  const char *ptn; /* NULL when placed by addr */
  uint32_t addr;   /* resolved flash offset */
  uint32_t size;
  uint8_t fill;
  bool has_addr, has_fill, has_sha, encrypt;
  uint8_t sha[SHA_LEN];    /* from the manifest */
  uint8_t digest[SHA_LEN]; /* of the bundle's bytes, pass 1 */
};

struct bundle {
  const char *path;
  zip_t *za;
  const struct moss_flash *flash;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
berr(const struct bundle *b, int code, const char *fmt, ...) {
  char why[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  MOSS_LOG_E(TAG, "%s: %s", b->path, why);
  return code;
}

static bool parse_sha(const char *s, uint8_t out[SHA_LEN]) {
  if (strlen(s) != 2 * SHA_LEN)
    return false;
  for (size_t i = 0; i < SHA_LEN; i++) {
    int hi = moss_hex_digit(s[2 * i]), lo = moss_hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

/* A manifest integer: a JSON number or a C-style string ("0x1000"). */
static bool get_u32(const cJSON *j, uint32_t *out) {
  if (cJSON_IsNumber(j)) {
    double d = j->valuedouble;
    /* Written so that NaN fails too, before the (then undefined) cast. */
    if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d) {
      return false;
    }
    *out = (uint32_t)d;
    return true;
  }
  if (cJSON_IsString(j) && j->valuestring[0] != '\0') {
    char *end;
    unsigned long long v = strtoull(j->valuestring, &end, 0);
    if (*end != '\0' || v > UINT32_MAX || j->valuestring[0] == '-') {
      return false;
    }
    *out = (uint32_t)v;
    return true;
  }
  return false;
}

static int read_manifest(struct bundle *b, cJSON **out) {
  *out = NULL;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(b->za, "manifest.json", 0, &st) != 0) {
    return berr(b, MOSS_ERR_CORRUPT, "no manifest.json");
  }
  if (!(st.valid & ZIP_STAT_SIZE) || st.size > MOSS_BOARD_MANIFEST_MAX) {
    return berr(b, MOSS_ERR_CORRUPT, "manifest.json too large");
  }
  size_t len = (size_t)st.size;
  char *text = moss_alloc(MOSS_SUB_FLASH, len + 1);
  if (text == NULL)
    return MOSS_ERR_NOMEM;
  int ret = MOSS_OK;
  zip_file_t *zf = zip_fopen(b->za, "manifest.json", 0);
  if (zf == NULL || zip_fread(zf, text, len) != (zip_int64_t)len) {
    ret = berr(b, MOSS_ERR_CORRUPT, "manifest.json: %s",
               zf ? zip_file_strerror(zf) : zip_strerror(b->za));
    goto out;
  }
  text[len] = '\0';
  *out = cJSON_ParseWithLength(text, len);
  if (*out == NULL || !cJSON_IsObject(*out)) {
    cJSON_Delete(*out);
    *out = NULL;
    ret = berr(b, MOSS_ERR_CORRUPT, "manifest.json: invalid JSON");
  }
out:
  if (zf != NULL)
    zip_fclose(zf);
  moss_free(text);
  return ret;
}

static int decode_part(struct bundle *b, const cJSON *j, struct part *p) {
  memset(p, 0, sizeof(*p));
  p->name = j->string;
  if (!cJSON_IsObject(j)) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: not an object", p->name);
  }
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "type");
  if (!cJSON_IsString(v)) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: no type", p->name);
  }
  p->type = v->valuestring;
  v = cJSON_GetObjectItemCaseSensitive(j, "addr");
  if (v != NULL) {
    if (!get_u32(v, &p->addr)) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: bad addr", p->name);
    }
    p->has_addr = true;
  }
  v = cJSON_GetObjectItemCaseSensitive(j, "ptn");
  if (v != NULL) {
    if (!cJSON_IsString(v)) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: bad ptn", p->name);
    }
    p->ptn = v->valuestring;
  }
  if (!p->has_addr && p->ptn == NULL) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: neither addr nor ptn", p->name);
  }
  v = cJSON_GetObjectItemCaseSensitive(j, "size");
  if (v != NULL && !get_u32(v, &p->size)) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: bad size", p->name);
  }
  bool has_size = v != NULL;
  v = cJSON_GetObjectItemCaseSensitive(j, "src");
  if (v != NULL) {
    if (!cJSON_IsString(v)) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: bad src", p->name);
    }
    p->src = v->valuestring;
  }
  v = cJSON_GetObjectItemCaseSensitive(j, "fill");
  if (v != NULL) {
    uint32_t f;
    if (!get_u32(v, &f) || f > 0xFF) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: bad fill", p->name);
    }
    p->fill = (uint8_t)f;
    p->has_fill = true;
  }
  if ((p->src == NULL) == !p->has_fill) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: needs exactly one of src, fill",
                p->name);
  }
  if (p->has_fill && !has_size) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: fill without size", p->name);
  }
  v = cJSON_GetObjectItemCaseSensitive(j, "encrypt");
  p->encrypt = cJSON_IsTrue(v);
  v = cJSON_GetObjectItemCaseSensitive(j, "sha256");
  if (v != NULL) {
    if (!cJSON_IsString(v) || !parse_sha(v->valuestring, p->sha)) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: bad sha256", p->name);
    }
    p->has_sha = true;
  }
  if (p->src != NULL) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(b->za, p->src, 0, &st) != 0) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: %s missing from the bundle",
                  p->name, p->src);
    }
    if (!(st.valid & ZIP_STAT_SIZE) || st.size > UINT32_MAX ||
        (has_size && st.size != p->size)) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: %s size mismatch", p->name,
                  p->src);
    }
    p->size = (uint32_t)st.size;
  }
  return MOSS_OK;
}

/* Feed the part's bytes, in chunks, to fn. */
typedef int chunk_fn(void *ctx, uint32_t off, const uint8_t *d, size_t n);

static int stream_part(struct bundle *b, const struct part *p, chunk_fn *fn,
                       void *ctx) {
  uint8_t buf[CHUNK];
  int ret = MOSS_OK;
  zip_file_t *zf = NULL;
  if (p->src != NULL) {
    zf = zip_fopen(b->za, p->src, 0);
    if (zf == NULL) {
      return berr(b, MOSS_ERR_CORRUPT, "%s: %s", p->src, zip_strerror(b->za));
    }
  } else {
    memset(buf, p->fill, sizeof(buf));
  }
  for (uint32_t off = 0; off < p->size;) {
    size_t n = MOSS_MIN((size_t)(p->size - off), sizeof(buf));
    if (zf != NULL) {
      /* zip_fread also checks the CRC-32 at the end of the entry. */
      zip_int64_t got = zip_fread(zf, buf, n);
      if (got != (zip_int64_t)n) {
        ret = berr(b, MOSS_ERR_CORRUPT, "%s: %s", p->src,
                   got < 0 ? zip_file_strerror(zf) : "short read");
        goto out;
      }
    }
    ret = fn(ctx, off, buf, n);
    if (ret != MOSS_OK)
      goto out;
    off += (uint32_t)n;
  }
  if (zf != NULL) {
    /* Make libzip reach the end of the entry so its CRC is checked. */
    uint8_t extra;
    if (zip_fread(zf, &extra, 1) != 0) {
      ret = berr(b, MOSS_ERR_CORRUPT, "%s: %s", p->src, zip_file_strerror(zf));
    }
  }
out:
  if (zf != NULL)
    zip_fclose(zf);
  return ret;
}

static int hash_chunk(void *ctx, uint32_t off, const uint8_t *d, size_t n) {
  (void)off;
  return mbedtls_sha256_update(ctx, d, n) == 0 ? MOSS_OK : MOSS_ERR_CRYPTO;
}

static int hash_part(struct bundle *b, const struct part *p,
                     uint8_t out[SHA_LEN]) {
  mbedtls_sha256_context sha;
  mbedtls_sha256_init(&sha);
  int ret = mbedtls_sha256_starts(&sha, 0) == 0 ? MOSS_OK : MOSS_ERR_CRYPTO;
  if (ret == MOSS_OK)
    ret = stream_part(b, p, hash_chunk, &sha);
  if (ret == MOSS_OK && mbedtls_sha256_finish(&sha, out) != 0) {
    ret = MOSS_ERR_CRYPTO;
  }
  mbedtls_sha256_free(&sha);
  return ret;
}

struct writer {
  const struct moss_flash *flash;
  uint32_t base;
};

static int write_chunk(void *ctx, uint32_t off, const uint8_t *d, size_t n) {
  const struct writer *w = ctx;
  uint8_t pad[CHUNK];
  size_t align = w->flash->write_align ? w->flash->write_align : 1;
  if (n % align == 0)
    return moss_flash_write(w->flash, w->base + off, d, n);
  /* Only the last chunk can be short; 0xFF keeps erased bytes erased. */
  size_t padded = (n + align - 1) / align * align;
  if (padded > sizeof(pad))
    return MOSS_ERR_ALIGN;
  memset(pad, 0xFF, padded);
  memcpy(pad, d, n);
  return moss_flash_write(w->flash, w->base + off, pad, padded);
}

struct collector {
  uint8_t buf[MOSS_PART_TABLE_SECTOR];
  size_t len;
};

static int collect_chunk(void *ctx, uint32_t off, const uint8_t *d, size_t n) {
  struct collector *c = ctx;
  if ((size_t)off + n > sizeof(c->buf))
    return MOSS_ERR_TOOBIG;
  memcpy(c->buf + off, d, n);
  c->len = off + n;
  return MOSS_OK;
}

/* Parse the bundle's own partition table (the "pt" part). */
static int load_table(struct bundle *b, const struct part *parts, size_t n,
                      struct moss_part_table *pt) {
  const struct part *p = NULL;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(parts[i].type, "pt") == 0) {
      if (p != NULL)
        return berr(b, MOSS_ERR_CORRUPT, "more than one pt part");
      p = &parts[i];
    }
  }
  if (p == NULL)
    return berr(b, MOSS_ERR_CORRUPT, "no partition table part");
  if (p->size > MOSS_PART_TABLE_SECTOR) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: too large for a table", p->name);
  }
  struct collector c = {.len = 0};
  int ret = stream_part(b, p, collect_chunk, &c);
  if (ret != MOSS_OK)
    return ret;
  if (moss_part_parse(pt, c.buf, c.len, b->flash->size) != MOSS_OK) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: partition table invalid: %s",
                p->name, pt->reason);
  }
  return MOSS_OK;
}

/* Turn addr/ptn into a flash offset and check the part fits. */
static int place_part(struct bundle *b, const struct moss_part_table *pt,
                      struct part *p) {
  uint64_t limit = b->flash->size;
  if (p->ptn != NULL) {
    const struct moss_part_entry *e = moss_part_find(pt, p->ptn);
    if (e == NULL) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: no partition %s", p->name,
                  p->ptn);
    }
    uint64_t rel = p->has_addr && strcmp(p->type, "app") != 0 ? p->addr : 0;
    if (rel + p->size > e->size) {
      return berr(b, MOSS_ERR_RANGE,
                  "part %s: 0x%x bytes do not fit in partition %s (0x%x)",
                  p->name, (unsigned)p->size, e->label, (unsigned)e->size);
    }
    p->addr = (uint32_t)(e->offset + rel);
  }
  if ((uint64_t)p->addr + p->size > limit) {
    return berr(b, MOSS_ERR_RANGE,
                "part %s: 0x%x+0x%x is beyond the flash size 0x%x", p->name,
                (unsigned)p->addr, (unsigned)p->size, (unsigned)limit);
  }
  if (p->addr % b->flash->erase_size != 0) {
    return berr(b, MOSS_ERR_CORRUPT, "part %s: addr 0x%x not sector-aligned",
                p->name, (unsigned)p->addr);
  }
  return MOSS_OK;
}

static uint64_t sector_end(const struct moss_flash *f, const struct part *p) {
  uint64_t e = f->erase_size;
  return ((uint64_t)p->addr + p->size + e - 1) / e * e;
}

/* SHA-256 of flash [addr, addr + size). */
static int hash_flash(const struct moss_flash *f, uint32_t addr, uint32_t size,
                      uint8_t out[SHA_LEN]) {
  uint8_t buf[CHUNK];
  mbedtls_sha256_context sha;
  mbedtls_sha256_init(&sha);
  int ret = mbedtls_sha256_starts(&sha, 0) == 0 ? MOSS_OK : MOSS_ERR_CRYPTO;
  for (uint32_t off = 0; ret == MOSS_OK && off < size;) {
    size_t n = MOSS_MIN((size_t)(size - off), sizeof(buf));
    ret = moss_flash_read(f, addr + off, buf, n);
    if (ret == MOSS_OK)
      ret = hash_chunk(&sha, off, buf, n);
    off += (uint32_t)n;
  }
  if (ret == MOSS_OK && mbedtls_sha256_finish(&sha, out) != 0) {
    ret = MOSS_ERR_CRYPTO;
  }
  mbedtls_sha256_free(&sha);
  return ret;
}

static int flash_parts(struct bundle *b, struct part *parts, size_t n) {
  const struct moss_flash *f = b->flash;
  int ret;
  MOSS_LOG_I(TAG, "Writing...");
  for (size_t i = 0; i < n; i++) {
    struct part *p = &parts[i];
    /* FE hook: once flash encryption exists, parts with encrypt=true are
     * written through the encrypting view when it is enabled, exactly as
     * mos encrypts them on the host (mos-cli.md §6.1). */
    ret = moss_flash_erase(f, p->addr, (size_t)(sector_end(f, p) - p->addr));
    if (ret != MOSS_OK) {
      return berr(b, ret, "erase at 0x%x: %s", (unsigned)p->addr,
                  moss_strerror(ret));
    }
    struct writer w = {f, p->addr};
    ret = stream_part(b, p, write_chunk, &w);
    if (ret != MOSS_OK) {
      return berr(b, ret, "part %s: write at 0x%x: %s", p->name,
                  (unsigned)p->addr, moss_strerror(ret));
    }
    MOSS_LOG_I(TAG, "  %7u @ 0x%x", (unsigned)p->size, (unsigned)p->addr);
  }
  MOSS_LOG_I(TAG, "Verifying...");
  for (size_t i = 0; i < n; i++) {
    uint8_t got[SHA_LEN];
    ret = hash_flash(f, parts[i].addr, parts[i].size, got);
    if (ret != MOSS_OK)
      return berr(b, ret, "verify: %s", moss_strerror(ret));
    if (memcmp(got, parts[i].digest, SHA_LEN) != 0) {
      return berr(b, MOSS_ERR_CORRUPT, "part %s: read-back mismatch at 0x%x",
                  parts[i].name, (unsigned)parts[i].addr);
    }
  }
  return MOSS_OK;
}

int moss_board_factory_flash(const struct moss_flash *flash,
                             const char *bundle_path) {
  struct bundle b = {bundle_path, NULL, flash};
  struct part parts[MOSS_BOARD_MAX_PARTS];
  struct moss_part_table pt;
  cJSON *m = NULL;
  size_t n = 0;
  int ret, zerr = 0;

  b.za = zip_open(bundle_path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
  if (b.za == NULL) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, zerr);
    ret = berr(&b,
               zerr == ZIP_ER_NOENT || zerr == ZIP_ER_OPEN ? MOSS_ERR_IO
                                                           : MOSS_ERR_CORRUPT,
               "%s", zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return ret;
  }
  ret = read_manifest(&b, &m);
  if (ret != MOSS_OK)
    goto out;

  const cJSON *plat = cJSON_GetObjectItemCaseSensitive(m, "platform");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(m, "version");
  const cJSON *bid = cJSON_GetObjectItemCaseSensitive(m, "build_id");
  const cJSON *jparts = cJSON_GetObjectItemCaseSensitive(m, "parts");
  if (!cJSON_IsString(plat) || strcmp(plat->valuestring, "esp32") != 0) {
    ret = berr(&b, MOSS_ERR_CORRUPT, "platform is not esp32");
    goto out;
  }
  if (!cJSON_IsObject(jparts)) {
    ret = berr(&b, MOSS_ERR_CORRUPT, "manifest has no parts");
    goto out;
  }
  MOSS_LOG_I(TAG, "Loaded %s/esp32 version %s (%s)",
             cJSON_IsString(name) ? name->valuestring : "?",
             cJSON_IsString(ver) ? ver->valuestring : "?",
             cJSON_IsString(bid) ? bid->valuestring : "?");

  const cJSON *jp;
  cJSON_ArrayForEach(jp, jparts) {
    if (n == MOSS_BOARD_MAX_PARTS) {
      ret = berr(&b, MOSS_ERR_TOOBIG, "more than %u parts",
                 (unsigned)MOSS_BOARD_MAX_PARTS);
      goto out;
    }
    ret = decode_part(&b, jp, &parts[n]);
    if (ret != MOSS_OK)
      goto out;
    n++;
  }
  ret = load_table(&b, parts, n, &pt);
  if (ret != MOSS_OK)
    goto out;

  /* Pass 1: place, hash and check everything before touching the flash. */
  for (size_t i = 0; i < n; i++) {
    ret = place_part(&b, &pt, &parts[i]);
    if (ret != MOSS_OK)
      goto out;
    for (size_t j = 0; j < i; j++) {
      if (parts[i].addr < sector_end(flash, &parts[j]) &&
          parts[j].addr < sector_end(flash, &parts[i])) {
        ret = berr(&b, MOSS_ERR_CORRUPT, "parts %s and %s overlap",
                   parts[j].name, parts[i].name);
        goto out;
      }
    }
    ret = hash_part(&b, &parts[i], parts[i].digest);
    if (ret != MOSS_OK)
      goto out;
    if (parts[i].has_sha && memcmp(parts[i].digest, parts[i].sha, SHA_LEN)) {
      ret =
          berr(&b, MOSS_ERR_CORRUPT, "part %s: sha256 mismatch", parts[i].name);
      goto out;
    }
  }
  /* Passes 2 and 3: erase + program, then read back. */
  ret = flash_parts(&b, parts, n);
out:
  cJSON_Delete(m);
  zip_discard(b.za);
  return ret;
}

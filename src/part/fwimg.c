/*
 * ESP32 image builder and verifier.  Layout in moss/fwimg.h.
 *
 * The verifier walks the image through a read callback in small chunks so
 * that a 1.5 MB app partition is checked with a 512-byte stack buffer and
 * no heap; every length read from the image is checked against max_len
 * before it is used, in 64-bit arithmetic.
 */
#include "moss/fwimg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "moss/err.h"
#include "moss/log.h"
#include "moss/util.h"

#define CHUNK 512u

/* ---- builder ------------------------------------------------------------ */

static size_t pad4(size_t n) {
  return (n + 3u) & ~(size_t)3u;
}

/* Length through the checksum byte for a body (header + segments) of n. */
static size_t with_checksum(size_t n) {
  return ((n + 1u + 15u) & ~(size_t)15u);
}

size_t moss_fwimg_build_size(const struct moss_fwimg_seg *segs, size_t n) {
  size_t body = MOSS_FWIMG_HEADER_SIZE;
  for (size_t i = 0; i < n; i++) {
    body += MOSS_FWIMG_SEG_HEADER_SIZE + pad4(segs[i].len);
  }
  return with_checksum(body) + MOSS_FWIMG_HASH_SIZE;
}

int moss_fwimg_build(uint8_t *out, size_t cap, size_t *out_len,
                     const struct moss_fwimg_seg *segs, size_t n,
                     uint32_t entry) {
  *out_len = 0;
  if (n == 0 || n > MOSS_FWIMG_MAX_SEGMENTS)
    return MOSS_ERR_INVAL;
  size_t total = moss_fwimg_build_size(segs, n);
  if (total > cap)
    return MOSS_ERR_NOSPC;
  memset(out, 0, total);
  out[0] = MOSS_FWIMG_MAGIC;
  out[1] = (uint8_t)n;
  out[2] = MOSS_FWIMG_FLASH_MODE_DIO;
  out[3] = MOSS_FWIMG_FLASH_4MB_40M;
  moss_put_le32(out + 4, entry);
  out[8] = 0xEE; /* no WP pin */
  moss_put_le16(out + 12, MOSS_FWIMG_CHIP_ESP32);
  out[23] = 1; /* SHA-256 appended */
  size_t pos = MOSS_FWIMG_HEADER_SIZE;
  uint8_t sum = MOSS_FWIMG_CHECKSUM_SEED;
  for (size_t i = 0; i < n; i++) {
    size_t plen = pad4(segs[i].len);
    if (plen > UINT32_MAX)
      return MOSS_ERR_INVAL;
    moss_put_le32(out + pos, segs[i].load_addr);
    moss_put_le32(out + pos + 4, (uint32_t)plen);
    pos += MOSS_FWIMG_SEG_HEADER_SIZE;
    if (segs[i].len > 0)
      memcpy(out + pos, segs[i].data, segs[i].len);
    /* Padding bytes are zero and do not change an XOR checksum. */
    for (size_t j = 0; j < segs[i].len; j++)
      sum ^= out[pos + j];
    pos += plen;
  }
  size_t ck = with_checksum(pos) - 1u;
  out[ck] = sum;
  if (mbedtls_sha256(out, ck + 1u, out + ck + 1u, 0) != 0) {
    return MOSS_ERR_CRYPTO;
  }
  *out_len = total;
  return MOSS_OK;
}

static int put_str(uint8_t *dst, size_t field, const char *s) {
  size_t l = strlen(s);
  if (l > field)
    return MOSS_ERR_TOOBIG;
  memset(dst, 0, field);
  memcpy(dst, s, l);
  return MOSS_OK;
}

int moss_fwimg_app_desc_encode(uint8_t out[MOSS_FWIMG_APP_DESC_SIZE],
                               const struct moss_app_desc *d) {
  memset(out, 0, MOSS_FWIMG_APP_DESC_SIZE);
  moss_put_le32(out, MOSS_FWIMG_APP_DESC_MAGIC);
  if (put_str(out + 16, 32, d->version) != MOSS_OK ||
      put_str(out + 48, 32, d->name) != MOSS_OK ||
      put_str(out + 80, 16, d->time) != MOSS_OK ||
      put_str(out + 96, 16, d->date) != MOSS_OK ||
      put_str(out + 112, 32, d->idf_ver) != MOSS_OK ||
      put_str(out + 144, 32, d->build_id) != MOSS_OK) {
    return MOSS_ERR_TOOBIG;
  }
  return MOSS_OK;
}

/* ---- verifier ----------------------------------------------------------- */

typedef int read_fn(const void *ctx, uint32_t off, void *buf, size_t len);

struct src {
  read_fn *read;
  const void *ctx;
  uint32_t base;
};

struct flash_src {
  const struct moss_flash *f;
};

struct mem_src {
  const uint8_t *buf;
  size_t len;
};

static int read_flash(const void *ctx, uint32_t off, void *buf, size_t len) {
  const struct flash_src *s = ctx;
  return moss_flash_read(s->f, off, buf, len);
}

static int read_mem(const void *ctx, uint32_t off, void *buf, size_t len) {
  const struct mem_src *s = ctx;
  if ((uint64_t)off + len > s->len)
    return MOSS_ERR_RANGE;
  memcpy(buf, s->buf + off, len);
  return MOSS_OK;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
bad(struct moss_fwimg_info *info, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(info->reason, sizeof(info->reason), fmt, ap);
  va_end(ap);
  return MOSS_ERR_CORRUPT;
}

/* A NUL-padded string field of the image; dst holds field + 1 bytes.  The
 * image is untrusted and these strings end up in logs and replies. */
static void get_str(char *dst, const uint8_t *src, size_t field) {
  const uint8_t *nul = memchr(src, 0, field);
  size_t len = nul != NULL ? (size_t)(nul - src) : field;
  moss_log_sanitize(dst, field + 1, src, len);
}

static void decode_desc(struct moss_app_desc *d, const uint8_t *p) {
  get_str(d->version, p + 16, 32);
  get_str(d->name, p + 48, 32);
  get_str(d->time, p + 80, 16);
  get_str(d->date, p + 96, 16);
  get_str(d->idf_ver, p + 112, 32);
  get_str(d->build_id, p + 144, 32);
}

static int verify(const struct src *s, uint32_t max_len, bool want_desc,
                  struct moss_fwimg_info *info) {
  uint8_t buf[CHUNK];
  mbedtls_sha256_context sha;
  int ret;
  memset(info, 0, sizeof(*info));
  mbedtls_sha256_init(&sha);
  if (mbedtls_sha256_starts(&sha, 0) != 0) {
    ret = MOSS_ERR_CRYPTO;
    goto out;
  }
  if (max_len < MOSS_FWIMG_HEADER_SIZE) {
    ret = bad(info, "partition too small for an image header");
    goto out;
  }
  ret = s->read(s->ctx, s->base, buf, MOSS_FWIMG_HEADER_SIZE);
  if (ret != MOSS_OK)
    goto out;
  if (buf[0] != MOSS_FWIMG_MAGIC) {
    ret = bad(info, "invalid header: 0x%08x", (unsigned)moss_get_le32(buf));
    goto out;
  }
  info->segments = buf[1];
  info->flash_mode = buf[2];
  info->flash_size_freq = buf[3];
  info->entry = moss_get_le32(buf + 4);
  if (info->segments == 0 || info->segments > MOSS_FWIMG_MAX_SEGMENTS) {
    ret = bad(info, "bad segment count %u", (unsigned)info->segments);
    goto out;
  }
  if (moss_get_le16(buf + 12) != MOSS_FWIMG_CHIP_ESP32) {
    ret = bad(info, "image is for chip id %u, not ESP32",
              (unsigned)moss_get_le16(buf + 12));
    goto out;
  }
  if (buf[23] != 1) {
    ret = bad(info, "no SHA-256 appended");
    goto out;
  }
  if (mbedtls_sha256_update(&sha, buf, MOSS_FWIMG_HEADER_SIZE) != 0) {
    ret = MOSS_ERR_CRYPTO;
    goto out;
  }
  uint64_t pos = MOSS_FWIMG_HEADER_SIZE;
  uint8_t sum = MOSS_FWIMG_CHECKSUM_SEED;
  for (unsigned i = 0; i < info->segments; i++) {
    if (pos + MOSS_FWIMG_SEG_HEADER_SIZE > max_len) {
      ret = bad(info, "segment %u header beyond the partition", i);
      goto out;
    }
    uint8_t sh[MOSS_FWIMG_SEG_HEADER_SIZE];
    ret = s->read(s->ctx, s->base + (uint32_t)pos, sh, sizeof(sh));
    if (ret != MOSS_OK)
      goto out;
    uint32_t slen = moss_get_le32(sh + 4);
    pos += sizeof(sh);
    if (slen % 4 != 0 || pos + slen > max_len) {
      ret = bad(info, "segment %u length 0x%x invalid", i, (unsigned)slen);
      goto out;
    }
    if (mbedtls_sha256_update(&sha, sh, sizeof(sh)) != 0) {
      ret = MOSS_ERR_CRYPTO;
      goto out;
    }
    for (uint32_t done = 0; done < slen;) {
      size_t n = MOSS_MIN((size_t)(slen - done), sizeof(buf));
      ret = s->read(s->ctx, s->base + (uint32_t)pos + done, buf, n);
      if (ret != MOSS_OK)
        goto out;
      if (i == 0 && done == 0 && want_desc) {
        if (n < MOSS_FWIMG_APP_DESC_SIZE ||
            moss_get_le32(buf) != MOSS_FWIMG_APP_DESC_MAGIC) {
          ret = bad(info, "no app description in the first segment");
          goto out;
        }
        decode_desc(&info->desc, buf);
        info->has_desc = true;
      }
      for (size_t j = 0; j < n; j++)
        sum ^= buf[j];
      if (mbedtls_sha256_update(&sha, buf, n) != 0) {
        ret = MOSS_ERR_CRYPTO;
        goto out;
      }
      done += (uint32_t)n;
    }
    pos += slen;
  }
  /* Padding and checksum: up to 16 bytes, then the 32-byte digest. */
  uint64_t ck = with_checksum((size_t)pos) - 1u;
  uint64_t total = ck + 1u + MOSS_FWIMG_HASH_SIZE;
  if (total > max_len) {
    ret = bad(info, "image (0x%llx bytes) does not fit in 0x%x",
              (unsigned long long)total, (unsigned)max_len);
    goto out;
  }
  size_t tail = (size_t)(total - pos);
  ret = s->read(s->ctx, s->base + (uint32_t)pos, buf, tail);
  if (ret != MOSS_OK)
    goto out;
  size_t ckrel = (size_t)(ck - pos);
  if (buf[ckrel] != sum) {
    ret = bad(info, "checksum mismatch: 0x%02x, expected 0x%02x",
              (unsigned)buf[ckrel], (unsigned)sum);
    goto out;
  }
  uint8_t digest[MOSS_FWIMG_HASH_SIZE];
  if (mbedtls_sha256_update(&sha, buf, ckrel + 1u) != 0 ||
      mbedtls_sha256_finish(&sha, digest) != 0) {
    ret = MOSS_ERR_CRYPTO;
    goto out;
  }
  /* A digest of public data: no need for a constant-time compare. */
  if (memcmp(digest, buf + ckrel + 1u, sizeof(digest)) != 0) {
    ret = bad(info, "SHA-256 mismatch");
    goto out;
  }
  memcpy(info->sha256, digest, sizeof(digest));
  info->len = (uint32_t)total;
  if (info->has_desc) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(digest); i++) {
      info->desc.sha256[2 * i] = hex[digest[i] >> 4];
      info->desc.sha256[2 * i + 1] = hex[digest[i] & 15];
    }
    info->desc.sha256[64] = '\0';
  }
  ret = MOSS_OK;
out:
  mbedtls_sha256_free(&sha);
  if (ret != MOSS_OK && info->reason[0] == '\0') {
    snprintf(info->reason, sizeof(info->reason), "%s", moss_strerror(ret));
  }
  if (ret != MOSS_OK) {
    info->has_desc = false;
    info->len = 0;
  }
  return ret;
}

int moss_fwimg_verify(const struct moss_flash *f, uint32_t off,
                      uint32_t max_len, bool want_desc,
                      struct moss_fwimg_info *info) {
  struct flash_src fs = {f};
  struct src s = {read_flash, &fs, off};
  if ((uint64_t)off + max_len > f->size) {
    memset(info, 0, sizeof(*info));
    bad(info, "image area beyond the flash");
    return MOSS_ERR_RANGE;
  }
  return verify(&s, max_len, want_desc, info);
}

int moss_fwimg_verify_buf(const uint8_t *buf, size_t len, bool want_desc,
                          struct moss_fwimg_info *info) {
  struct mem_src ms = {buf, len};
  struct src s = {read_mem, &ms, 0};
  uint32_t max = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
  return verify(&s, max, want_desc, info);
}

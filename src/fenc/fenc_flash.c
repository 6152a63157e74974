/*
 * The flash-encryption flash-ops layer: what the ESP32 cache/flash
 * controller does for an encrypted region (spec/esp32.md 1.6).
 *
 * Offsets reaching the ops have already been range- and alignment-checked
 * by moss_flash_read/write/erase against this view (size, write_align 32,
 * erase_size), so a write always covers whole 32-byte units; reads may be
 * anywhere and are widened to the enclosing 16-byte blocks.
 */
#include <string.h>

#include "moss/err.h"
#include "moss/fenc.h"
#include "moss/util.h"

static int fl_read(void *ctx, uint32_t off, void *buf, size_t len) {
  struct moss_fenc_flash *f = ctx;
  uint8_t tmp[MOSS_FENC_CHUNK];
  uint8_t *dst = buf;
  int rc = MOSS_OK;
  while (len > 0) {
    uint32_t a = off & ~(uint32_t)(MOSS_FENC_BLOCK - 1);
    size_t head = off - a;
    /* The view's size is a multiple of 32, so rounding the end up to a
     * block never leaves it. */
    size_t span =
        (head + len + MOSS_FENC_BLOCK - 1) & ~(size_t)(MOSS_FENC_BLOCK - 1);
    if (span > sizeof(tmp))
      span = sizeof(tmp);
    rc = moss_flash_read(f->lower, a, tmp, span);
    if (rc < 0)
      break;
    rc = moss_fenc_decrypt(f->key, f->conf, f->base + a, tmp, tmp, span);
    if (rc < 0)
      break;
    size_t take = MOSS_MIN(span - head, len);
    memcpy(dst, tmp + head, take);
    dst += take;
    off += (uint32_t)take;
    len -= take;
  }
  /* tmp held plaintext, including neighbours the caller did not ask for. */
  moss_zeroize(tmp, sizeof(tmp));
  return rc;
}

static int fl_write(void *ctx, uint32_t off, const void *buf, size_t len) {
  struct moss_fenc_flash *f = ctx;
  uint8_t tmp[MOSS_FENC_CHUNK];
  const uint8_t *src = buf;
  int rc = MOSS_OK;
  /* Chunks are whole units, so a failure (a power cut below) tears the
   * write at a unit boundary at worst, like the hardware. */
  while (len > 0) {
    size_t n = MOSS_MIN(len, sizeof(tmp));
    rc = moss_fenc_encrypt(f->key, f->conf, f->base + off, src, tmp, n);
    if (rc < 0)
      break;
    rc = moss_flash_write(f->lower, off, tmp, n);
    if (rc < 0)
      break;
    src += n;
    off += (uint32_t)n;
    len -= n;
  }
  return rc;
}

static int fl_erase(void *ctx, uint32_t off, size_t len) {
  struct moss_fenc_flash *f = ctx;
  return moss_flash_erase(f->lower, off, len);
}

static const struct moss_flash_ops fenc_ops = {fl_read, fl_write, fl_erase};

int moss_fenc_flash_init(struct moss_fenc_flash *f,
                         const struct moss_flash *lower,
                         const uint8_t key[MOSS_FENC_KEY_SIZE], unsigned conf,
                         uint32_t base) {
  if (f == NULL)
    return MOSS_ERR_INVAL;
  memset(f, 0, sizeof(*f));
  if (lower == NULL || key == NULL || conf > MOSS_FENC_CONF_MAX)
    return MOSS_ERR_INVAL;
  uint32_t wa = lower->write_align ? lower->write_align : 1;
  if (wa > MOSS_FENC_UNIT || MOSS_FENC_UNIT % wa ||
      lower->erase_size % MOSS_FENC_UNIT || lower->erase_size == 0 ||
      lower->size % MOSS_FENC_UNIT)
    return MOSS_ERR_INVAL;
  /* Units are 32-byte aligned physically: a misaligned window would split
   * one unit's key between two of the view's units. */
  if (base % MOSS_FENC_UNIT)
    return MOSS_ERR_ALIGN;
  f->lower = lower;
  f->base = base;
  f->conf = conf;
  memcpy(f->key, key, MOSS_FENC_KEY_SIZE);
  f->flash.ops = &fenc_ops;
  f->flash.ctx = f;
  f->flash.size = lower->size;
  f->flash.erase_size = lower->erase_size;
  f->flash.write_align = MOSS_FENC_UNIT;
  f->flash.erased_reads_ff = false;
  return MOSS_OK;
}

void moss_fenc_flash_free(struct moss_fenc_flash *f) {
  if (f == NULL)
    return;
  moss_zeroize(f->key, sizeof(f->key));
  f->flash.ops = NULL;
  f->flash.ctx = NULL;
}

/* Test helpers: the XOR "encryption" layer and a small PRNG. */
#include <stdlib.h>
#include <string.h>

#include "fs_test.h"
#include "moss/err.h"

#define XU 32u

static uint8_t pat(uint32_t a) {
  uint32_t v = (a / 4) * 0x9E3779B1u + (a & 3) * 0x85EBCA6Bu;
  return (uint8_t)(v >> 24);
}

static int x_read(void *ctx, uint32_t off, void *buf, size_t len) {
  struct xor_flash *x = ctx;
  int rc = moss_flash_read(x->raw, off, buf, len);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < len; i++)
    ((uint8_t *)buf)[i] ^= pat(off + i);
  return MOSS_OK;
}

static int x_write(void *ctx, uint32_t off, const void *buf, size_t len) {
  struct xor_flash *x = ctx;
  for (size_t u = off / XU; u < (off + len) / XU; u++)
    if (x->prog[u])
      return MOSS_ERR_BITSET;
  uint8_t tmp[256];
  size_t done = 0;
  int rc = MOSS_OK;
  while (done < len && rc == MOSS_OK) {
    size_t n = len - done < sizeof(tmp) ? len - done : sizeof(tmp);
    for (size_t i = 0; i < n; i++)
      tmp[i] = ((const uint8_t *)buf)[done + i] ^ pat(off + done + i);
    /* Program the raw bits: emulate that encryption programs whole units
     * whatever the erased content was, by requiring raw erased state. */
    rc = moss_flash_write(x->raw, (uint32_t)(off + done), tmp, n);
    done += n;
  }
  for (size_t u = off / XU; u < (off + len) / XU; u++)
    x->prog[u] = 1;
  return rc;
}

static int x_erase(void *ctx, uint32_t off, size_t len) {
  struct xor_flash *x = ctx;
  int rc = moss_flash_erase(x->raw, off, len);
  if (rc == MOSS_OK)
    memset(x->prog + off / XU, 0, len / XU);
  return rc;
}

static const struct moss_flash_ops x_ops = {x_read, x_write, x_erase};

int xor_flash_init(struct xor_flash *x, const struct moss_flash *raw) {
  x->raw = raw;
  x->prog = calloc(raw->size / XU, 1);
  if (x->prog == NULL)
    return MOSS_ERR_NOMEM;
  x->flash = *raw;
  x->flash.ops = &x_ops;
  x->flash.ctx = x;
  x->flash.write_align = XU;
  x->flash.erased_reads_ff = false;
  return MOSS_OK;
}

void xor_flash_free(struct xor_flash *x) {
  free(x->prog);
  x->prog = NULL;
}

uint32_t fst_rand(uint32_t *s) {
  uint32_t v = *s;
  v ^= v << 13;
  v ^= v >> 17;
  v ^= v << 5;
  return *s = v ? v : 0x12345678u;
}

void fst_fill(uint8_t *p, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(fst_rand(&s) >> 11);
}

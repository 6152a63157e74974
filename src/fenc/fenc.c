/*
 * The ESP32 flash-encryption algorithm (spec/esp32.md 1.1-1.4) on mbedTLS
 * AES.  Timing depends only on the address, conf and length (all public),
 * never on key or data bits.
 */
#include <string.h>

#include <mbedtls/aes.h>

#include "moss/err.h"
#include "moss/fenc.h"
#include "moss/util.h"

/* Key-bit ranges tweaked by FLASH_CRYPT_CONFIG bits 0..3 (end exclusive),
 * and the top address bit of each range's final short run. */
static const uint16_t range_start[4] = {0, 67, 132, 195};
static const uint16_t range_end[4] = {67, 132, 195, 256};
static const uint8_t short_top[4] = {14, 12, 10, 8};

/* PATTERN[n] of the spec, computed instead of tabled: each range is three
 * descending runs 23..5 (19 bits each, 57 in all) then one short run
 * short_top..5. */
static unsigned pattern_bit(unsigned range, unsigned n) {
  unsigned j = n - range_start[range];
  if (j < 57)
    return 23 - j % 19;
  return short_top[range] - (j - 57);
}

int moss_fenc_derive_key(const uint8_t key[MOSS_FENC_KEY_SIZE],
                         uint32_t unit_addr, unsigned conf,
                         uint8_t out[MOSS_FENC_KEY_SIZE]) {
  if (key == NULL || out == NULL || conf > MOSS_FENC_CONF_MAX)
    return MOSS_ERR_INVAL;
  if (out != key)
    memcpy(out, key, MOSS_FENC_KEY_SIZE);
  for (unsigned r = 0; r < 4; r++) {
    if (!(conf & (1u << r)))
      continue;
    for (unsigned n = range_start[r]; n < range_end[r]; n++) {
      /* Flip with a mask instead of a branch on the address bit; the
       * address is public, but this keeps the loop uniform. */
      uint8_t bit = (uint8_t)((unit_addr >> pattern_bit(r, n)) & 1u);
      out[n / 8] ^= (uint8_t)(bit << (7 - n % 8));
    }
  }
  return MOSS_OK;
}

void moss_fenc_key_from_24(const uint8_t k24[MOSS_FENC_KEY24_SIZE],
                           uint8_t out[MOSS_FENC_KEY_SIZE]) {
  memcpy(out, k24, MOSS_FENC_KEY24_SIZE);
  memcpy(out + MOSS_FENC_KEY24_SIZE, k24 + 8, 8);
}

static void reverse16(uint8_t dst[16], const uint8_t src[16]) {
  for (unsigned i = 0; i < 16; i++)
    dst[i] = src[15 - i];
}

/* flash_encrypt (aes_mode MBEDTLS_AES_DECRYPT) or flash_decrypt
 * (MBEDTLS_AES_ENCRYPT): the hardware's inverted wiring, spec 1.1. */
static int transform(const uint8_t *key, unsigned conf, uint32_t addr,
                     const uint8_t *in, uint8_t *out, size_t len,
                     int aes_mode) {
  if (key == NULL || conf > MOSS_FENC_CONF_MAX || (len && (!in || !out)))
    return MOSS_ERR_INVAL;
  if (addr % MOSS_FENC_BLOCK || len % MOSS_FENC_BLOCK)
    return MOSS_ERR_ALIGN;
  if (len == 0)
    return MOSS_OK;

  int ret = MOSS_ERR_CRYPTO;
  mbedtls_aes_context aes;
  uint8_t dk[MOSS_FENC_KEY_SIZE], blk[16];
  uint32_t cur_unit = 0;
  int have_key = 0;
  mbedtls_aes_init(&aes);
  for (size_t off = 0; off < len; off += MOSS_FENC_BLOCK) {
    /* Offsets wrap modulo 2^32; that keeps bits 5..23, all that counts. */
    uint32_t unit = (uint32_t)(addr + off) & ~(uint32_t)(MOSS_FENC_UNIT - 1);
    /* One derived key (and key schedule) per 32-byte unit, also when the
     * buffer starts in the second half of a unit. */
    if (!have_key || unit != cur_unit) {
      moss_fenc_derive_key(key, unit, conf, dk);
      int rc = aes_mode == MBEDTLS_AES_DECRYPT
                   ? mbedtls_aes_setkey_dec(&aes, dk, 256)
                   : mbedtls_aes_setkey_enc(&aes, dk, 256);
      if (rc != 0)
        goto out;
      cur_unit = unit;
      have_key = 1;
    }
    reverse16(blk, in + off);
    if (mbedtls_aes_crypt_ecb(&aes, aes_mode, blk, blk) != 0)
      goto out;
    reverse16(out + off, blk);
  }
  ret = MOSS_OK;
out:
  if (ret != MOSS_OK)
    moss_zeroize(out, len);
  mbedtls_aes_free(&aes); /* wipes the key schedule */
  moss_zeroize(dk, sizeof(dk));
  moss_zeroize(blk, sizeof(blk));
  return ret;
}

int moss_fenc_encrypt(const uint8_t key[MOSS_FENC_KEY_SIZE], unsigned conf,
                      uint32_t addr, const uint8_t *in, uint8_t *out,
                      size_t len) {
  return transform(key, conf, addr, in, out, len, MBEDTLS_AES_DECRYPT);
}

int moss_fenc_decrypt(const uint8_t key[MOSS_FENC_KEY_SIZE], unsigned conf,
                      uint32_t addr, const uint8_t *in, uint8_t *out,
                      size_t len) {
  return transform(key, conf, addr, in, out, len, MBEDTLS_AES_ENCRYPT);
}

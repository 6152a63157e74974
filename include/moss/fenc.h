/*
 * moss/fenc.h - ESP32 flash encryption: the algorithm and a flash-ops
 * layer that applies it (spec/esp32.md section 1).
 *
 * The algorithm.  AES-256 in ECB, one 16-byte block at a time, with a key
 * re-derived for every 32-byte flash unit by XORing key bits with bits
 * 5..23 of the unit's physical flash address; FLASH_CRYPT_CONFIG (4 bits,
 * "conf") selects which of the four key-bit ranges get tweaked.  Every
 * block is byte-reversed before and after the AES operation, and the
 * flash *encrypt* direction uses the AES *decrypt* primitive (and vice
 * versa): that is how the ESP32 hardware is wired, and what makes images
 * made by `mos` and `espsecure` interchangeable.  Only address bits 5..23
 * matter, so addresses 16 MB apart encrypt identically (they alias), and
 * conf 0 uses the raw key everywhere (weak: the same plaintext gives the
 * same ciphertext at every address).  docs/design/fenc.md has the details.
 *
 * Keys.  A key is the 32 bytes k[0..31] in key-file order (what
 * `mos esp32-gen-key` writes and espsecure reads); key bit n is bit
 * 7 - n % 8 of k[n / 8].  eFuse BLK1 stores the bytes reversed: converting
 * is the eFuse model's job, not this module's.  With the 3/4 coding scheme
 * only 24 bytes exist: moss_fenc_key_from_24() makes the 32-byte key.
 * Keys are secrets: every function here wipes the derived keys and AES
 * contexts it used before returning, logs nothing about them, and the
 * layer keeps its own copy of the key, wiped by moss_fenc_flash_free().
 *
 * No heap: everything works in caller-provided or on-stack buffers
 * (at most MOSS_FENC_CHUNK bytes of stack per layer call).
 *
 * The layer.  struct moss_fenc_flash wraps a lower struct moss_flash (the
 * raw chip, or a window of it) and is itself a struct moss_flash: reads
 * decrypt, writes encrypt, erases pass through.  Whoever uses the view
 * (the filesystem) cannot tell it is encrypted, except through the two
 * fields every flash-ops user must honour anyway:
 *  - write_align is 32: the hardware programs whole 32-byte units;
 *  - erased_reads_ff is false: an erased unit decrypts to garbage, and a
 *    unit may be programmed only once per erase.  Programming it again
 *    with different data asks the NOR chip below to set bits, which the
 *    raw chip (and the emulator) refuse with MOSS_ERR_BITSET; the layer
 *    itself keeps no per-unit state.
 * Lifecycle: moss_fenc_flash_init() -> use f->flash -> moss_fenc_flash_free().
 * The lower view must outlive the layer; the key is copied at init.
 */
#ifndef MOSS_FENC_H
#define MOSS_FENC_H

#include <stddef.h>
#include <stdint.h>

#include "moss/flash.h"

#define MOSS_FENC_KEY_SIZE 32   /* AES-256 key, key-file order */
#define MOSS_FENC_KEY24_SIZE 24 /* 3/4 coding scheme key */
#define MOSS_FENC_BLOCK 16      /* AES block: alignment of the algorithm */
#define MOSS_FENC_UNIT 32       /* one derived key; hardware write unit */
#define MOSS_FENC_CONF_MAX 0xFu /* FLASH_CRYPT_CONFIG is 4 bits */
#define MOSS_FENC_CONF_ALL 0xFu /* what `mos` sets on devices */
/* Stack buffer of one layer read/write step. */
#define MOSS_FENC_CHUNK 256u

/* Derive the key of the 32-byte unit containing unit_addr (its low 5 bits
 * and bits 24..31 are ignored) under conf.  out may alias key.
 * Errors: MOSS_ERR_INVAL (NULL pointer, conf > MOSS_FENC_CONF_MAX).  The
 * caller owns out and must wipe it (moss_zeroize). */
int moss_fenc_derive_key(const uint8_t key[MOSS_FENC_KEY_SIZE],
                         uint32_t unit_addr, unsigned conf,
                         uint8_t out[MOSS_FENC_KEY_SIZE]);

/* Encrypt len bytes of plaintext in, to be stored at physical flash
 * address addr, into out (in == out is allowed; partial overlap is not).
 * addr and len must be multiples of MOSS_FENC_BLOCK: the caller pads
 * (spec/esp32.md 1.4: `mos` pads with zeros).  len 0 is a no-op.
 * Errors: MOSS_ERR_INVAL (NULL pointer, conf > MOSS_FENC_CONF_MAX),
 * MOSS_ERR_ALIGN, MOSS_ERR_CRYPTO (mbedTLS refused; out is then wiped). */
int moss_fenc_encrypt(const uint8_t key[MOSS_FENC_KEY_SIZE], unsigned conf,
                      uint32_t addr, const uint8_t *in, uint8_t *out,
                      size_t len);
/* The inverse of moss_fenc_encrypt, same arguments and errors. */
int moss_fenc_decrypt(const uint8_t key[MOSS_FENC_KEY_SIZE], unsigned conf,
                      uint32_t addr, const uint8_t *in, uint8_t *out,
                      size_t len);

/* 3/4 coding scheme: out = k24 || k24[8..15].  out may not alias k24. */
void moss_fenc_key_from_24(const uint8_t k24[MOSS_FENC_KEY24_SIZE],
                           uint8_t out[MOSS_FENC_KEY_SIZE]);

/* The flash-ops layer.  Caller-owned; fields other than flash are
 * private. */
struct moss_fenc_flash {
  struct moss_flash flash; /* the decrypted view to hand out */
  const struct moss_flash *lower;
  uint32_t base; /* physical address of lower's offset 0 */
  unsigned conf;
  uint8_t key[MOSS_FENC_KEY_SIZE];
};

/* Set up f over lower.  base is the physical flash address of lower's
 * offset 0 (the partition offset when lower is a partition window; 0 for
 * the whole chip): the tweak uses physical addresses, so the same data
 * encrypts differently in two partitions.  key is copied (the caller may
 * wipe its copy); lower is borrowed and must outlive f.
 * The view has lower's size and erase_size, write_align 32 and
 * erased_reads_ff false.
 * Errors: MOSS_ERR_INVAL (NULL pointer, conf > MOSS_FENC_CONF_MAX, lower's
 * write_align not dividing 32, erase_size or size not multiples of 32),
 * MOSS_ERR_ALIGN (base not a multiple of 32).  On error f holds no key. */
int moss_fenc_flash_init(struct moss_fenc_flash *f,
                         const struct moss_flash *lower,
                         const uint8_t key[MOSS_FENC_KEY_SIZE], unsigned conf,
                         uint32_t base);
/* Wipe the key copy; the view must not be used afterwards.  NULL-safe. */
void moss_fenc_flash_free(struct moss_fenc_flash *f);

#endif

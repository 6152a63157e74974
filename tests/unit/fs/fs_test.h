/* Shared helpers of the fs unit tests. */
#ifndef FS_TEST_H
#define FS_TEST_H

#include <stdint.h>

#include "moss/flash.h"
#include "moss/flash_emu.h"

/* A flash-encryption-like view: data XORed with an address-dependent
 * pattern (erased areas read as garbage), write_align 32, and each 32-byte
 * unit programmable once between erases (MOSS_ERR_BITSET otherwise). */
struct xor_flash {
  struct moss_flash flash;
  const struct moss_flash *raw;
  uint8_t *prog; /* one byte per 32-byte unit */
};
int xor_flash_init(struct xor_flash *x, const struct moss_flash *raw);
void xor_flash_free(struct xor_flash *x);

/* Deterministic pseudo-random bytes. */
uint32_t fst_rand(uint32_t *s);
void fst_fill(uint8_t *p, size_t n, uint32_t seed);

void test_fs_cut_all(void);
void test_fs_cut_xor(void);

#endif

/* Shared helpers of the fenc unit tests. */
#ifndef FENC_TEST_H
#define FENC_TEST_H

#include <stddef.h>
#include <stdint.h>

#define FT_VECTORS "tests/vectors/fenc/vectors.txt"

/* The spec's illustration key 00 01 .. 1f. */
extern const uint8_t ft_key[32];

/* Decode hex (exactly 2 * cap digits) into out; false on bad input. */
int ft_unhex(const char *hex, uint8_t *out, size_t cap);
/* Deterministic pseudo-random numbers and bytes. */
uint32_t ft_rand(uint32_t *s);
void ft_fill(uint8_t *p, size_t n, uint32_t seed);

void ft_vector_tests(void);
void ft_flash_tests(void);

#endif

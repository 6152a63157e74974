/*
 * Unit tests of src/fenc: the algorithm against the spec's vectors and
 * its properties (test_vectors.c), the flash-ops layer over the NOR
 * emulator and the filesystem over the layer (test_flash.c).
 */
#include <string.h>

#include "fenc_test.h"
#include "harness.h"
#include "moss/util.h"

const uint8_t ft_key[32] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                            0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
                            0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                            0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

int ft_unhex(const char *hex, uint8_t *out, size_t cap) {
  if (strlen(hex) != 2 * cap)
    return 0;
  for (size_t i = 0; i < cap; i++) {
    int hi = moss_hex_digit(hex[2 * i]), lo = moss_hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return 0;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 1;
}

uint32_t ft_rand(uint32_t *s) {
  /* xorshift32: enough to spread addresses and data. */
  uint32_t x = *s ? *s : 0x9E3779B9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

void ft_fill(uint8_t *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(ft_rand(&seed) >> 24);
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  ft_vector_tests();
  ft_flash_tests();
  return mt_done();
}

/*
 * The algorithm: spec/esp32.md 1.5 vectors (from the data file), the
 * tweak pattern of 1.3 checked independently, round trips, aliasing,
 * argument checks and the 3/4 coding-scheme key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fenc_test.h"
#include "harness.h"
#include "moss/err.h"
#include "moss/fenc.h"

#define MAXLEN 64

static char vbuf[16384];

/* Read the vector file; returns its rows split in place, or 0 rows. */
static int load_rows(char **rows, int max) {
  FILE *f = fopen(FT_VECTORS, "rb");
  if (f == NULL)
    return 0;
  size_t n = fread(vbuf, 1, sizeof(vbuf) - 1, f);
  int bad = ferror(f) || !feof(f);
  fclose(f);
  if (bad)
    return 0;
  vbuf[n] = '\0';
  int nr = 0;
  for (char *p = vbuf; p != NULL && *p != '\0' && nr < max;) {
    char *nl = strchr(p, '\n');
    if (nl != NULL)
      *nl = '\0';
    if (*p != '\0' && *p != '#')
      rows[nr++] = p;
    p = nl != NULL ? nl + 1 : NULL;
  }
  return nr;
}

static int split(char *row, char **fields, int max) {
  int n = 0;
  fields[n++] = row;
  for (char *s = strchr(row, '|'); s != NULL && n < max;
       s = strchr(s + 1, '|')) {
    *s = '\0';
    fields[n++] = s + 1;
  }
  return n;
}

static unsigned long num(const char *s) {
  return strtoul(s, NULL, 0);
}

static void test_spec_vectors(void) {
  char *rows[64], *fl[8];
  int nr = load_rows(rows, 64);
  MT_REQUIRE(nr > 0);
  uint8_t key[32];
  int have_key = 0, n_enc = 0, n_dkey = 0;
  for (int r = 0; r < nr; r++) {
    int nf = split(rows[r], fl, 8);
    if (strcmp(fl[0], "key") == 0 && nf == 2) {
      MT_REQUIRE(ft_unhex(fl[1], key, 32));
      have_key = 1;
    } else if (strcmp(fl[0], "enc") == 0 && nf == 5) {
      MT_REQUIRE(have_key);
      unsigned conf = (unsigned)num(fl[1]);
      uint32_t addr = (uint32_t)num(fl[2]);
      size_t len = strlen(fl[3]) / 2;
      uint8_t pt[MAXLEN], ct[MAXLEN], got[MAXLEN];
      MT_REQUIRE(len <= MAXLEN && len % 16 == 0);
      MT_REQUIRE(ft_unhex(fl[3], pt, len));
      MT_REQUIRE(ft_unhex(fl[4], ct, len));
      MT_CHECK_EQ(moss_fenc_encrypt(key, conf, addr, pt, got, len), MOSS_OK);
      MT_CHECK_MEM(got, ct, len);
      MT_CHECK_EQ(moss_fenc_decrypt(key, conf, addr, ct, got, len), MOSS_OK);
      MT_CHECK_MEM(got, pt, len);
      /* In place. */
      memcpy(got, pt, len);
      MT_CHECK_EQ(moss_fenc_encrypt(key, conf, addr, got, got, len), MOSS_OK);
      MT_CHECK_MEM(got, ct, len);
      /* Block by block, so a call starts at an offset = 16 mod 32 and
       * must still use the unit's key. */
      for (size_t o = 0; o < len; o += 16)
        MT_CHECK_EQ(moss_fenc_encrypt(key, conf, addr + (uint32_t)o, pt + o,
                                      got + o, 16),
                    MOSS_OK);
      MT_CHECK_MEM(got, ct, len);
      for (size_t o = 0; o < len; o += 16)
        MT_CHECK_EQ(moss_fenc_decrypt(key, conf, addr + (uint32_t)o, ct + o,
                                      got + o, 16),
                    MOSS_OK);
      MT_CHECK_MEM(got, pt, len);
      n_enc++;
    } else if (strcmp(fl[0], "dkey") == 0 && nf == 4) {
      MT_REQUIRE(have_key);
      uint8_t want[32], got[32];
      MT_REQUIRE(ft_unhex(fl[3], want, 32));
      MT_CHECK_EQ(moss_fenc_derive_key(key, (uint32_t)num(fl[2]),
                                       (unsigned)num(fl[1]), got),
                  MOSS_OK);
      MT_CHECK_MEM(got, want, 32);
      n_dkey++;
    } else {
      mt_fail(__FILE__, __LINE__, "bad vector row %d: %s", r, fl[0]);
    }
  }
  /* Every row of spec 1.5: 5 rows of 64 bytes (conf 0 at two addresses),
   * the 32-zero-byte row, 3 derived keys. */
  MT_CHECK_EQ(n_enc, 7);
  MT_CHECK_EQ(n_dkey, 3);
}

/* The spec's table 1.3, rebuilt independently of src/fenc: how many key
 * bits does address bit b flip with every range enabled? */
static unsigned expected_flips(unsigned b) {
  static const unsigned short_top[4] = {14, 12, 10, 8};
  if (b < 5 || b > 23)
    return 0;
  unsigned n = 0;
  for (int r = 0; r < 4; r++)
    n += 3 + (b <= short_top[r]);
  return n;
}

static unsigned popdiff(const uint8_t *a, const uint8_t *b, size_t n) {
  unsigned c = 0;
  for (size_t i = 0; i < n; i++)
    c += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
  return c;
}

static void test_tweak_pattern(void) {
  uint8_t dk[32];
  for (unsigned b = 0; b < 32; b++) {
    MT_CHECK_EQ(moss_fenc_derive_key(ft_key, 1u << b, 0xF, dk), MOSS_OK);
    MT_CHECK_EQ(popdiff(dk, ft_key, 32), expected_flips(b));
  }
  /* Each conf bit touches only its own key-bit range. */
  static const unsigned lo[4] = {0, 67, 132, 195}, hi[4] = {67, 132, 195, 256};
  for (unsigned r = 0; r < 4; r++) {
    MT_CHECK_EQ(moss_fenc_derive_key(ft_key, 0x00FFFFE0u, 1u << r, dk),
                MOSS_OK);
    for (unsigned n = 0; n < 256; n++) {
      unsigned flipped = ((dk[n / 8] ^ ft_key[n / 8]) >> (7 - n % 8)) & 1;
      /* All address bits 5..23 set: every bit of the range flips. */
      MT_CHECK_EQ(flipped, n >= lo[r] && n < hi[r]);
    }
  }
  /* conf 0 and unit 0: the raw key; aliasing above 16 MB; in-place. */
  MT_CHECK_EQ(moss_fenc_derive_key(ft_key, 0x123456E0u, 0, dk), MOSS_OK);
  MT_CHECK_MEM(dk, ft_key, 32);
  MT_CHECK_EQ(moss_fenc_derive_key(ft_key, 0xFF00001Fu, 0xF, dk), MOSS_OK);
  MT_CHECK_MEM(dk, ft_key, 32);
  memcpy(dk, ft_key, 32);
  MT_CHECK_EQ(moss_fenc_derive_key(dk, 0x1000, 0xF, dk), MOSS_OK);
  uint8_t ref[32];
  MT_CHECK_EQ(moss_fenc_derive_key(ft_key, 0x1000, 0xF, ref), MOSS_OK);
  MT_CHECK_MEM(dk, ref, 32);
  MT_CHECK_EQ(moss_fenc_derive_key(ft_key, 0, 0x10, dk), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_fenc_derive_key(NULL, 0, 0xF, dk), MOSS_ERR_INVAL);
}

static void test_round_trip(void) {
  uint32_t s = 12345;
  uint8_t key[32], pt[256], ct[256], back[256];
  for (int i = 0; i < 2000; i++) {
    ft_fill(key, 32, ft_rand(&s));
    unsigned conf = ft_rand(&s) & 0xF;
    uint32_t addr = ft_rand(&s) & ~15u;
    size_t len = 16 * (1 + ft_rand(&s) % 16);
    ft_fill(pt, len, ft_rand(&s));
    MT_REQUIRE(moss_fenc_encrypt(key, conf, addr, pt, ct, len) == MOSS_OK);
    MT_REQUIRE(memcmp(ct, pt, len) != 0);
    MT_REQUIRE(moss_fenc_decrypt(key, conf, addr, ct, back, len) == MOSS_OK);
    MT_REQUIRE(memcmp(back, pt, len) == 0);
    /* Decrypting at another unit address garbles (except for conf 0). */
    uint32_t other = addr ^ 0x20;
    MT_REQUIRE(moss_fenc_decrypt(key, conf, other, ct, back, len) == MOSS_OK);
    MT_CHECK_EQ(memcmp(back, pt, len) == 0, conf == 0);
  }
}

static void test_alias_and_units(void) {
  uint8_t pt[64], a[64], b[64];
  ft_fill(pt, sizeof(pt), 7);
  for (uint32_t addr = 0; addr < 0x400000; addr += 0x1F3E0) {
    MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, addr, pt, a, 64), MOSS_OK);
    MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, addr + 0x1000000, pt, b, 64),
                MOSS_OK);
    MT_CHECK_MEM(a, b, 64);
    MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, addr | 0xFF000000u, pt, b, 64),
                MOSS_OK);
    MT_CHECK_MEM(a, b, 64);
  }
  /* Same plaintext in both halves of a unit: same ciphertext (one key);
   * in the next unit: different. */
  memset(pt, 0x5A, sizeof(pt));
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 0x3000, pt, a, 64), MOSS_OK);
  MT_CHECK_MEM(a, a + 16, 16);
  MT_CHECK(memcmp(a, a + 32, 16) != 0);
  /* conf 0: the same everywhere. */
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0, 0x3000, pt, a, 64), MOSS_OK);
  MT_CHECK_MEM(a, a + 32, 32);
}

static void test_bad_args(void) {
  uint8_t buf[64] = {0}, out[64];
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 8, buf, out, 32), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 0x1001, buf, out, 32),
              MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 0, buf, out, 17), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_fenc_decrypt(ft_key, 0xF, 0, buf, out, 31), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_fenc_decrypt(ft_key, 0xF, 4, buf, out, 16), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 16, 0, buf, out, 16), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_fenc_encrypt(NULL, 0xF, 0, buf, out, 16), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 0, NULL, out, 16), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 0, buf, out, 0), MOSS_OK);
  /* Offset 16 is allowed: the algorithm's alignment is 16. */
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 16, buf, out, 16), MOSS_OK);
}

static void test_key24(void) {
  uint8_t k24[24], k[32], pt[32], a[32], b[32];
  ft_fill(k24, sizeof(k24), 99);
  moss_fenc_key_from_24(k24, k);
  MT_CHECK_MEM(k, k24, 24);
  MT_CHECK_MEM(k + 24, k24 + 8, 8);
  /* The expanded key is an ordinary key to the algorithm. */
  uint8_t manual[32];
  memcpy(manual, k24, 24);
  for (int i = 0; i < 8; i++)
    manual[24 + i] = k24[8 + i];
  ft_fill(pt, sizeof(pt), 3);
  MT_CHECK_EQ(moss_fenc_encrypt(k, 0xF, 0x9000, pt, a, 32), MOSS_OK);
  MT_CHECK_EQ(moss_fenc_encrypt(manual, 0xF, 0x9000, pt, b, 32), MOSS_OK);
  MT_CHECK_MEM(a, b, 32);
}

void ft_vector_tests(void) {
  MT_RUN(test_spec_vectors);
  MT_RUN(test_tweak_pattern);
  MT_RUN(test_round_trip);
  MT_RUN(test_alias_and_units);
  MT_RUN(test_bad_args);
  MT_RUN(test_key24);
}

/* String views, constant-time compare, zeroize, CRC32, assertions. */
#include "moss/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "moss/err.h"

struct moss_str moss_str_c(const char *s) {
  return s == NULL ? MOSS_STR_NULL : moss_str_n(s, strlen(s));
}

struct moss_str moss_str_n(const char *s, size_t n) {
  struct moss_str r = {s, n};
  return r;
}

bool moss_str_eq(struct moss_str a, struct moss_str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.buf, b.buf, a.len) == 0);
}

bool moss_str_eq_c(struct moss_str a, const char *b) {
  return moss_str_eq(a, moss_str_c(b));
}

bool moss_str_casecmp_eq(struct moss_str a, struct moss_str b) {
  return a.len == b.len &&
         (a.len == 0 || strncasecmp(a.buf, b.buf, a.len) == 0);
}

int moss_str_copy(char *dst, size_t dstsz, struct moss_str s) {
  if (dstsz == 0)
    return MOSS_ERR_TOOBIG;
  if (s.len >= dstsz) {
    dst[0] = '\0';
    return MOSS_ERR_TOOBIG;
  }
  if (s.len > 0)
    memcpy(dst, s.buf, s.len);
  dst[s.len] = '\0';
  return MOSS_OK;
}

bool moss_ct_eq(const void *a, const void *b, size_t n) {
  /* Accumulate differences over every byte; no early exit, so the time
   * depends only on n. volatile keeps the loop from being shortcut. */
  const volatile uint8_t *x = a, *y = b;
  uint8_t d = 0;
  for (size_t i = 0; i < n; i++)
    d |= (uint8_t)(x[i] ^ y[i]);
  return d == 0;
}

void moss_zeroize(void *p, size_t n) {
  if (p == NULL || n == 0)
    return;
  volatile uint8_t *v = p;
  while (n--)
    *v++ = 0;
}

int moss_hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

uint32_t moss_crc32(uint32_t crc, const void *data, size_t len) {
  const uint8_t *p = data;
  /* zlib takes uInt lengths; feed large buffers in pieces. */
  while (len > 0) {
    uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
    crc = (uint32_t)crc32(crc, p, n);
    p += n;
    len -= n;
  }
  return crc;
}

void moss_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
  abort();
}

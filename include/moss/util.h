/*
 * moss/util.h - small helpers: borrowed string views, constant-time
 * comparison, secret wiping, CRC32, byte order, assertions.
 */
#ifndef MOSS_UTIL_H
#define MOSS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed view: buf points into memory owned by someone else, valid for
 * as long as that owner says (each function taking or returning a moss_str
 * states it).  Not NUL-terminated in general. */
struct moss_str {
  const char *buf;
  size_t len;
};

#define MOSS_STR_NULL ((struct moss_str){NULL, 0})
/* View of a NUL-terminated string (NULL gives an empty view). */
struct moss_str moss_str_c(const char *s);
struct moss_str moss_str_n(const char *s, size_t n);
bool moss_str_eq(struct moss_str a, struct moss_str b);
bool moss_str_eq_c(struct moss_str a, const char *b);
bool moss_str_casecmp_eq(struct moss_str a, struct moss_str b);
/* Copy into dst (size dstsz) with a NUL; returns MOSS_ERR_TOOBIG if it
 * does not fit (dst then holds an empty string). */
int moss_str_copy(char *dst, size_t dstsz, struct moss_str s);

/* Constant-time equality of two secrets of the same length: the time
 * depends on n only, never on the contents. */
bool moss_ct_eq(const void *a, const void *b, size_t n);
/* Wipe memory in a way the compiler may not elide. */
void moss_zeroize(void *p, size_t n);

/* Value of a hex digit (either case), or -1. */
int moss_hex_digit(char c);

/* CRC-32 (IEEE 802.3, reflected, init and xorout 0xFFFFFFFF), the one zlib
 * computes.  Incremental: crc = moss_crc32(crc, data, len), start with 0. */
uint32_t moss_crc32(uint32_t crc, const void *data, size_t len);

static inline uint16_t moss_get_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t moss_get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline void moss_put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void moss_put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* Checked in every build; on failure logs file:line and aborts.  Only for
 * programming errors, never for untrusted input. */
void moss_assert_fail(const char *expr, const char *file, int line);
#define MOSS_ASSERT(x) \
  ((x) ? (void)0 : moss_assert_fail(#x, __FILE__, __LINE__))

#define MOSS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MOSS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MOSS_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif

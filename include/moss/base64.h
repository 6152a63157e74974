/*
 * moss/base64.h - standard base64 (RFC 4648 §4, with padding), over
 * mbedTLS's implementation.  Caller-owned output buffers; no heap.
 */
#ifndef MOSS_BASE64_H
#define MOSS_BASE64_H

#include <stddef.h>

/* Output length needed to encode n bytes, including the NUL. */
#define MOSS_BASE64_ENC_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Writes a NUL-terminated string; *olen = length without NUL.
 * MOSS_ERR_TOOBIG if dst is too small. */
int moss_base64_encode(char *dst, size_t dstsz, size_t *olen, const void *src,
                       size_t n);
/* MOSS_ERR_PARSE on invalid input, MOSS_ERR_TOOBIG if dst is too small. */
int moss_base64_decode(void *dst, size_t dstsz, size_t *olen, const char *src,
                       size_t n);

#endif

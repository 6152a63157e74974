/* Base64 over mbedTLS's implementation (no hand-written codec). */
#include "moss/base64.h"

#include <mbedtls/base64.h>

#include "moss/err.h"

int moss_base64_encode(char *dst, size_t dstsz, size_t *olen, const void *src,
                       size_t n) {
  size_t out = 0;
  if (dstsz == 0)
    return MOSS_ERR_TOOBIG;
  /* mbedTLS writes nothing at all for empty input: still a string. */
  dst[0] = '\0';
  int rc = mbedtls_base64_encode((unsigned char *)dst, dstsz, &out, src, n);
  if (olen != NULL)
    *olen = out;
  if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
    return MOSS_ERR_TOOBIG;
  return rc == 0 ? MOSS_OK : MOSS_ERR_INTERNAL;
}

int moss_base64_decode(void *dst, size_t dstsz, size_t *olen, const char *src,
                       size_t n) {
  size_t out = 0;
  int rc =
      mbedtls_base64_decode(dst, dstsz, &out, (const unsigned char *)src, n);
  if (olen != NULL)
    *olen = out;
  if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
    return MOSS_ERR_TOOBIG;
  return rc == 0 ? MOSS_OK : MOSS_ERR_PARSE;
}

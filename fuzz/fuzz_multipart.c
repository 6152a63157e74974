/* libFuzzer target: multipart/form-data bodies of /upload.  The first
 * line of the input is the Content-Type value, the rest the body. */
#include <stdint.h>
#include <string.h>

#include "moss/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char *nl = memchr(s, '\n', size);
  if (nl == NULL)
    return 0;
  struct moss_str ct = moss_str_n(s, (size_t)(nl - s));
  struct moss_str body = moss_str_n(nl + 1, size - (size_t)(nl - s) - 1);
  struct moss_str b;
  if (moss_multipart_boundary(ct, &b) != 0)
    return 0;
  size_t pos = 0;
  struct moss_multipart_part p;
  int n = 0;
  while (moss_multipart_next(body, b, &pos, &p) > 0 && n++ < 10000) {
    /* every view lies inside the body */
    if (p.data.len > 0 && (p.data.buf < body.buf ||
                           p.data.buf + p.data.len > body.buf + body.len))
      __builtin_trap();
    if (pos > body.len)
      __builtin_trap();
  }
  return 0;
}

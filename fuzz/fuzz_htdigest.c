/*
 * Fuzz target: an htdigest password file.  The first byte picks the
 * algorithm and a chunk size; the file is fed in those chunks and the
 * result must equal the one-shot lookup (streaming must not change the
 * answer).  The user looked up is the first line's user and realm, so
 * matches are exercised, not only errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moss/auth.h"
#include "moss/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  enum moss_digest_algo algo =
      (data[0] & 1) ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5;
  size_t chunk = (size_t)(data[0] >> 1) + 1;
  const char *text = (const char *)data + 1;
  size--;

  char user[64] = "", realm[128] = "";
  const char *c1 = memchr(text, ':', size);
  if (c1 != NULL && (size_t)(c1 - text) < sizeof(user)) {
    memcpy(user, text, (size_t)(c1 - text));
    const char *end = text + size;
    const char *c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
    if (c2 != NULL && (size_t)(c2 - c1 - 1) < sizeof(realm))
      memcpy(realm, c1 + 1, (size_t)(c2 - c1 - 1));
  }

  char ha1[MOSS_DIGEST_HEX_MAX];
  struct moss_auth_file_error e1;
  int r1 = moss_htdigest_lookup(text, size, algo, user, realm, ha1, &e1);

  struct moss_htdigest_scan s;
  moss_htdigest_scan_init(&s, algo, user, realm);
  for (size_t off = 0; off < size; off += chunk)
    moss_htdigest_scan_feed(&s, text + off,
                            size - off < chunk ? size - off : chunk);
  int r2 = moss_htdigest_scan_finish(&s);
  const char *h = moss_htdigest_scan_ha1(&s);
  if (r1 != r2)
    abort();
  if (r1 == MOSS_OK) {
    if ((h == NULL) != (ha1[0] == '\0'))
      abort();
    if (h != NULL &&
        (strcmp(h, ha1) != 0 || strlen(h) != moss_digest_hex_len(algo)))
      abort();
  } else {
    const struct moss_auth_file_error *e2 = moss_htdigest_scan_error(&s);
    if (r1 != MOSS_ERR_PARSE || h != NULL || ha1[0] != '\0')
      abort();
    if (e1.line != e2->line || e1.col != e2->col || e1.line == 0 ||
        e1.col == 0 || e1.col > MOSS_HTDIGEST_LINE_MAX + 1)
      abort();
  }
  moss_htdigest_scan_wipe(&s);
  return 0;
}

/*
 * Fuzz target: Digest header values from the network, both directions
 * (Authorization on the device, WWW-Authenticate in mos), and the frame
 * "auth" object.  Whatever parses must then go through the checks and a
 * verification against a real nonce table without trouble, and an
 * accepted Authorization must satisfy the invariants the runtime relies
 * on (required fields present, nc 8 hex digits and not 0).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "moss/auth.h"
#include "moss/err.h"
#include "moss/json.h"
#include "moss/priv/auth_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fixed_rng(void *arg, void *buf, size_t n) {
  (void)arg;
  memset(buf, 0x11, n);
  return MOSS_OK;
}

static void exercise(struct moss_digest_creds *c, struct moss_str target) {
  static struct moss_nonce_table t;
  uint64_t n;
  moss_nonce_init(&t, fixed_rng, NULL);
  moss_nonce_issue(&t, 0, &n);
  /* Make the client's nonce the issued one sometimes, so the accept path
   * runs too. */
  if (c->nonce_value == 0)
    c->nonce_value = n;
  enum moss_digest_status st = moss_digest_check(c, c->realm, c->algo, target);
  if (st > MOSS_DIGEST_BAD_RESPONSE)
    abort();
  if (st == MOSS_DIGEST_OK) {
    st = moss_digest_verify(c, "30ddc51638030c8748c70feadcf878d8", &t, 1,
                            moss_str_c("POST"));
    if (st == MOSS_DIGEST_OK)
      abort(); /* a forged response never passes */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct moss_str v = {(const char *)data, size};
  struct moss_digest_creds c;
  const char *why = NULL;
  int r = moss_digest_parse_authorization(v, &c, &why);
  if (r == MOSS_OK) {
    if (!c.http || c.username[0] == '\0' || c.realm[0] == '\0' ||
        c.nonce[0] == '\0' || c.uri[0] == '\0' || c.response[0] == '\0' ||
        c.cnonce[0] == '\0' || strlen(c.nc) != 8 || c.nc_value == 0)
      abort();
    exercise(&c, moss_str_c(c.uri));
  } else if (r != MOSS_ERR_PARSE && r != MOSS_ERR_NOENT) {
    abort();
  } else if (why == NULL) {
    abort();
  }

  struct moss_digest_challenge ch;
  r = moss_digest_parse_challenge(v, &ch, &why);
  if (r == MOSS_OK && ch.nonce[0] == '\0')
    abort();
  r = moss_digest_parse_frame_challenge(v, &ch, &why);
  if (r == MOSS_OK && (ch.nonce[0] == '\0' || ch.realm[0] == '\0'))
    abort();

  /* The same bytes as a frame's "auth" value. */
  moss_json_init();
  cJSON *j = cJSON_ParseWithLength((const char *)data, size);
  if (j != NULL) {
    if (moss_digest_creds_from_json(j, &c, &why) == MOSS_OK) {
      if (c.http || c.nc_value == 0)
        abort();
      exercise(&c, MOSS_STR_NULL);
    }
    cJSON_Delete(j);
  }
  return 0;
}

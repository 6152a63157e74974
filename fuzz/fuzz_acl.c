/*
 * Fuzz target: an ACL file (rpc_acl.json / inline rpc.acl), untrusted in
 * the sense that anyone who can write a file may craft it.  Checks, beyond
 * "no crash": (1) an error always has a position inside the text and a
 * message; (2) differential against cJSON: whatever moss_acl_parse
 * accepts, cJSON accepts too, as an array with the same entries (cJSON is
 * laxer, so the other direction is not checked); (3) decisions run on the
 * result without touching anything outside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "moss/auth.h"
#include "moss/err.h"
#include "moss/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_warn(void *arg, unsigned line, unsigned col, const char *key) {
  (void)arg;
  if (line == 0 || col == 0 || key == NULL)
    abort();
}

static void same_str(const cJSON *obj, const char *key, struct moss_str s) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (s.buf == NULL) {
    if (v != NULL)
      abort();
    return;
  }
  if (!cJSON_IsString(v) || strlen(v->valuestring) != s.len ||
      memcmp(v->valuestring, s.buf, s.len) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct moss_acl acl;
  struct moss_auth_file_error e;
  const char *text = (const char *)data;
  int r = moss_acl_parse(&acl, text, size, &e, no_warn, NULL);
  if (r != MOSS_OK) {
    if (acl.n != 0 || e.line == 0 || e.col == 0 || e.what[0] == '\0')
      abort();
    if (r != MOSS_ERR_PARSE && r != MOSS_ERR_TOOBIG)
      abort();
    char buf[256];
    moss_acl_error_format(buf, sizeof(buf), "rpc_acl.json", &e,
                          MOSS_AUTH_MSG_REPLY);
    return 0;
  }
  moss_json_init();
  cJSON *root = cJSON_ParseWithLength(text, size);
  /* cJSON stops at a NUL inside a string; skip texts with NUL bytes. */
  if (memchr(data, 0, size) == NULL) {
    if (!cJSON_IsArray(root))
      abort();
    /* cJSON keeps the first of duplicate keys; we refuse duplicates, so
     * first == only.  Unknown keys may differ in number, so compare the
     * entries only. */
    if ((size_t)cJSON_GetArraySize(root) != acl.n)
      abort();
    for (size_t i = 0; i < acl.n; i++) {
      const cJSON *o = cJSON_GetArrayItem(root, (int)i);
      if (!cJSON_IsObject(o))
        abort();
      same_str(o, "method", acl.e[i].method);
      same_str(o, "ch_type", acl.e[i].ch_type);
      same_str(o, "acl", acl.e[i].acl);
    }
  }
  cJSON_Delete(root);
  static const char *const methods[] = {"FS.Get", "Sys.Reboot", "", "a/b"};
  static const char *const users[] = {"", "joe", "user1"};
  for (size_t m = 0; m < 4; m++)
    for (size_t u = 0; u < 3; u++) {
      struct moss_str t;
      enum moss_acl_verdict v =
          moss_acl_decide(&acl, u & 1, moss_str_c(methods[m]),
                          moss_str_c("WS_in"), moss_str_c(users[u]), &t);
      if (v > MOSS_ACL_NOT_CONFIGURED || t.buf == NULL)
        abort();
    }
  return 0;
}

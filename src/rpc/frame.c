/*
 * RPC frames (spec rpc.md §1): parsing a received frame into struct
 * moss_rpc_frame and serializing replies.  No I/O, no logging: the
 * dispatcher decides what an error means on which channel.
 *
 * cJSON does the parsing.  The one thing it cannot do is give back the id
 * as it was written: it stores numbers as doubles, so 2^63-1 or "1e3"
 * would come back altered and a client matching replies by id would never
 * see its reply.  So after cJSON has validated the whole text, a small
 * skipper (moss/json.h's position helper) walks the top level of that
 * (now known-good) text to find the id's exact bytes.  Where it cannot be
 * sure (escaped key spelling, a number only cJSON's lenient strtod
 * accepts) it falls back to cJSON's printing, which still keeps the JSON
 * type.
 */
#include <string.h>

#include <cJSON.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/json.h"
#include "moss/priv/rpc_json.h"
#include "moss/rpc.h"

/* Exact spelling of the top-level "id" value of a text cJSON accepted as
 * an object.  false: not found or ambiguous (use cJSON's value).  The
 * walk is moss/json.h's: RFC 8259 whitespace only, so where cJSON skipped
 * some other control byte the walk stops there and says false. */
static bool find_raw_id(const char *s, size_t n, struct moss_str *out) {
  size_t i = 0;
  if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  i = moss_json_skip_ws(s, n, i);
  if (i >= n || s[i] != '{')
    return false;
  i++;
  for (;;) {
    struct moss_str key;
    if (!moss_json_member(s, n, &i, &key))
      return false;
    bool is_id = moss_str_eq_c(key, "id");
    /* An escaped key may decode to "id"; cJSON would pick it first. */
    if (!is_id && memchr(key.buf, '\\', key.len) != NULL)
      return false;
    if (is_id) {
      *out = moss_str_n(s + i, moss_json_skip_value(s, n, i) - i);
      return true;
    }
    if (!moss_json_member_next(s, n, &i))
      return false;
  }
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* RFC 8259 number grammar; cJSON also takes "+1", "01", "1.". */
static bool is_json_number(struct moss_str t) {
  size_t i = 0, n = t.len;
  const char *s = t.buf;
  if (i < n && s[i] == '-')
    i++;
  if (i >= n)
    return false;
  if (s[i] == '0') {
    i++;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i]))
      i++;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    i++;
    if (i >= n || !is_digit(s[i]))
      return false;
    while (i < n && is_digit(s[i]))
      i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= n || !is_digit(s[i]))
      return false;
    while (i < n && is_digit(s[i]))
      i++;
  }
  return i == n;
}

/* Escapes were checked by cJSON; raw control bytes it lets through would
 * make the echoed reply invalid JSON. */
static bool is_clean_string(struct moss_str t) {
  if (t.len < 2 || t.buf[0] != '"' || t.buf[t.len - 1] != '"')
    return false;
  for (size_t i = 0; i < t.len; i++) {
    if ((unsigned char)t.buf[i] < 0x20)
      return false;
  }
  return true;
}

static char *dup_str(struct moss_str s) {
  char *p = moss_alloc(MOSS_SUB_RPC, s.len + 1);
  if (p == NULL)
    return NULL;
  memcpy(p, s.buf, s.len);
  p[s.len] = '\0';
  return p;
}

/* Optional string member: absent -> NULL (true), string -> value (true),
 * anything else -> false (invalid frame). */
static bool get_opt_str(const cJSON *root, const char *key, const char **out) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
  *out = NULL;
  if (it == NULL)
    return true;
  if (!cJSON_IsString(it) || it->valuestring == NULL)
    return false;
  *out = it->valuestring;
  return true;
}

static int id_text(const char *buf, size_t len, const cJSON *id,
                   struct moss_rpc_frame *f) {
  struct moss_str raw;
  if (find_raw_id(buf, len, &raw) &&
      (cJSON_IsNumber(id) ? is_json_number(raw) : is_clean_string(raw))) {
    f->id = dup_str(raw);
    return f->id != NULL ? MOSS_OK : MOSS_ERR_NOMEM;
  }
  char *p = cJSON_PrintUnformatted(id);
  if (p == NULL)
    return MOSS_ERR_NOMEM;
  f->id = dup_str(moss_str_c(p));
  cJSON_free(p);
  return f->id != NULL ? MOSS_OK : MOSS_ERR_NOMEM;
}

int moss_rpc_frame_parse(const char *buf, size_t len, size_t max_size,
                         struct moss_rpc_frame *f) {
  int ret = MOSS_ERR_PARSE;
  memset(f, 0, sizeof(*f));
  if (len > max_size)
    return MOSS_ERR_TOOBIG;
  if (buf == NULL || len == 0)
    return MOSS_ERR_PARSE;
  /* cJSON keeps strings NUL-terminated: an embedded NUL would silently
   * shorten a method or user name. */
  if (memchr(buf, '\0', len) != NULL)
    return MOSS_ERR_PARSE;
  moss_json_init();

  struct moss_alloc_stats before, after;
  moss_alloc_get_stats(&before);
  const char *end = NULL;
  f->root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
  if (f->root == NULL) {
    /* cJSON says NULL for both bad input and no memory; only the
     * allocator knows which, and an out-of-memory frame is not invalid. */
    moss_alloc_get_stats(&after);
    return after.failures != before.failures ? MOSS_ERR_NOMEM : MOSS_ERR_PARSE;
  }
  for (size_t i = (size_t)(end - buf); i < len; i++) {
    if (!moss_json_is_ws(buf[i]))
      goto out;
  }
  if (!cJSON_IsObject(f->root))
    goto out;

  const cJSON *id = cJSON_GetObjectItemCaseSensitive(f->root, "id");
  if (id != NULL) {
    if (cJSON_IsNumber(id)) {
      f->id_type = MOSS_RPC_ID_NUMBER;
    } else if (cJSON_IsString(id)) {
      f->id_type = MOSS_RPC_ID_STRING;
    } else {
      goto out;
    }
    ret = id_text(buf, len, id, f);
    if (ret != MOSS_OK)
      goto out;
    ret = MOSS_ERR_PARSE;
  }
  if (!get_opt_str(f->root, "src", &f->src) ||
      !get_opt_str(f->root, "dst", &f->dst) ||
      !get_opt_str(f->root, "tag", &f->tag) ||
      !get_opt_str(f->root, "method", &f->method))
    goto out;

  const cJSON *params = cJSON_GetObjectItemCaseSensitive(f->root, "params");
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(f->root, "args");
  f->params = params != NULL ? params : args;
  f->params_and_args = params != NULL && args != NULL;
  f->auth = cJSON_GetObjectItemCaseSensitive(f->root, "auth");
  f->result = cJSON_GetObjectItemCaseSensitive(f->root, "result");
  f->error = cJSON_GetObjectItemCaseSensitive(f->root, "error");
  ret = MOSS_OK;

out:
  if (ret != MOSS_OK)
    moss_rpc_frame_free(f);
  return ret;
}

void moss_rpc_frame_free(struct moss_rpc_frame *f) {
  if (f == NULL)
    return;
  cJSON_Delete(f->root);
  moss_free(f->id);
  memset(f, 0, sizeof(*f));
}

/* An item printing like r without owning r's children or strings. */
static cJSON *shallow_ref(const cJSON *r) {
  if (cJSON_IsObject(r))
    return cJSON_CreateObjectReference(r->child);
  if (cJSON_IsArray(r))
    return cJSON_CreateArrayReference(r->child);
  if (cJSON_IsString(r))
    return cJSON_CreateStringReference(r->valuestring);
  if (cJSON_IsRaw(r))
    return cJSON_CreateRaw(r->valuestring);
  /* numbers, booleans, null: nothing to share */
  return cJSON_Duplicate(r, 0);
}

int moss_rpc_reply_serialize(const struct moss_rpc_reply *r, char **out,
                             size_t *out_len) {
  int ret = MOSS_ERR_NOMEM;
  *out = NULL;
  if (out_len != NULL)
    *out_len = 0;
  if (r->id == NULL || r->src == NULL)
    return MOSS_ERR_INVAL;
  moss_json_init();
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return MOSS_ERR_NOMEM;
  /* Raw: the id goes out byte for byte as it came in (see top). */
  cJSON *id = cJSON_CreateRaw(r->id);
  if (id == NULL || !cJSON_AddItemToObject(o, "id", id)) {
    cJSON_Delete(id);
    goto out;
  }
  if (cJSON_AddStringToObject(o, "src", r->src) == NULL)
    goto out;
  if (r->dst != NULL && r->dst[0] != '\0' &&
      cJSON_AddStringToObject(o, "dst", r->dst) == NULL)
    goto out;
  if (r->tag != NULL && cJSON_AddStringToObject(o, "tag", r->tag) == NULL)
    goto out;
  if (r->is_error) {
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    if (e == NULL || cJSON_AddNumberToObject(e, "code", r->code) == NULL)
      goto out;
    if (r->message != NULL &&
        cJSON_AddStringToObject(e, "message", r->message) == NULL)
      goto out;
  } else if (r->result != NULL) {
    /* The caller keeps ownership of result, so attach a shallow reference.
     * Not cJSON_AddItemReferenceToObject: it leaks the reference when
     * copying the key fails (cJSON 1.7.15); the _CS add copies nothing. */
    cJSON *ref = shallow_ref(r->result);
    if (ref == NULL)
      goto out;
    if (!cJSON_AddItemToObjectCS(o, "result", ref)) {
      cJSON_Delete(ref);
      goto out;
    }
  } else if (cJSON_AddNullToObject(o, "result") == NULL) {
    goto out;
  }
  char *s = cJSON_PrintUnformatted(o);
  if (s == NULL)
    goto out;
  *out = s;
  if (out_len != NULL)
    *out_len = strlen(s);
  ret = MOSS_OK;
out:
  cJSON_Delete(o);
  return ret;
}

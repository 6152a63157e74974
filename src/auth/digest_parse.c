/*
 * Parsing of Digest credentials and challenges: the frame "auth" object
 * (rpc.md §5.2), the Authorization and WWW-Authenticate header values
 * (RFC 7616 over the auth-param syntax of RFC 7235), and the in-frame
 * challenge a client receives (§5.1).
 *
 * Header values are peer data: every field lands in a fixed buffer of
 * struct moss_digest_creds, a field that does not fit is an error, and a
 * parameter given twice is an error (two "response"s could otherwise be
 * read differently by a proxy and by us).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "auth_int.h"
#include "moss/err.h"
#include "moss/json.h"
#include "moss/priv/auth_json.h"

/* ---- small helpers ------------------------------------------------------- */

static bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
      (c >= 'A' && c <= 'Z'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool ieq(struct moss_str a, const char *b) {
  return moss_str_casecmp_eq(a, moss_str_c(b));
}

/* Digits only, 1..16 of them, value 1..MOSS_NONCE_MAX; else 0 (no nonce
 * of ours). */
static uint64_t nonce_value(const char *s, bool hex) {
  size_t n = strlen(s);
  if (n == 0 || n > 16)
    return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (hex && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (hex && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return 0;
    v = v * (hex ? 16 : 10) + (uint64_t)d;
  }
  return v <= MOSS_NONCE_MAX ? v : 0;
}

static void set_algo(struct moss_digest_creds *c, struct moss_str a) {
  c->algo_ok = true;
  if (ieq(a, "MD5")) {
    c->algo = MOSS_DIGEST_MD5;
  } else if (ieq(a, "SHA-256")) {
    c->algo = MOSS_DIGEST_SHA256;
  } else {
    c->algo_ok = false;
  }
}

static void creds_init(struct moss_digest_creds *c) {
  memset(c, 0, sizeof(*c));
  c->algo = MOSS_DIGEST_MD5;
  c->algo_ok = true;
}

/* ---- the frame's "auth" object ------------------------------------------- */

/* Integral JSON number within ±2^53 (exact in a double) as decimal text,
 * or a non-empty string verbatim. */
static int json_numtext(const cJSON *v, char *out, size_t outsz) {
  if (cJSON_IsString(v)) {
    if (v->valuestring == NULL || v->valuestring[0] == '\0')
      return MOSS_ERR_PARSE;
    return moss_str_copy(out, outsz, moss_str_c(v->valuestring)) == MOSS_OK
               ? MOSS_OK
               : MOSS_ERR_PARSE;
  }
  if (!cJSON_IsNumber(v))
    return MOSS_ERR_PARSE;
  double d = v->valuedouble;
  if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != floor(d))
    return MOSS_ERR_PARSE;
  int n = snprintf(out, outsz, "%" PRId64, (int64_t)d);
  return n > 0 && (size_t)n < outsz ? MOSS_OK : MOSS_ERR_PARSE;
}

static int json_str(const cJSON *obj, const char *key, char *out, size_t outsz,
                    bool required) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL)
    return required ? MOSS_ERR_NOENT : MOSS_OK;
  if (!cJSON_IsString(v) || v->valuestring == NULL)
    return MOSS_ERR_PARSE;
  if (v->valuestring[0] == '\0')
    return MOSS_ERR_NOENT;
  return moss_str_copy(out, outsz, moss_str_c(v->valuestring)) == MOSS_OK
             ? MOSS_OK
             : MOSS_ERR_PARSE;
}

int moss_digest_creds_from_json(const cJSON *auth, struct moss_digest_creds *c,
                                const char **why) {
  static const char *const missing[] = {"missing realm", "missing username",
                                        "missing response"};
  static const char *const bad[] = {"bad realm", "bad username",
                                    "bad response"};
  const char *w = NULL;
  int ret = MOSS_ERR_PARSE;
  creds_init(c);
  if (!cJSON_IsObject(auth)) {
    w = "auth is not an object";
    goto out;
  }
  struct {
    const char *key;
    char *buf;
    size_t size;
  } strs[] = {{"realm", c->realm, sizeof(c->realm)},
              {"username", c->username, sizeof(c->username)},
              {"response", c->response, sizeof(c->response)}};
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(strs); i++) {
    int r = json_str(auth, strs[i].key, strs[i].buf, strs[i].size, true);
    if (r != MOSS_OK) {
      w = r == MOSS_ERR_NOENT ? missing[i] : bad[i];
      goto out;
    }
  }
  if (!moss_auth_is_hex(c->response, strlen(c->response))) {
    w = "response is not hex";
    goto out;
  }
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(auth, "nonce");
  if (v == NULL) {
    w = "missing nonce";
    goto out;
  }
  if (json_numtext(v, c->nonce, sizeof(c->nonce)) != MOSS_OK) {
    w = "bad nonce";
    goto out;
  }
  v = cJSON_GetObjectItemCaseSensitive(auth, "cnonce");
  if (v == NULL) {
    w = "missing cnonce";
    goto out;
  }
  if (json_numtext(v, c->cnonce, sizeof(c->cnonce)) != MOSS_OK) {
    w = "bad cnonce";
    goto out;
  }
  v = cJSON_GetObjectItemCaseSensitive(auth, "nc");
  if (v == NULL) {
    c->nc_value = 1;
  } else {
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1.0) ||
        v->valuedouble > 4294967295.0 ||
        v->valuedouble != floor(v->valuedouble)) {
      w = "bad nc";
      goto out;
    }
    c->nc_value = (uint32_t)v->valuedouble;
  }
  snprintf(c->nc, sizeof(c->nc), "%" PRIu32, c->nc_value);
  v = cJSON_GetObjectItemCaseSensitive(auth, "algorithm");
  if (v != NULL) {
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
      w = "bad algorithm";
      goto out;
    }
    set_algo(c, moss_str_c(v->valuestring));
  }
  c->nonce_value = nonce_value(c->nonce, false);
  ret = MOSS_OK;
out:
  if (ret != MOSS_OK) {
    bool http = c->http;
    moss_zeroize(c, sizeof(*c));
    creds_init(c);
    c->http = http;
  }
  if (why != NULL)
    *why = w;
  return ret;
}

/* ---- auth-param lists (RFC 7235 §2.1) ----------------------------------- */

struct params {
  const char *s;
  size_t len, pos;
};

static void skip_ows(struct params *p) {
  while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
    p->pos++;
}

/* The scheme token, then at least one space (or the end). */
static int read_scheme(struct params *p, struct moss_str *scheme) {
  skip_ows(p);
  size_t b = p->pos;
  while (p->pos < p->len && is_tchar((unsigned char)p->s[p->pos]))
    p->pos++;
  *scheme = moss_str_n(p->s + b, p->pos - b);
  if (scheme->len == 0)
    return MOSS_ERR_PARSE;
  if (p->pos < p->len && p->s[p->pos] != ' ')
    return MOSS_ERR_PARSE;
  return MOSS_OK;
}

/* Next name=value.  The value is unescaped into val (valsz with NUL).
 * Returns 1 with a parameter, 0 at the end, MOSS_ERR_PARSE (*why). */
static int next_param(struct params *p, struct moss_str *name, char *val,
                      size_t valsz, const char **why) {
  /* Empty list elements (",,") are allowed by the #rule. */
  for (;;) {
    skip_ows(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
      p->pos++;
      continue;
    }
    break;
  }
  if (p->pos >= p->len)
    return 0;
  size_t b = p->pos;
  while (p->pos < p->len && is_tchar((unsigned char)p->s[p->pos]))
    p->pos++;
  if (p->pos == b) {
    *why = "expected a parameter name";
    return MOSS_ERR_PARSE;
  }
  *name = moss_str_n(p->s + b, p->pos - b);
  skip_ows(p);
  if (p->pos >= p->len || p->s[p->pos] != '=') {
    *why = "expected '=' after a parameter name";
    return MOSS_ERR_PARSE;
  }
  p->pos++;
  skip_ows(p);
  size_t n = 0;
  if (p->pos < p->len && p->s[p->pos] == '"') {
    p->pos++;
    for (;;) {
      if (p->pos >= p->len) {
        *why = "unterminated quoted string";
        return MOSS_ERR_PARSE;
      }
      unsigned char c = (unsigned char)p->s[p->pos++];
      if (c == '"')
        break;
      if (c == '\\') {
        if (p->pos >= p->len) {
          *why = "unterminated quoted string";
          return MOSS_ERR_PARSE;
        }
        c = (unsigned char)p->s[p->pos++];
        /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
        if (c != '\t' && c < 0x20) {
          *why = "invalid character in quoted string";
          return MOSS_ERR_PARSE;
        }
      } else if ((c != '\t' && c < 0x20) || c == 0x7f) {
        *why = "invalid character in quoted string";
        return MOSS_ERR_PARSE;
      }
      if (n + 1 >= valsz) {
        *why = "parameter value too long";
        return MOSS_ERR_PARSE;
      }
      val[n++] = (char)c;
    }
  } else {
    while (p->pos < p->len && is_tchar((unsigned char)p->s[p->pos])) {
      if (n + 1 >= valsz) {
        *why = "parameter value too long";
        return MOSS_ERR_PARSE;
      }
      val[n++] = p->s[p->pos++];
    }
    if (n == 0) {
      *why = "expected a token or a quoted string";
      return MOSS_ERR_PARSE;
    }
  }
  val[n] = '\0';
  skip_ows(p);
  if (p->pos < p->len && p->s[p->pos] != ',') {
    *why = "expected ',' between parameters";
    return MOSS_ERR_PARSE;
  }
  return 1;
}

/* ---- Authorization ------------------------------------------------------- */

enum {
  A_USERNAME,
  A_REALM,
  A_NONCE,
  A_URI,
  A_RESPONSE,
  A_QOP,
  A_NC,
  A_CNONCE,
  A_ALGORITHM,
  A_OPAQUE,
  A_USERHASH,
  A_USERNAME_EXT,
  A_COUNT
};

static const char *const a_names[A_COUNT] = {
    "username", "realm",  "nonce",     "uri",    "response", "qop",
    "nc",       "cnonce", "algorithm", "opaque", "userhash", "username*"};

/* Required attributes (§5.5), in the order their absence is reported. */
static const struct {
  int id;
  const char *why;
} a_required[] = {{A_USERNAME, "missing username"},
                  {A_REALM, "missing realm"},
                  {A_NONCE, "missing nonce"},
                  {A_URI, "missing uri"},
                  {A_RESPONSE, "missing response"},
                  {A_QOP, "missing qop"},
                  {A_NC, "missing nc"},
                  {A_CNONCE, "missing cnonce"}};

int moss_digest_parse_authorization(struct moss_str value,
                                    struct moss_digest_creds *c,
                                    const char **why) {
  struct params p = {value.buf, value.len, 0};
  struct moss_str scheme, name;
  char val[MOSS_DIGEST_URI_MAX];
  const char *w = NULL;
  unsigned seen = 0;
  int ret = MOSS_ERR_PARSE, r;
  creds_init(c);
  c->http = true;
  if (value.buf == NULL)
    value.len = p.len = 0;
  if (read_scheme(&p, &scheme) != MOSS_OK) {
    w = "expected an auth scheme";
    goto out;
  }
  if (!ieq(scheme, "Digest")) {
    ret = MOSS_ERR_NOENT;
    w = "not a Digest header";
    goto out;
  }
  while ((r = next_param(&p, &name, val, sizeof(val), &w)) > 0) {
    int id = -1;
    for (int i = 0; i < A_COUNT; i++)
      if (ieq(name, a_names[i]))
        id = i;
    if (id < 0)
      continue; /* unknown parameters are ignored (RFC 7616) */
    if (seen & (1u << id)) {
      w = "duplicate parameter";
      goto out;
    }
    seen |= 1u << id;
    char *dst = NULL;
    size_t dsz = 0;
    switch (id) {
      case A_USERNAME:
        dst = c->username, dsz = sizeof(c->username);
        break;
      case A_REALM:
        dst = c->realm, dsz = sizeof(c->realm);
        break;
      case A_NONCE:
        dst = c->nonce, dsz = sizeof(c->nonce);
        break;
      case A_URI:
        dst = c->uri, dsz = sizeof(c->uri);
        break;
      case A_RESPONSE:
        dst = c->response, dsz = sizeof(c->response);
        break;
      case A_CNONCE:
        dst = c->cnonce, dsz = sizeof(c->cnonce);
        break;
      case A_NC:
        dst = c->nc, dsz = sizeof(c->nc);
        break;
      case A_QOP:
        if (!ieq(moss_str_c(val), "auth")) {
          w = "qop must be auth";
          goto out;
        }
        break;
      case A_ALGORITHM:
        set_algo(c, moss_str_c(val));
        break;
      case A_USERHASH:
        if (!ieq(moss_str_c(val), "false")) {
          w = "userhash is not supported";
          goto out;
        }
        break;
      case A_USERNAME_EXT:
        w = "username* is not supported";
        goto out;
      default:
        break; /* opaque: echoed by clients, not checked */
    }
    if (dst != NULL && moss_str_copy(dst, dsz, moss_str_c(val)) != MOSS_OK) {
      w = "parameter value too long";
      goto out;
    }
  }
  if (r < 0)
    goto out;
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(a_required); i++) {
    int id = a_required[i].id;
    if (!(seen & (1u << id))) {
      w = a_required[i].why;
      goto out;
    }
  }
  /* Present but empty counts as missing for the fields the hash uses. */
  if (c->username[0] == '\0' || c->realm[0] == '\0' || c->nonce[0] == '\0' ||
      c->uri[0] == '\0' || c->response[0] == '\0' || c->cnonce[0] == '\0') {
    w = "empty parameter";
    goto out;
  }
  if (!moss_auth_is_hex(c->response, strlen(c->response))) {
    w = "response is not hex";
    goto out;
  }
  if (strlen(c->nc) != 8 || !moss_auth_is_hex(c->nc, 8)) {
    w = "nc must be 8 hex digits";
    goto out;
  }
  uint64_t nc = nonce_value(c->nc, true);
  if (nc == 0) {
    w = "nc must not be 0";
    goto out;
  }
  c->nc_value = (uint32_t)nc;
  c->nonce_value = nonce_value(c->nonce, true);
  ret = MOSS_OK;
out:
  moss_zeroize(val, sizeof(val));
  if (ret != MOSS_OK) {
    creds_init(c);
    c->http = true;
  }
  if (why != NULL)
    *why = w;
  return ret;
}

/* ---- WWW-Authenticate (client side) -------------------------------------- */

static void challenge_init(struct moss_digest_challenge *ch) {
  memset(ch, 0, sizeof(*ch));
  ch->algo = MOSS_DIGEST_MD5;
}

/* qop="auth,auth-int": true when "auth" is one of the list's tokens. */
static bool qop_has_auth(const char *v) {
  struct moss_str s = moss_str_c(v);
  size_t i = 0;
  while (i <= s.len) {
    size_t b = i;
    while (i < s.len && s.buf[i] != ',')
      i++;
    size_t e = i;
    while (b < e && (s.buf[b] == ' ' || s.buf[b] == '\t'))
      b++;
    while (e > b && (s.buf[e - 1] == ' ' || s.buf[e - 1] == '\t'))
      e--;
    if (ieq(moss_str_n(s.buf + b, e - b), "auth"))
      return true;
    i++;
  }
  return false;
}

int moss_digest_parse_challenge(struct moss_str value,
                                struct moss_digest_challenge *ch,
                                const char **why) {
  enum { C_REALM, C_NONCE, C_QOP, C_ALGO, C_STALE, C_OPAQUE, C_COUNT };
  static const char *const names[C_COUNT] = {"realm",     "nonce", "qop",
                                             "algorithm", "stale", "opaque"};
  struct params p = {value.buf, value.len, 0};
  struct moss_str scheme, name;
  char val[MOSS_DIGEST_URI_MAX];
  const char *w = NULL;
  unsigned seen = 0;
  int ret = MOSS_ERR_PARSE, r;
  challenge_init(ch);
  if (value.buf == NULL)
    p.len = 0;
  if (read_scheme(&p, &scheme) != MOSS_OK) {
    w = "expected an auth scheme";
    goto out;
  }
  if (!ieq(scheme, "Digest")) {
    ret = MOSS_ERR_NOENT;
    w = "not a Digest challenge";
    goto out;
  }
  while ((r = next_param(&p, &name, val, sizeof(val), &w)) > 0) {
    int id = -1;
    for (int i = 0; i < C_COUNT; i++)
      if (ieq(name, names[i]))
        id = i;
    if (id < 0)
      continue;
    if (seen & (1u << id)) {
      w = "duplicate parameter";
      goto out;
    }
    seen |= 1u << id;
    int cr = MOSS_OK;
    switch (id) {
      case C_REALM:
        cr = moss_str_copy(ch->realm, sizeof(ch->realm), moss_str_c(val));
        break;
      case C_NONCE:
        cr = moss_str_copy(ch->nonce, sizeof(ch->nonce), moss_str_c(val));
        break;
      case C_OPAQUE:
        cr = moss_str_copy(ch->opaque, sizeof(ch->opaque), moss_str_c(val));
        break;
      case C_QOP:
        if (!qop_has_auth(val)) {
          ret = MOSS_ERR_NOTSUP;
          w = "qop auth not offered";
          goto out;
        }
        break;
      case C_ALGO:
        if (ieq(moss_str_c(val), "MD5")) {
          ch->algo = MOSS_DIGEST_MD5;
        } else if (ieq(moss_str_c(val), "SHA-256")) {
          ch->algo = MOSS_DIGEST_SHA256;
        } else {
          ret = MOSS_ERR_NOTSUP;
          w = "unsupported algorithm";
          goto out;
        }
        break;
      case C_STALE:
        ch->stale = ieq(moss_str_c(val), "true");
        break;
      default:
        break;
    }
    if (cr != MOSS_OK) {
      w = "parameter value too long";
      goto out;
    }
  }
  if (r < 0)
    goto out;
  if (ch->realm[0] == '\0' && !(seen & (1u << C_REALM))) {
    w = "missing realm";
    goto out;
  }
  if (ch->nonce[0] == '\0') {
    w = "missing nonce";
    goto out;
  }
  ret = MOSS_OK;
out:
  if (ret != MOSS_OK)
    challenge_init(ch);
  if (why != NULL)
    *why = w;
  return ret;
}

int moss_digest_parse_frame_challenge(struct moss_str message,
                                      struct moss_digest_challenge *ch,
                                      const char **why) {
  const char *w = NULL;
  int ret = MOSS_ERR_PARSE;
  cJSON *root = NULL;
  challenge_init(ch);
  moss_json_init();
  if (message.buf == NULL) {
    w = "not JSON";
    goto out;
  }
  root = cJSON_ParseWithLength(message.buf, message.len);
  if (!cJSON_IsObject(root)) {
    ret = MOSS_ERR_NOENT;
    w = "not a Digest challenge";
    goto out;
  }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "auth_type");
  if (!cJSON_IsString(t) || t->valuestring == NULL ||
      strcmp(t->valuestring, "digest") != 0) {
    ret = MOSS_ERR_NOENT;
    w = "not a Digest challenge";
    goto out;
  }
  if (json_numtext(cJSON_GetObjectItemCaseSensitive(root, "nonce"), ch->nonce,
                   sizeof(ch->nonce)) != MOSS_OK) {
    w = "bad or missing nonce";
    goto out;
  }
  if (json_str(root, "realm", ch->realm, sizeof(ch->realm), true) != MOSS_OK) {
    w = "bad or missing realm";
    goto out;
  }
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "algorithm");
  if (a != NULL) {
    if (!cJSON_IsString(a) || a->valuestring == NULL) {
      w = "bad algorithm";
      goto out;
    }
    if (strcmp(a->valuestring, "MD5") == 0) {
      ch->algo = MOSS_DIGEST_MD5;
    } else if (strcmp(a->valuestring, "SHA-256") == 0) {
      ch->algo = MOSS_DIGEST_SHA256;
    } else {
      ret = MOSS_ERR_NOTSUP;
      w = "unsupported algorithm";
      goto out;
    }
  }
  ret = MOSS_OK;
out:
  cJSON_Delete(root);
  if (ret != MOSS_OK)
    challenge_init(ch);
  if (why != NULL)
    *why = w;
  return ret;
}

/*
 * RPC ACLs (rpc.md §6): the source choice, the parser and the decision.
 *
 * Why not cJSON here: the ACL is re-read on every request, the check
 * paths must not allocate, and §6.5 wants the exact line and column of
 * the offending token with a message saying what was expected, which
 * cJSON does not record.  So this is a small strict RFC 8259 recursive
 * descent over the text that decodes the three strings of each entry
 * into the caller's struct moss_acl and only validates everything else.
 * The fuzz target checks it against cJSON: whatever this accepts, cJSON
 * must accept with the same entries.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth_int.h"
#include "moss/err.h"
#include "moss/glob.h"

/* ---- source (§6.1) ------------------------------------------------------ */

enum moss_acl_source moss_acl_source(const char *rpc_acl,
                                     const char *rpc_acl_file,
                                     const char **where) {
  const char *a = rpc_acl != NULL ? rpc_acl : "";
  const char *f = rpc_acl_file != NULL ? rpc_acl_file : "";
  const char *w = NULL;
  enum moss_acl_source src = MOSS_ACL_SRC_NONE;
  if (a[0] != '\0' && f[0] != '\0') {
    src = MOSS_ACL_SRC_CONFLICT;
  } else if (a[0] == '@') {
    src = MOSS_ACL_SRC_FILE;
    w = a + 1;
  } else if (a[0] != '\0') {
    src = MOSS_ACL_SRC_INLINE;
    w = a;
  } else if (f[0] != '\0') {
    src = MOSS_ACL_SRC_FILE;
    w = f;
  }
  if (where != NULL)
    *where = w;
  return src;
}

/* ---- the JSON walk ------------------------------------------------------- */

struct jp {
  const char *t;
  size_t len, pos;
  struct moss_auth_file_error *err;
};

static void line_col(const char *t, size_t off, unsigned *line, unsigned *col) {
  unsigned l = 1, c = 1;
  for (size_t i = 0; i < off; i++) {
    if (t[i] == '\n') {
      l++;
      c = 1;
    } else {
      c++;
    }
  }
  *line = l;
  *col = c;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
jfail(struct jp *p, int code, size_t off, const char *fmt, ...) {
  if (p->err != NULL) {
    line_col(p->t, off, &p->err->line, &p->err->col);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->what, sizeof(p->err->what), fmt, ap);
    va_end(ap);
  }
  return code;
}

/* What stands at off, for "found ...": '{', end of input, byte 0x01. */
static const char *found(const struct jp *p, size_t off, char *buf, size_t n) {
  if (off >= p->len)
    return "end of input";
  unsigned char c = (unsigned char)p->t[off];
  if (c > 0x20 && c < 0x7f)
    snprintf(buf, n, "'%c'", c);
  else
    snprintf(buf, n, "byte 0x%02x", c);
  return buf;
}

static int fail_found(struct jp *p, const char *expected) {
  char b[16];
  return jfail(p, MOSS_ERR_PARSE, p->pos, "%s, found %s", expected,
               found(p, p->pos, b, sizeof(b)));
}

static void skip_ws(struct jp *p) {
  while (p->pos < p->len) {
    char c = p->t[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    p->pos++;
  }
}

static int peek(const struct jp *p) {
  return p->pos < p->len ? (unsigned char)p->t[p->pos] : -1;
}

static bool starts_value(int c) {
  return c == '"' || c == '{' || c == '[' || c == '-' ||
         (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

static int hex4(const char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* A string at p->pos ('"').  Decoded into out (outsz bytes, NUL
 * included) when out is not NULL; *fits says whether all of it did. */
static int parse_string(struct jp *p, char *out, size_t outsz, size_t *olen,
                        bool *fits) {
  size_t start = p->pos, n = 0;
  bool ok = true;
  p->pos++;
#define PUT(ch)                       \
  do {                                \
    if (out != NULL && n + 1 < outsz) \
      out[n++] = (char)(ch);          \
    else                              \
      ok = false;                     \
  } while (0)
  for (;;) {
    if (p->pos >= p->len)
      return jfail(p, MOSS_ERR_PARSE, start, "unterminated string");
    unsigned char c = (unsigned char)p->t[p->pos];
    if (c == '"') {
      p->pos++;
      break;
    }
    if (c < 0x20)
      return jfail(p, MOSS_ERR_PARSE, p->pos, "control character in string");
    if (c != '\\') {
      PUT(c);
      p->pos++;
      continue;
    }
    size_t esc = p->pos;
    if (p->pos + 1 >= p->len)
      return jfail(p, MOSS_ERR_PARSE, start, "unterminated string");
    char e = p->t[p->pos + 1];
    p->pos += 2;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e != '\0' && simple != NULL) {
      static const char map[] = "\"\\/\b\f\n\r\t";
      PUT(map[simple - "\"\\/bfnrt"]);
      continue;
    }
    if (e != 'u')
      return jfail(p, MOSS_ERR_PARSE, esc, "invalid escape in string");
    int u = p->pos + 4 <= p->len ? hex4(p->t + p->pos) : -1;
    if (u < 0)
      return jfail(p, MOSS_ERR_PARSE, esc, "invalid \\u escape in string");
    p->pos += 4;
    unsigned long cp = (unsigned long)u;
    if (u >= 0xd800 && u <= 0xdbff) {
      int lo = p->pos + 6 <= p->len && p->t[p->pos] == '\\' &&
                       p->t[p->pos + 1] == 'u'
                   ? hex4(p->t + p->pos + 2)
                   : -1;
      if (lo < 0xdc00 || lo > 0xdfff)
        return jfail(p, MOSS_ERR_PARSE, esc, "invalid \\u escape in string");
      p->pos += 6;
      cp = 0x10000 + (((unsigned long)u - 0xd800) << 10) +
           ((unsigned long)lo - 0xdc00);
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      return jfail(p, MOSS_ERR_PARSE, esc, "invalid \\u escape in string");
    }
    if (cp == 0)
      return jfail(p, MOSS_ERR_PARSE, esc, "NUL character in string");
    if (cp < 0x80) {
      PUT(cp);
    } else if (cp < 0x800) {
      PUT(0xc0 | (cp >> 6));
      PUT(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      PUT(0xe0 | (cp >> 12));
      PUT(0x80 | ((cp >> 6) & 0x3f));
      PUT(0x80 | (cp & 0x3f));
    } else {
      PUT(0xf0 | (cp >> 18));
      PUT(0x80 | ((cp >> 12) & 0x3f));
      PUT(0x80 | ((cp >> 6) & 0x3f));
      PUT(0x80 | (cp & 0x3f));
    }
  }
#undef PUT
  if (out != NULL && outsz > 0)
    out[n < outsz ? n : outsz - 1] = '\0';
  if (olen != NULL)
    *olen = n;
  if (fits != NULL)
    *fits = ok;
  return MOSS_OK;
}

static bool digit(const struct jp *p, size_t i) {
  return i < p->len && p->t[i] >= '0' && p->t[i] <= '9';
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int parse_number(struct jp *p) {
  size_t s = p->pos, i = p->pos;
  if (i < p->len && p->t[i] == '-')
    i++;
  if (!digit(p, i))
    return jfail(p, MOSS_ERR_PARSE, s, "invalid number");
  if (p->t[i] == '0') {
    i++;
  } else {
    while (digit(p, i))
      i++;
  }
  if (i < p->len && p->t[i] == '.') {
    i++;
    if (!digit(p, i))
      return jfail(p, MOSS_ERR_PARSE, s, "invalid number");
    while (digit(p, i))
      i++;
  }
  if (i < p->len && (p->t[i] == 'e' || p->t[i] == 'E')) {
    i++;
    if (i < p->len && (p->t[i] == '+' || p->t[i] == '-'))
      i++;
    if (!digit(p, i))
      return jfail(p, MOSS_ERR_PARSE, s, "invalid number");
    while (digit(p, i))
      i++;
  }
  p->pos = i;
  return MOSS_OK;
}

static int parse_literal(struct jp *p) {
  static const char *const lits[] = {"true", "false", "null"};
  for (size_t k = 0; k < MOSS_ARRAY_SIZE(lits); k++) {
    size_t n = strlen(lits[k]);
    if (p->len - p->pos >= n && memcmp(p->t + p->pos, lits[k], n) == 0) {
      p->pos += n;
      return MOSS_OK;
    }
  }
  return jfail(p, MOSS_ERR_PARSE, p->pos, "invalid literal");
}

/* Any value, validated and skipped (ignored keys). */
static int skip_value(struct jp *p, unsigned depth) {
  int c = peek(p), r;
  if (c == '"')
    return parse_string(p, NULL, 0, NULL, NULL);
  if (c == '-' || (c >= '0' && c <= '9'))
    return parse_number(p);
  if (c == 't' || c == 'f' || c == 'n')
    return parse_literal(p);
  if (c != '{' && c != '[')
    return fail_found(p, "expected a JSON value");
  if (depth >= MOSS_ACL_MAX_DEPTH)
    return jfail(p, MOSS_ERR_PARSE, p->pos, "nesting too deep");
  bool obj = c == '{';
  p->pos++;
  skip_ws(p);
  if (peek(p) == (obj ? '}' : ']')) {
    p->pos++;
    return MOSS_OK;
  }
  for (;;) {
    if (obj) {
      if (peek(p) != '"')
        return fail_found(p, "expected a string key");
      if ((r = parse_string(p, NULL, 0, NULL, NULL)) != MOSS_OK)
        return r;
      skip_ws(p);
      if (peek(p) != ':')
        return fail_found(p, "expected ':' after object key");
      p->pos++;
      skip_ws(p);
    }
    if ((r = skip_value(p, depth + 1)) != MOSS_OK)
      return r;
    skip_ws(p);
    c = peek(p);
    if (c == ',') {
      p->pos++;
      skip_ws(p);
      continue;
    }
    if (c == (obj ? '}' : ']')) {
      p->pos++;
      return MOSS_OK;
    }
    return fail_found(p, obj ? "expected ',' or '}' after object member"
                             : "expected ',' or ']' after array element");
  }
}

/* ---- entries ------------------------------------------------------------- */

enum { K_METHOD, K_CH_TYPE, K_ACL, K_COUNT };
static const char *const key_names[K_COUNT] = {"method", "ch_type", "acl"};

static int parse_entry(struct jp *p, struct moss_acl *acl,
                       moss_acl_warn_fn *warn, void *warn_arg) {
  size_t open = p->pos;
  int r;
  if (acl->n >= MOSS_ACL_MAX_ENTRIES)
    return jfail(p, MOSS_ERR_TOOBIG, open, "too many ACL entries (at most %u)",
                 MOSS_ACL_MAX_ENTRIES);
  struct moss_acl_entry *e = &acl->e[acl->n];
  memset(e, 0, sizeof(*e));
  line_col(p->t, open, &e->line, &e->col);
  p->pos++;
  skip_ws(p);
  if (peek(p) != '}') {
    for (;;) {
      if (peek(p) != '"')
        return fail_found(p, "expected a string key");
      size_t kpos = p->pos, klen;
      char key[32];
      bool kfits;
      r = parse_string(p, key, sizeof(key), &klen, &kfits);
      if (r != MOSS_OK)
        return r;
      int k = -1;
      for (int i = 0; i < K_COUNT; i++)
        if (kfits && strlen(key) == klen && strcmp(key, key_names[i]) == 0)
          k = i;
      skip_ws(p);
      if (peek(p) != ':')
        return fail_found(p, "expected ':' after object key");
      p->pos++;
      skip_ws(p);
      if (k < 0) {
        if (warn != NULL) {
          unsigned l, c;
          line_col(p->t, kpos, &l, &c);
          warn(warn_arg, l, c, key);
        }
        if ((r = skip_value(p, 1)) != MOSS_OK)
          return r;
      } else {
        struct moss_str *slot = k == K_METHOD    ? &e->method
                                : k == K_CH_TYPE ? &e->ch_type
                                                 : &e->acl;
        if (slot->buf != NULL)
          return jfail(p, MOSS_ERR_PARSE, kpos, "duplicate key \"%s\"",
                       key_names[k]);
        if (peek(p) != '"') {
          if (!starts_value(peek(p)))
            return fail_found(p, "expected a JSON value");
          return jfail(p, MOSS_ERR_PARSE, p->pos, "\"%s\" must be a string",
                       key_names[k]);
        }
        size_t vpos = p->pos, vlen;
        bool fits;
        char *dst = acl->pool + acl->pool_used;
        r = parse_string(p, dst, sizeof(acl->pool) - acl->pool_used, &vlen,
                         &fits);
        if (r != MOSS_OK)
          return r;
        if (!fits)
          return jfail(p, MOSS_ERR_TOOBIG, vpos,
                       "ACL strings too long (at most %u bytes in all)",
                       MOSS_ACL_POOL_SIZE);
        *slot = moss_str_n(dst, vlen);
        acl->pool_used += vlen + 1;
      }
      skip_ws(p);
      int c = peek(p);
      if (c == ',') {
        p->pos++;
        skip_ws(p);
        continue;
      }
      if (c == '}')
        break;
      return fail_found(p, "expected ',' or '}' after object member");
    }
  }
  p->pos++; /* '}' */
  if (e->acl.buf == NULL || (e->method.buf == NULL && e->ch_type.buf == NULL))
    return jfail(p, MOSS_ERR_PARSE, open,
                 "ACL entry needs \"acl\" and \"method\" or \"ch_type\"");
  acl->n++;
  return MOSS_OK;
}

int moss_acl_parse(struct moss_acl *acl, const char *text, size_t len,
                   struct moss_auth_file_error *err, moss_acl_warn_fn *warn,
                   void *warn_arg) {
  struct moss_auth_file_error dummy;
  struct jp p = {text, len, 0, err != NULL ? err : &dummy};
  int r;
  acl->n = 0;
  acl->pool_used = 0;
  memset(p.err, 0, sizeof(*p.err));
  if (text == NULL)
    p.len = 0;
  if (p.len > MOSS_ACL_TEXT_MAX) {
    r = jfail(&p, MOSS_ERR_TOOBIG, 0, "ACL longer than %u bytes",
              MOSS_ACL_TEXT_MAX);
    goto out;
  }
  skip_ws(&p);
  if (peek(&p) != '[') {
    r = jfail(&p, MOSS_ERR_PARSE, p.pos, "root element must be an array");
    goto out;
  }
  p.pos++;
  skip_ws(&p);
  if (peek(&p) == ']') {
    p.pos++;
  } else {
    for (;;) {
      int c = peek(&p);
      if (c != '{') {
        r = starts_value(c) ? jfail(&p, MOSS_ERR_PARSE, p.pos,
                                    "array elements must be objects")
                            : fail_found(&p, "expected a JSON value");
        goto out;
      }
      if ((r = parse_entry(&p, acl, warn, warn_arg)) != MOSS_OK)
        goto out;
      skip_ws(&p);
      c = peek(&p);
      if (c == ',') {
        p.pos++;
        skip_ws(&p);
        continue;
      }
      if (c == ']') {
        p.pos++;
        break;
      }
      r = fail_found(&p, "expected ',' or ']' after array element");
      goto out;
    }
  }
  skip_ws(&p);
  if (p.pos < p.len) {
    r = fail_found(&p, "expected end of input after the root array");
    goto out;
  }
  r = MOSS_OK;
out:
  if (r != MOSS_OK) {
    acl->n = 0;
    acl->pool_used = 0;
  }
  return r;
}

int moss_acl_error_format(char *buf, size_t size, const char *fname,
                          const struct moss_auth_file_error *e,
                          enum moss_auth_msg_form form) {
  int n;
  if (fname == NULL)
    fname = "";
  if (form == MOSS_AUTH_MSG_LOG)
    n = snprintf(buf, size, "%s:%u:%u: ACL parse error: %s", fname, e->line,
                 e->col, e->what);
  else if (form == MOSS_AUTH_MSG_REPLY)
    n = snprintf(buf, size, "invalid ACL in %s at line %u, column %u: %s",
                 fname, e->line, e->col, e->what);
  else
    n = snprintf(buf, size, "%s:%u:%u: %s", fname, e->line, e->col, e->what);
  return n >= 0 && (size_t)n < size ? n : MOSS_ERR_TOOBIG;
}

/* ---- decision (§6.3, §6.4) --------------------------------------------- */

static struct moss_str trim(struct moss_str s) {
  while (s.len > 0 && (s.buf[0] == ' ' || s.buf[0] == '\t')) {
    s.buf++;
    s.len--;
  }
  while (s.len > 0 && (s.buf[s.len - 1] == ' ' || s.buf[s.len - 1] == '\t'))
    s.len--;
  return s;
}

bool moss_acl_str_allows(struct moss_str acl, struct moss_str user) {
  if (user.len == 0 || acl.buf == NULL)
    return false;
  size_t i = 0;
  while (i < acl.len) {
    size_t b = i;
    while (i < acl.len && acl.buf[i] != ',')
      i++;
    struct moss_str ent = trim(moss_str_n(acl.buf + b, i - b));
    i++;
    bool allow = true;
    if (ent.len > 0 && (ent.buf[0] == '+' || ent.buf[0] == '-')) {
      allow = ent.buf[0] == '+';
      ent.buf++;
      ent.len--;
    }
    /* The list is split at commas first, so only '|' alternatives are
     * left for the glob (§6.3). */
    if (ent.len > 0 && moss_glob_match(ent, user))
      return allow;
  }
  return false;
}

int moss_acl_match(const struct moss_acl *acl, struct moss_str method,
                   struct moss_str ch_type) {
  for (size_t i = 0; acl != NULL && i < acl->n; i++) {
    const struct moss_acl_entry *e = &acl->e[i];
    if (e->method.buf != NULL && !moss_glob_match(e->method, method))
      continue;
    if (e->ch_type.buf != NULL && !moss_str_eq(e->ch_type, ch_type))
      continue;
    return (int)i;
  }
  return -1;
}

enum moss_acl_verdict moss_acl_decide(
    const struct moss_acl *acl, bool auth_configured, struct moss_str method,
    struct moss_str ch_type, struct moss_str user, struct moss_str *acl_text) {
  struct moss_str dummy;
  if (acl_text == NULL)
    acl_text = &dummy;
  if (acl == NULL) {
    if (!auth_configured) {
      *acl_text = moss_str_c("*");
      return MOSS_ACL_ALLOW;
    }
    /* moss: a password file without an ACL means "login required" (the
     * seed's reading), where Mongoose OS required nothing. */
    *acl_text = moss_str_c("<any user>");
    return user.len > 0 ? MOSS_ACL_ALLOW : MOSS_ACL_NEED_USER;
  }
  int i = moss_acl_match(acl, method, ch_type);
  if (i < 0) {
    *acl_text = moss_str_c("<no match>");
    return MOSS_ACL_DENY;
  }
  const struct moss_acl_entry *e = &acl->e[i];
  *acl_text = e->acl;
  struct moss_str a = trim(e->acl);
  if (moss_str_eq_c(a, "*") || moss_str_eq_c(a, "+*"))
    return MOSS_ACL_ALLOW;
  if (moss_str_eq_c(a, "-*"))
    return MOSS_ACL_DENY;
  if (!auth_configured)
    return MOSS_ACL_NOT_CONFIGURED;
  if (user.len == 0)
    return MOSS_ACL_NEED_USER;
  return moss_acl_str_allows(a, user) ? MOSS_ACL_ALLOW : MOSS_ACL_DENY;
}

/* ---- an entry as one line (403 messages) -------------------------------- */

/* Room always kept for the closing "...}" and the NUL. */
#define ENTRY_TAIL 5u

/* Appends n bytes to buf at *k, or sets *cut when they do not fit
 * (nothing is appended after a cut, so no escape is ever split). */
static void put_raw(char *buf, size_t size, size_t *k, const char *s, size_t n,
                    bool *cut) {
  if (*cut)
    return;
  if (*k + n + ENTRY_TAIL > size) {
    *cut = true;
    return;
  }
  memcpy(buf + *k, s, n);
  *k += n;
}

/* A JSON string: quotes, backslashes and control bytes escaped, so the
 * line stays one line and valid JSON whatever the entry holds. */
static void put_json_str(char *buf, size_t size, size_t *k, struct moss_str s,
                         bool *cut) {
  put_raw(buf, size, k, "\"", 1, cut);
  for (size_t i = 0; i < s.len && !*cut; i++) {
    unsigned char c = (unsigned char)s.buf[i];
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      put_raw(buf, size, k, esc, 2, cut);
    } else if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof(esc), "\\u%04x", c);
      put_raw(buf, size, k, esc, 6, cut);
    } else {
      put_raw(buf, size, k, (const char *)&c, 1, cut);
    }
  }
  put_raw(buf, size, k, "\"", 1, cut);
}

int moss_acl_entry_format(char *buf, size_t size,
                          const struct moss_acl_entry *e) {
  static const char *const keys[K_COUNT] = {
      "\"method\":", "\"ch_type\":", "\"acl\":"};
  if (buf == NULL || size < ENTRY_TAIL + 2)
    return MOSS_ERR_TOOBIG;
  const struct moss_str *v[K_COUNT] = {&e->method, &e->ch_type, &e->acl};
  size_t k = 0;
  bool cut = false, first = true;
  put_raw(buf, size, &k, "{", 1, &cut);
  for (int i = 0; i < K_COUNT; i++) {
    if (v[i]->buf == NULL)
      continue;
    if (!first)
      put_raw(buf, size, &k, ",", 1, &cut);
    put_raw(buf, size, &k, keys[i], strlen(keys[i]), &cut);
    put_json_str(buf, size, &k, *v[i], &cut);
    first = false;
  }
  if (cut) {
    /* Never end on half a UTF-8 character. */
    size_t j = k;
    while (j > 1 && k - j < 3 && ((unsigned char)buf[j - 1] & 0xc0) == 0x80)
      j--;
    unsigned char lead = (unsigned char)buf[j - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (k - (j - 1) < need)
      k = j - 1;
    memcpy(buf + k, "...", 3);
    k += 3;
  }
  buf[k++] = '}';
  buf[k] = '\0';
  return (int)k;
}

/*
 * The htdigest password file (rpc.md §5.7): "user:realm:HA1" lines as
 * Apache's htdigest writes them.
 *
 * A streaming scanner: the runtime feeds the file as it reads it, one
 * line is buffered at a time, and the only secret kept is the HA1 of the
 * matching line.  Every line is validated even after the match, because a
 * malformed line anywhere makes the whole file invalid (fail closed: a
 * half-edited file must not silently lock some users in or out).
 */
#include <stdio.h>
#include <string.h>

#include "auth_int.h"
#include "moss/err.h"

void moss_htdigest_scan_init(struct moss_htdigest_scan *s,
                             enum moss_digest_algo algo, const char *user,
                             const char *realm) {
  memset(s, 0, sizeof(*s));
  s->algo = algo;
  s->lineno = 1;
  s->want =
      user != NULL && realm != NULL &&
      moss_str_copy(s->user, sizeof(s->user), moss_str_c(user)) == MOSS_OK &&
      moss_str_copy(s->realm, sizeof(s->realm), moss_str_c(realm)) == MOSS_OK;
}

static int fail(struct moss_htdigest_scan *s, size_t col, const char *what) {
  s->err = MOSS_ERR_PARSE;
  s->error.line = s->lineno;
  s->error.col = (unsigned)col;
  snprintf(s->error.what, sizeof(s->error.what), "%s", what);
  s->found = false;
  moss_zeroize(s->ha1, sizeof(s->ha1));
  return s->err;
}

static int process_line(struct moss_htdigest_scan *s) {
  const char *l = s->line;
  size_t n = s->len;
  while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' '))
    n--;
  if (n == 0 || l[0] == '#')
    return MOSS_OK;
  const char *nul = memchr(l, '\0', n);
  if (nul != NULL)
    return fail(s, (size_t)(nul - l) + 1, "unexpected NUL byte");
  const char *c1 = memchr(l, ':', n);
  if (c1 == NULL)
    return fail(s, n + 1, "expected ':' after the user name");
  if (c1 == l)
    return fail(s, 1, "empty user name");
  size_t u = (size_t)(c1 - l);
  const char *c2 = memchr(c1 + 1, ':', n - u - 1);
  if (c2 == NULL)
    return fail(s, n + 1, "expected ':' after the realm");
  if (c2 == c1 + 1)
    return fail(s, u + 2, "empty realm");
  size_t h = (size_t)(c2 - l) + 1, hl = moss_digest_hex_len(s->algo);
  if (n - h != hl || !moss_auth_is_hex(l + h, hl)) {
    char what[64];
    snprintf(what, sizeof(what), "expected %u hex digits after the second ':'",
             (unsigned)hl);
    return fail(s, h + 1, what);
  }
  size_t rl = h - u - 2;
  if (s->want && !s->found && strlen(s->user) == u &&
      memcmp(s->user, l, u) == 0 && strlen(s->realm) == rl &&
      memcmp(s->realm, c1 + 1, rl) == 0) {
    for (size_t i = 0; i < hl; i++) {
      char c = l[h + i];
      s->ha1[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    s->ha1[hl] = '\0';
    s->found = true;
  }
  return MOSS_OK;
}

int moss_htdigest_scan_feed(struct moss_htdigest_scan *s, const char *chunk,
                            size_t n) {
  for (size_t i = 0; i < n && s->err == MOSS_OK; i++) {
    char c = chunk[i];
    if (c == '\n') {
      process_line(s);
      moss_zeroize(s->line, s->len);
      s->len = 0;
      s->lineno++;
    } else if (s->len == MOSS_HTDIGEST_LINE_MAX) {
      fail(s, MOSS_HTDIGEST_LINE_MAX + 1, "line longer than 1024 bytes");
    } else {
      s->line[s->len++] = c;
    }
  }
  return s->err;
}

int moss_htdigest_scan_finish(struct moss_htdigest_scan *s) {
  if (s->err == MOSS_OK && s->len > 0)
    process_line(s);
  moss_zeroize(s->line, sizeof(s->line));
  s->len = 0;
  return s->err;
}

const char *moss_htdigest_scan_ha1(const struct moss_htdigest_scan *s) {
  return s->err == MOSS_OK && s->found ? s->ha1 : NULL;
}

const struct moss_auth_file_error *moss_htdigest_scan_error(
    const struct moss_htdigest_scan *s) {
  return &s->error;
}

void moss_htdigest_scan_wipe(struct moss_htdigest_scan *s) {
  if (s != NULL)
    moss_zeroize(s, sizeof(*s));
}

int moss_htdigest_lookup(const char *text, size_t len,
                         enum moss_digest_algo algo, const char *user,
                         const char *realm, char *ha1,
                         struct moss_auth_file_error *err) {
  struct moss_htdigest_scan s;
  moss_htdigest_scan_init(&s, algo, user, realm);
  moss_htdigest_scan_feed(&s, text, len);
  int ret = moss_htdigest_scan_finish(&s);
  const char *h = moss_htdigest_scan_ha1(&s);
  if (ha1 != NULL)
    moss_str_copy(ha1, MOSS_DIGEST_HEX_MAX, moss_str_c(h));
  if (err != NULL)
    *err = s.error;
  moss_htdigest_scan_wipe(&s);
  return ret;
}

int moss_htdigest_error_format(char *buf, size_t size, const char *fname,
                               const struct moss_auth_file_error *e,
                               enum moss_auth_msg_form form) {
  int n;
  if (fname == NULL)
    fname = "";
  if (form == MOSS_AUTH_MSG_LOG)
    n = snprintf(buf, size, "%s:%u:%u: invalid password file: %s", fname,
                 e->line, e->col, e->what);
  else if (form == MOSS_AUTH_MSG_REPLY)
    n = snprintf(buf, size, "invalid password file %s: line %u: %s", fname,
                 e->line, e->what);
  else
    n = snprintf(buf, size, "%s: line %u: %s", fname, e->line, e->what);
  return n >= 0 && (size_t)n < size ? n : MOSS_ERR_TOOBIG;
}

/* multipart/form-data parsing (see moss/multipart.h). */
#include "moss/multipart.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "moss/err.h"

static bool is_token_char(char c) {
  return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* Finds parameter `name` in a header value "type; a=b; name=\"v\"". */
static bool param(struct moss_str v, const char *name, struct moss_str *out) {
  size_t nl = strlen(name);
  size_t i = 0;
  while (i < v.len) {
    /* skip to the next ';' */
    while (i < v.len && v.buf[i] != ';') {
      if (v.buf[i] == '"') { /* skip quoted strings */
        for (i++; i < v.len && v.buf[i] != '"'; i++)
          if (v.buf[i] == '\\')
            i++;
      }
      i++;
    }
    if (i >= v.len)
      return false;
    i++;
    while (i < v.len && (v.buf[i] == ' ' || v.buf[i] == '\t'))
      i++;
    if (v.len - i > nl && strncasecmp(v.buf + i, name, nl) == 0 &&
        v.buf[i + nl] == '=') {
      i += nl + 1;
      if (i < v.len && v.buf[i] == '"') {
        size_t s = ++i;
        while (i < v.len && v.buf[i] != '"') {
          if (v.buf[i] == '\\')
            i++;
          i++;
        }
        if (i >= v.len)
          return false;
        *out = moss_str_n(v.buf + s, i - s);
        return true;
      }
      size_t s = i;
      while (i < v.len && is_token_char(v.buf[i]))
        i++;
      *out = moss_str_n(v.buf + s, i - s);
      return true;
    }
  }
  return false;
}

int moss_multipart_boundary(struct moss_str ct, struct moss_str *boundary) {
  static const char type[] = "multipart/form-data";
  size_t tl = sizeof(type) - 1;
  if (ct.len < tl || strncasecmp(ct.buf, type, tl) != 0 ||
      (ct.len > tl && ct.buf[tl] != ';' && ct.buf[tl] != ' '))
    return MOSS_ERR_NOTSUP;
  if (!param(ct, "boundary", boundary) || boundary->len == 0 ||
      boundary->len > MOSS_MULTIPART_BOUNDARY_MAX)
    return MOSS_ERR_PARSE;
  for (size_t i = 0; i < boundary->len; i++)
    if (boundary->buf[i] == '\r' || boundary->buf[i] == '\n')
      return MOSS_ERR_PARSE;
  return MOSS_OK;
}

/* memmem over views. */
static const char *find(const char *hay, size_t hl, const char *needle,
                        size_t nl) {
  if (nl == 0 || hl < nl)
    return NULL;
  for (size_t i = 0; i + nl <= hl; i++)
    if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0)
      return hay + i;
  return NULL;
}

int moss_multipart_next(struct moss_str body, struct moss_str b, size_t *pos,
                        struct moss_multipart_part *part) {
  memset(part, 0, sizeof(*part));
  part->name = part->filename = part->content_type = moss_str_n("", 0);
  size_t p = *pos;
  if (b.len == 0 || b.len > MOSS_MULTIPART_BOUNDARY_MAX || p > body.len)
    return MOSS_ERR_PARSE;
  const char *s = body.buf + p;
  size_t left = body.len - p;
  /* The first delimiter may be preceded by a preamble (ignored). */
  if (p == 0) {
    const char *d = NULL;
    for (const char *q = s; q != NULL && d == NULL;) {
      q = find(q, left - (size_t)(q - s), "--", 2);
      if (q == NULL)
        break;
      if ((size_t)(body.buf + body.len - q) >= 2 + b.len &&
          memcmp(q + 2, b.buf, b.len) == 0 && (q == s || q[-1] == '\n'))
        d = q;
      else
        q += 2;
    }
    if (d == NULL)
      return MOSS_ERR_PARSE;
    p = (size_t)(d - body.buf) + 2 + b.len;
  } else {
    /* *pos sits right after the delimiter "\r\n--boundary". */
  }
  /* After a delimiter: "--" ends, "\r\n" starts a part. */
  if (body.len - p >= 2 && memcmp(body.buf + p, "--", 2) == 0) {
    *pos = body.len;
    return 0;
  }
  while (p < body.len && (body.buf[p] == ' ' || body.buf[p] == '\t'))
    p++;
  if (body.len - p < 2 || memcmp(body.buf + p, "\r\n", 2) != 0)
    return MOSS_ERR_PARSE;
  p += 2;
  /* Part headers up to the blank line. */
  const char *hs = body.buf + p;
  size_t hmax = body.len - p;
  if (hmax > MOSS_MULTIPART_HEAD_MAX + 4)
    hmax = MOSS_MULTIPART_HEAD_MAX + 4;
  const char *he;
  if (hmax >= 2 && memcmp(hs, "\r\n", 2) == 0) {
    he = hs; /* no headers */
  } else {
    he = find(hs, hmax, "\r\n\r\n", 4);
    if (he == NULL)
      return MOSS_ERR_PARSE;
    he += 2;
  }
  for (const char *l = hs; l < he;) {
    const char *eol = find(l, (size_t)(he - l), "\r\n", 2);
    if (eol == NULL)
      return MOSS_ERR_PARSE;
    const char *colon = memchr(l, ':', (size_t)(eol - l));
    if (colon == NULL)
      return MOSS_ERR_PARSE;
    struct moss_str name = moss_str_n(l, (size_t)(colon - l));
    const char *v = colon + 1;
    while (v < eol && (*v == ' ' || *v == '\t'))
      v++;
    struct moss_str val = moss_str_n(v, (size_t)(eol - v));
    if (name.len == 19 &&
        strncasecmp(name.buf, "Content-Disposition", 19) == 0) {
      param(val, "name", &part->name);
      param(val, "filename", &part->filename);
    } else if (name.len == 12 &&
               strncasecmp(name.buf, "Content-Type", 12) == 0) {
      part->content_type = val;
    }
    l = eol + 2;
  }
  p = (size_t)(he - body.buf) + 2;
  /* Data up to "\r\n--boundary". */
  const char *ds = body.buf + p;
  size_t dl = body.len - p;
  const char *end = NULL;
  for (const char *q = ds; q != NULL;) {
    q = find(q, dl - (size_t)(q - ds), "\r\n--", 4);
    if (q == NULL)
      break;
    if ((size_t)(body.buf + body.len - q) >= 4 + b.len &&
        memcmp(q + 4, b.buf, b.len) == 0) {
      end = q;
      break;
    }
    q += 4;
  }
  if (end == NULL)
    return MOSS_ERR_PARSE;
  part->data = moss_str_n(ds, (size_t)(end - ds));
  *pos = (size_t)(end - body.buf) + 4 + b.len;
  return 1;
}

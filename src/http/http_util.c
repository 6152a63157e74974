/*
 * HTTP helpers around the request parser: list and query iteration,
 * percent-decoding, path normalisation for file serving, status texts and
 * the bounded response-head writer.
 */
#include <stdio.h>
#include <string.h>

#include "moss/err.h"
#include "moss/util.h"
#include "moss/http_parse.h"

static bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

bool moss_http_list_next(struct moss_str *list, struct moss_str *item) {
  while (list->len > 0) {
    const char *c = memchr(list->buf, ',', list->len);
    size_t n = c != NULL ? (size_t)(c - list->buf) : list->len;
    size_t s = 0, e = n;
    while (s < e && is_ows(list->buf[s]))
      s++;
    while (e > s && is_ows(list->buf[e - 1]))
      e--;
    *item = moss_str_n(list->buf + s, e - s);
    list->buf += c != NULL ? n + 1 : n;
    list->len -= c != NULL ? n + 1 : n;
    /* Empty elements are allowed and ignored (RFC 9110 §5.6.1.2). */
    if (item->len > 0)
      return true;
  }
  return false;
}

bool moss_http_query_next(struct moss_str *query, struct moss_str *key,
                          struct moss_str *val) {
  while (query->len > 0) {
    const char *amp = memchr(query->buf, '&', query->len);
    size_t n = amp != NULL ? (size_t)(amp - query->buf) : query->len;
    struct moss_str pair = moss_str_n(query->buf, n);
    const char *eq = memchr(pair.buf, '=', pair.len);
    query->buf += amp != NULL ? n + 1 : n;
    query->len -= amp != NULL ? n + 1 : n;
    if (pair.len == 0)
      continue;
    if (eq != NULL) {
      *key = moss_str_n(pair.buf, (size_t)(eq - pair.buf));
      *val = moss_str_n(eq + 1, pair.len - key->len - 1);
    } else {
      *key = pair;
      *val = moss_str_n(pair.buf + pair.len, 0);
    }
    return true;
  }
  return false;
}

int moss_http_url_decode(char *dst, size_t dstsz, struct moss_str src,
                         bool plus_space, size_t *olen) {
  size_t o = 0;
  int ret = MOSS_ERR_TOOBIG;

  if (olen != NULL)
    *olen = 0;
  if (dstsz == 0)
    return MOSS_ERR_TOOBIG;
  for (size_t i = 0; i < src.len; i++) {
    char c = src.buf[i];
    if (c == '%') {
      int hi, lo;
      if (i + 2 >= src.len) {
        ret = MOSS_ERR_PARSE;
        goto fail;
      }
      hi = moss_hex_digit(src.buf[i + 1]);
      lo = moss_hex_digit(src.buf[i + 2]);
      if (hi < 0 || lo < 0) {
        ret = MOSS_ERR_PARSE;
        goto fail;
      }
      c = (char)(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_space) {
      c = ' ';
    }
    if (o + 1 >= dstsz)
      goto fail;
    dst[o++] = c;
  }
  dst[o] = '\0';
  if (olen != NULL)
    *olen = o;
  return 0;
fail:
  dst[0] = '\0';
  return ret;
}

static bool is_sep(char c) {
  return c == '/' || c == '\\';
}

int moss_http_path_decode(char *dst, size_t dstsz, struct moss_str path,
                          size_t *olen) {
  size_t n, o = 0, i = 0;
  bool dir = false;
  int rc;

  if (olen != NULL)
    *olen = 0;
  /* Checked before decoding too: "%2f..." is not an absolute path. */
  if (path.len == 0 || path.buf[0] != '/') {
    if (dstsz > 0)
      dst[0] = '\0';
    return MOSS_ERR_PARSE;
  }
  rc = moss_http_url_decode(dst, dstsz, path, false, &n);
  if (rc < 0)
    return rc;
  if (n == 0 || dst[0] != '/' || memchr(dst, '\0', n) != NULL)
    goto bad;

  /* ".." is refused rather than resolved: a client has no reason to send
   * it, and resolving invites off-by-one escapes from document_root.
   * '\\' counts as a separator here so that no later layer that treats it
   * as one (a Windows-style name, a glob) can be tricked. */
  for (size_t s = 0; s < n;) {
    size_t e = s;
    while (e < n && !is_sep(dst[e]))
      e++;
    if (e - s == 2 && dst[s] == '.' && dst[s + 1] == '.')
      goto bad;
    s = e + 1;
  }

  /* Normalise in place: the output never outruns the input. */
  while (i < n) {
    size_t s;
    while (i < n && dst[i] == '/')
      i++;
    dir = true;
    if (i == n)
      break;
    s = i;
    while (i < n && dst[i] != '/')
      i++;
    if (i - s == 1 && dst[s] == '.')
      continue;
    dst[o++] = '/';
    memmove(dst + o, dst + s, i - s);
    o += i - s;
    dir = false;
  }
  if (o == 0 || dir)
    dst[o++] = '/';
  dst[o] = '\0';
  if (olen != NULL)
    *olen = o;
  return 0;
bad:
  dst[0] = '\0';
  return MOSS_ERR_PARSE;
}

const char *moss_http_status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

/* Appends formatted text; the first failure sticks. */
static void vappend(struct moss_http_resp *r, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vappend(struct moss_http_resp *r, const char *fmt, va_list ap) {
  int n;
  if (r->err != 0)
    return;
  n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
  if (n < 0 || (size_t)n >= r->cap - r->len) {
    r->err = MOSS_ERR_TOOBIG;
    r->buf[r->len] = '\0';
    return;
  }
  r->len += (size_t)n;
}

static void append(struct moss_http_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void append(struct moss_http_resp *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vappend(r, fmt, ap);
  va_end(ap);
}

void moss_http_resp_init(struct moss_http_resp *r, char *buf, size_t cap,
                         int status, const char *reason) {
  r->buf = buf;
  r->cap = cap;
  r->len = 0;
  r->err = 0;
  if (cap == 0) {
    r->err = MOSS_ERR_TOOBIG;
    return;
  }
  if (status < 100 || status > 999)
    r->err = MOSS_ERR_INVAL;
  if (reason == NULL)
    reason = moss_http_status_text(status);
  append(r, "HTTP/1.1 %d %s\r\n", status, reason);
}

void moss_http_resp_header(struct moss_http_resp *r, const char *name,
                           const char *fmt, ...) {
  va_list ap;
  size_t vstart;
  if (r->err != 0)
    return;
  append(r, "%s: ", name);
  vstart = r->len;
  va_start(ap, fmt);
  vappend(r, fmt, ap);
  va_end(ap);
  if (r->err == 0 && (memchr(r->buf + vstart, '\r', r->len - vstart) ||
                      memchr(r->buf + vstart, '\n', r->len - vstart)))
    r->err = MOSS_ERR_INVAL;
  append(r, "\r\n");
}

void moss_http_resp_content_length(struct moss_http_resp *r, uint64_t n) {
  moss_http_resp_header(r, "Content-Length", "%llu", (unsigned long long)n);
}

void moss_http_resp_raw(struct moss_http_resp *r, struct moss_str lines) {
  while (lines.len > 0 && r->err == 0) {
    const char *nl = memchr(lines.buf, '\n', lines.len);
    size_t n = nl != NULL ? (size_t)(nl - lines.buf) : lines.len;
    size_t adv = nl != NULL ? n + 1 : n;
    size_t e = n;
    if (e > 0 && lines.buf[e - 1] == '\r')
      e--;
    if (memchr(lines.buf, '\r', e) != NULL) {
      r->err = MOSS_ERR_INVAL;
      return;
    }
    if (e > 0)
      append(r, "%.*s\r\n", (int)e, lines.buf);
    lines.buf += adv;
    lines.len -= adv;
  }
}

int moss_http_resp_finish(struct moss_http_resp *r) {
  append(r, "\r\n");
  return r->err;
}

/*
 * HTTP/1.1 request-head parser (RFC 9112 §2-§7 for requests).
 *
 * The parser is restartable rather than a byte-at-a-time state machine:
 * each call looks for the end of the head from where the previous call
 * stopped (scanned_, the start of the unterminated line), and only when the
 * blank line is there does it parse the head in one pass.  Until then it
 * checks what it can of the request line so that garbage fails fast instead
 * of after max_head bytes.  Nothing points into the buffer before the head
 * is complete, which lets the caller grow or move its buffer between calls.
 */
#include "moss/http_parse.h"

#include <limits.h>
#include <string.h>

#include "moss/err.h"

void moss_http_req_init(struct moss_http_req *req,
                        struct moss_http_header *hdrs, size_t max_headers) {
  memset(req, 0, sizeof(*req));
  req->headers = hdrs;
  req->max_headers = max_headers;
  req->max_head = MOSS_HTTP_MAX_HEAD;
  req->max_uri = MOSS_HTTP_MAX_URI;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
      (c >= 'A' && c <= 'Z'))
    return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible ASCII: what a request-target may hold (RFC 3986 plus the
 * characters clients send unescaped anyway, like '"' and '{').  Raw
 * non-ASCII bytes are refused: browsers and curl percent-encode them. */
static bool is_target_char(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}

/* field-vchar / SP / HTAB (obs-text allowed, RFC 9110 §5.5). */
static bool is_value_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int fail(struct moss_http_req *req, int status, int err) {
  req->status = status;
  return err;
}

/* Checks a request line, possibly incomplete (partial: more bytes may
 * follow, so running out of input is not an error).  On success with a
 * complete line fills method, target and version_minor. */
static int check_request_line(struct moss_http_req *req, const char *p,
                              size_t n, bool partial) {
  static const char pat[] = "HTTP/d.d";
  size_t i = 0, j, k;

  /* A final CR may be the first half of the CRLF still to come. */
  if (partial && n > 0 && p[n - 1] == '\r')
    n--;
  while (i < n && is_tchar((unsigned char)p[i]))
    i++;
  if (i == n && partial)
    return 0;
  if (i == 0 || i == n || p[i] != ' ')
    return fail(req, 400, MOSS_ERR_PARSE);

  j = i + 1;
  while (j < n && is_target_char((unsigned char)p[j]))
    j++;
  if (j - (i + 1) > req->max_uri)
    return fail(req, 414, MOSS_ERR_TOOBIG);
  if (j == n && partial)
    return 0;
  if (j == i + 1 || j == n || p[j] != ' ')
    return fail(req, 400, MOSS_ERR_PARSE);

  /* "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3). */
  for (k = 0; j + 1 + k < n && k < sizeof(pat) - 1; k++) {
    unsigned char c = (unsigned char)p[j + 1 + k];
    bool ok = pat[k] == 'd' ? (c >= '0' && c <= '9') : c == pat[k];
    if (!ok)
      return fail(req, 400, MOSS_ERR_PARSE);
  }
  if (partial && j + 1 + k == n && k < sizeof(pat) - 1)
    return 0;
  if (n - (j + 1) != sizeof(pat) - 1)
    return fail(req, 400, MOSS_ERR_PARSE);

  /* Major 1 only; 1.x beyond 1.1 is served as 1.1 (RFC 9110 §2.5). */
  if (p[j + 6] != '1')
    return fail(req, 505, MOSS_ERR_PARSE);
  req->method = moss_str_n(p, i);
  req->target = moss_str_n(p + i + 1, j - i - 1);
  req->version_minor = p[j + 8] == '0' ? 0 : 1;
  return 0;
}

static bool ascii_prefix_ci(struct moss_str s, const char *pfx) {
  size_t n = strlen(pfx);
  return s.len >= n &&
         moss_str_casecmp_eq(moss_str_n(s.buf, n), moss_str_n(pfx, n));
}

/* Splits the target into path and query (RFC 9112 §3.2 forms). */
static int split_target(struct moss_http_req *req) {
  struct moss_str t = req->target;
  const char *q;

  if (memchr(t.buf, '#', t.len) != NULL)
    return fail(req, 400, MOSS_ERR_PARSE);
  if (t.len == 1 && t.buf[0] == '*') {
    if (!moss_str_eq_c(req->method, "OPTIONS"))
      return fail(req, 400, MOSS_ERR_PARSE);
    req->path = t;
    return 0;
  }
  if (t.buf[0] != '/') {
    /* absolute-form: servers must accept it; we keep only the path. */
    size_t skip, a;
    if (ascii_prefix_ci(t, "http://"))
      skip = 7;
    else if (ascii_prefix_ci(t, "https://"))
      skip = 8;
    else
      return fail(req, 400, MOSS_ERR_PARSE);
    for (a = skip; a < t.len && t.buf[a] != '/' && t.buf[a] != '?'; a++) {
    }
    if (a == skip)
      return fail(req, 400, MOSS_ERR_PARSE);
    t = moss_str_n(t.buf + a, t.len - a);
  }
  q = memchr(t.buf, '?', t.len);
  if (q != NULL) {
    req->path = moss_str_n(t.buf, (size_t)(q - t.buf));
    req->query = moss_str_n(q + 1, t.len - req->path.len - 1);
  } else {
    req->path = t;
  }
  /* "http://host?x" has an empty path, which means "/". */
  if (req->path.len == 0)
    req->path = moss_str_c("/");
  return 0;
}

/* Content-Length: 1*DIGIT (no sign, no list), checked for overflow. */
static int parse_content_length(struct moss_http_req *req, struct moss_str v) {
  uint64_t n = 0;
  if (v.len == 0)
    return fail(req, 400, MOSS_ERR_PARSE);
  for (size_t i = 0; i < v.len; i++) {
    unsigned d = (unsigned char)v.buf[i] - '0';
    if (d > 9 || n > (UINT64_MAX - d) / 10)
      return fail(req, 400, MOSS_ERR_PARSE);
    n = n * 10 + d;
  }
  /* Duplicates are tolerated only when they agree (RFC 9112 §6.3 (5)). */
  if (req->has_content_length && req->content_length != n)
    return fail(req, 400, MOSS_ERR_PARSE);
  req->content_length = n;
  req->has_content_length = true;
  return 0;
}

static bool name_is(struct moss_str name, const char *s) {
  return moss_str_casecmp_eq(name, moss_str_c(s));
}

/* Header semantics the server needs before routing. */
static int interpret_headers(struct moss_http_req *req) {
  size_t hosts = 0;
  bool close = false, keep = false, te = false, te_chunked = false;
  int rc;

  for (size_t i = 0; i < req->num_headers; i++) {
    struct moss_str nm = req->headers[i].name, v = req->headers[i].value;
    struct moss_str list = v, item;
    if (name_is(nm, "Content-Length")) {
      if ((rc = parse_content_length(req, v)) < 0)
        return rc;
    } else if (name_is(nm, "Transfer-Encoding")) {
      /* Only the final coding decides how the body is framed. */
      te = true;
      te_chunked = false;
      while (moss_http_list_next(&list, &item))
        te_chunked = moss_str_casecmp_eq(item, moss_str_c("chunked"));
    } else if (name_is(nm, "Host")) {
      hosts++;
    } else if (name_is(nm, "Connection")) {
      while (moss_http_list_next(&list, &item)) {
        if (moss_str_casecmp_eq(item, moss_str_c("close")))
          close = true;
        if (moss_str_casecmp_eq(item, moss_str_c("keep-alive")))
          keep = true;
        if (moss_str_casecmp_eq(item, moss_str_c("upgrade")))
          req->conn_upgrade = true;
      }
    } else if (name_is(nm, "Upgrade")) {
      while (moss_http_list_next(&list, &item))
        if (moss_str_casecmp_eq(item, moss_str_c("websocket")))
          req->upgrade_websocket = true;
    } else if (name_is(nm, "Expect") && req->version_minor >= 1) {
      /* HTTP/1.0 clients cannot expect anything (RFC 9110 §10.1.1). */
      if (!moss_str_casecmp_eq(v, moss_str_c("100-continue")))
        return fail(req, 417, MOSS_ERR_NOTSUP);
      req->expect_continue = true;
    }
  }
  if (hosts > 1 || (req->version_minor >= 1 && hosts == 0))
    return fail(req, 400, MOSS_ERR_PARSE);
  if (te) {
    if (req->has_content_length || req->version_minor == 0)
      return fail(req, 400, MOSS_ERR_PARSE);
    return te_chunked ? fail(req, 411, MOSS_ERR_NOTSUP)
                      : fail(req, 501, MOSS_ERR_NOTSUP);
  }
  req->keep_alive = req->version_minor >= 1 ? !close : (keep && !close);
  return 0;
}

/* One header line without its terminator. */
static int parse_header_line(struct moss_http_req *req, const char *p,
                             size_t n) {
  size_t i = 0, vs, ve;

  /* obs-fold, or whitespace before the first header: both refused. */
  while (i < n && is_tchar((unsigned char)p[i]))
    i++;
  if (i == 0 || i == n || p[i] != ':')
    return fail(req, 400, MOSS_ERR_PARSE);
  vs = i + 1;
  while (vs < n && (p[vs] == ' ' || p[vs] == '\t'))
    vs++;
  ve = n;
  while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
    ve--;
  for (size_t k = vs; k < ve; k++)
    if (!is_value_char((unsigned char)p[k]))
      return fail(req, 400, MOSS_ERR_PARSE);
  if (req->num_headers >= req->max_headers)
    return fail(req, 431, MOSS_ERR_TOOBIG);
  req->headers[req->num_headers].name = moss_str_n(p, i);
  req->headers[req->num_headers].value = moss_str_n(p + vs, ve - vs);
  req->num_headers++;
  return 0;
}

/* Length of line [s, nl) without a final CR; a CR anywhere else fails. */
static int line_len(struct moss_http_req *req, const char *buf, size_t s,
                    size_t nl, size_t *out) {
  size_t e = nl;
  if (e > s && buf[e - 1] == '\r')
    e--;
  if (memchr(buf + s, '\r', e - s) != NULL)
    return fail(req, 400, MOSS_ERR_PARSE);
  *out = e - s;
  return 0;
}

static int parse_head(struct moss_http_req *req, const char *buf, size_t rl,
                      size_t end) {
  size_t s = rl, n;
  const char *nl = memchr(buf + s, '\n', end - s);
  int rc;

  /* The request line. */
  if ((rc = line_len(req, buf, s, (size_t)(nl - buf), &n)) < 0)
    return rc;
  if ((rc = check_request_line(req, buf + s, n, false)) < 0)
    return rc;
  if ((rc = split_target(req)) < 0)
    return rc;
  s = (size_t)(nl - buf) + 1;

  for (;;) {
    nl = memchr(buf + s, '\n', end - s);
    if ((rc = line_len(req, buf, s, (size_t)(nl - buf), &n)) < 0)
      return rc;
    if (n == 0)
      break;
    if ((rc = parse_header_line(req, buf + s, n)) < 0)
      return rc;
    s = (size_t)(nl - buf) + 1;
  }
  return interpret_headers(req);
}

int moss_http_parse_request(struct moss_http_req *req, const char *buf,
                            size_t len) {
  size_t rl = 0, ls, head_end = 0;
  int rc;

  req->status = 0;
  /* Empty lines before the request line are ignored (RFC 9112 §2.2):
   * clients send a stray CRLF after a POST body. */
  while (rl < len && (buf[rl] == '\n' ||
                      (buf[rl] == '\r' && rl + 1 < len && buf[rl + 1] == '\n')))
    rl += buf[rl] == '\n' ? 1 : 2;
  if (rl > req->max_head)
    return fail(req, 400, MOSS_ERR_PARSE);

  ls = MOSS_MAX(req->scanned_, rl);
  while (ls < len) {
    const char *nl = memchr(buf + ls, '\n', len - ls);
    if (nl == NULL)
      break;
    size_t i = (size_t)(nl - buf);
    if (ls > rl && (i == ls || (i == ls + 1 && buf[ls] == '\r'))) {
      head_end = i + 1;
      break;
    }
    ls = i + 1;
    if (ls > req->max_head)
      break;
  }

  if (head_end == 0) {
    const char *nl;
    req->scanned_ = ls;
    /* Fail early on a request line that cannot become valid. */
    nl = memchr(buf + rl, '\n', MOSS_MIN(len, ls) - rl);
    if (nl == NULL) {
      size_t n = MOSS_MIN(len - rl, req->max_head);
      if ((rc = check_request_line(req, buf + rl, n, true)) < 0)
        return rc;
    } else {
      size_t n;
      if ((rc = line_len(req, buf, rl, (size_t)(nl - buf), &n)) < 0)
        return rc;
      if ((rc = check_request_line(req, buf + rl, n, false)) < 0)
        return rc;
    }
    if (len >= req->max_head)
      return fail(req, 431, MOSS_ERR_TOOBIG);
    return 0;
  }
  /* The INT_MAX bound keeps the length representable as the result. */
  if (head_end > req->max_head || head_end > INT_MAX)
    return fail(req, 431, MOSS_ERR_TOOBIG);

  req->num_headers = 0;
  req->has_content_length = false;
  req->content_length = 0;
  req->keep_alive = req->conn_upgrade = false;
  req->upgrade_websocket = req->expect_continue = false;
  req->query = MOSS_STR_NULL;
  if ((rc = parse_head(req, buf, rl, head_end)) < 0)
    return rc;
  req->head_len = head_end;
  return (int)head_end;
}

const struct moss_str *moss_http_get_header(const struct moss_http_req *req,
                                            const char *name) {
  for (size_t i = 0; i < req->num_headers; i++)
    if (name_is(req->headers[i].name, name))
      return &req->headers[i].value;
  return NULL;
}

bool moss_http_has_token(const struct moss_http_req *req, const char *name,
                         const char *token) {
  struct moss_str tok = moss_str_c(token);
  for (size_t i = 0; i < req->num_headers; i++) {
    struct moss_str list = req->headers[i].value, item;
    if (!name_is(req->headers[i].name, name))
      continue;
    while (moss_http_list_next(&list, &item))
      if (moss_str_casecmp_eq(item, tok))
        return true;
  }
  return false;
}

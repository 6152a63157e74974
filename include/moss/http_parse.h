/*
 * moss/http_parse.h - HTTP/1.1 request-head parser and response-head
 * writer.  Pure: no I/O, no heap, no logging; the server (src/http/) drives
 * it from its connection buffer.
 *
 * Parsing a request
 *
 *   struct moss_http_header hdrs[MOSS_HTTP_MAX_HEADERS];
 *   struct moss_http_req req;
 *   moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
 *   ... each time bytes arrive, with buf = all bytes of this request so far:
 *   int n = moss_http_parse_request(&req, buf, len);
 *     n > 0   the head is complete and n bytes long; the body (if any,
 *             req.content_length bytes) starts at buf + n
 *     n == 0  need more bytes: call again with the same req and a longer
 *             buf (the bytes already passed must not change, but buf may
 *             have moved: nothing points into it until n > 0)
 *     n < 0   an enum moss_err; req.status is the HTTP status to answer
 *             (400, 411, 414, 417, 431, 501, 505), after which the
 *             connection is closed (the stream position is lost)
 *
 * After n > 0 every struct moss_str in req (method, target, path, query,
 * header names and values) is a view into buf, valid while buf is neither
 * freed, moved nor overwritten.  For the next request on a keep-alive
 * connection (pipelining included), consume head and body from the buffer
 * and call moss_http_req_init() again.
 *
 * Body framing: only Content-Length bodies are supported (http.md, rpc.md
 * §2.2).  Transfer-Encoding: chunked is refused with 411 Length Required
 * (the client may retry with a length), any other transfer coding with
 * 501, and a request carrying both Transfer-Encoding and Content-Length
 * with 400 (the classic request-smuggling ambiguity).  The parser does not
 * enforce a body size limit: the caller answers 413 when content_length is
 * more than it accepts.
 *
 * Strictness (RFC 9112): exactly one SP between request-line parts, token
 * methods and header names, no whitespace before the colon, no obs-fold
 * continuation lines, no control characters in the target or in values,
 * exactly one Host header on HTTP/1.1.  Lines may end in CRLF or a bare
 * LF; a bare CR is an error.
 */
#ifndef MOSS_HTTP_PARSE_H
#define MOSS_HTTP_PARSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/util.h"

/* Default limits (each may be changed in struct moss_http_req after
 * moss_http_req_init).  A head longer than max_head, or more headers than
 * the caller's array holds, is answered 431; a request-target longer than
 * max_uri is answered 414. */
#define MOSS_HTTP_MAX_HEAD 8192
#define MOSS_HTTP_MAX_HEADERS 40
#define MOSS_HTTP_MAX_URI 2048

struct moss_http_header {
  struct moss_str name;  /* token, case preserved */
  struct moss_str value; /* leading/trailing SP and HTAB removed */
};

struct moss_http_req {
  /* Set by moss_http_req_init; the caller may lower or raise the limits. */
  struct moss_http_header *headers; /* caller's array, max_headers long */
  size_t max_headers;
  size_t max_head;
  size_t max_uri;

  /* Results, valid when moss_http_parse_request returned > 0. */
  struct moss_str method; /* as sent; methods are case-sensitive */
  struct moss_str target; /* the raw request-target */
  struct moss_str path;   /* target before '?', still percent-encoded;
                           * "/..." (absolute-form is reduced to its path)
                           * or "*" */
  struct moss_str query;  /* after the first '?', empty if none */
  int version_minor;      /* 0 for HTTP/1.0, 1 for HTTP/1.1 (and 1.x) */
  size_t num_headers;
  size_t head_len;         /* bytes of request line + headers + blank */
  uint64_t content_length; /* 0 when has_content_length is false */
  bool has_content_length;
  bool keep_alive;        /* version default adjusted by Connection */
  bool conn_upgrade;      /* Connection lists the "upgrade" token */
  bool upgrade_websocket; /* Upgrade lists "websocket" */
  bool expect_continue;   /* Expect: 100-continue */

  /* On error: the HTTP status to answer.  0 otherwise. */
  int status;

  /* Private: resume point of the end-of-head search. */
  size_t scanned_;
};

/* Resets req for a new request.  hdrs must stay valid as long as req is
 * used.  Cannot fail. */
void moss_http_req_init(struct moss_http_req *req,
                        struct moss_http_header *hdrs, size_t max_headers);

/* Parses the head in buf[0..len).  See the top of this file for the return
 * convention.  Errors: MOSS_ERR_PARSE (400 malformed, 505 version),
 * MOSS_ERR_TOOBIG (414, 431), MOSS_ERR_NOTSUP (411, 417, 501).  A head that
 * is recognisably malformed is refused before it is complete (a TLS
 * ClientHello on the plain port fails on its first bytes). */
int moss_http_parse_request(struct moss_http_req *req, const char *buf,
                            size_t len);

/* The first header called name (case-insensitive), or NULL.  The returned
 * pointer is into req->headers. */
const struct moss_str *moss_http_get_header(const struct moss_http_req *req,
                                            const char *name);

/* Iterates a comma-separated header list (RFC 9110 §5.6.1): stores the
 * next non-empty element, without surrounding OWS, in *item and advances
 * *list.  Returns false at the end.  Views into the same memory as *list. */
bool moss_http_list_next(struct moss_str *list, struct moss_str *item);

/* True if any header called name has token in its comma list.  The name
 * and the token are compared case-insensitively. */
bool moss_http_has_token(const struct moss_http_req *req, const char *name,
                         const char *token);

/* Iterates "k=v&k2=v2" query strings: stores the next pair (raw, still
 * percent-encoded; *val empty when there is no '='), advances *query.
 * Empty pairs ("a=1&&b") are skipped.  Returns false at the end. */
bool moss_http_query_next(struct moss_str *query, struct moss_str *key,
                          struct moss_str *val);

/* Percent-decodes src into dst (dstsz bytes, NUL-terminated), '+' as space
 * when plus_space (form/query encoding).  *olen = decoded length without
 * the NUL; the result may contain NUL bytes (from %00), which is why
 * *olen is authoritative.  Errors: MOSS_ERR_PARSE for a bad escape,
 * MOSS_ERR_TOOBIG when dst is too small (dst then holds "" ). */
int moss_http_url_decode(char *dst, size_t dstsz, struct moss_str src,
                         bool plus_space, size_t *olen);

/* Decodes a request path for file serving: percent-decoding, then
 * normalisation (repeated '/' collapsed, "." segments dropped; a trailing
 * '/' is kept to mark a directory).  The result starts with '/' and is
 * NUL-terminated, *olen without the NUL.  Refused with MOSS_ERR_PARSE (the
 * server answers 400): a path not starting with '/', a bad escape, a NUL
 * byte, a ".." segment (segments split on '/' and '\\', so "..\\" counts).
 * MOSS_ERR_TOOBIG when dst is too small. */
int moss_http_path_decode(char *dst, size_t dstsz, struct moss_str path,
                          size_t *olen);

/* The standard reason phrase of a status code ("Not Found"); "Unknown"
 * for a code it does not know.  Static storage, never NULL. */
const char *moss_http_status_text(int status);

/*
 * Writing a response head into a caller buffer.
 *
 *   char out[512];
 *   struct moss_http_resp r;
 *   moss_http_resp_init(&r, out, sizeof(out), 200, NULL);
 *   moss_http_resp_header(&r, "Content-Type", "%s", "application/json");
 *   moss_http_resp_content_length(&r, body_len);
 *   if (moss_http_resp_finish(&r) != 0) ... (the head did not fit)
 *   send(out, r.len)
 *
 * The writer never overflows: the first write that does not fit makes the
 * error sticky and later calls do nothing.  The status line is always
 * "HTTP/1.1" (RFC 9110 §2.5: a server sends its own version).
 */
struct moss_http_resp {
  char *buf;
  size_t cap;
  size_t len; /* bytes written so far (the head when finish returned 0) */
  int err;    /* first error, sticky */
};

/* Writes the status line.  reason NULL = moss_http_status_text(status)
 * (http.md asks for "403 Not Allowed" on uploads, hence the override).
 * buf must stay valid until the head is sent. */
void moss_http_resp_init(struct moss_http_resp *r, char *buf, size_t cap,
                         int status, const char *reason);
/* Appends "name: <formatted value>\r\n".  A value containing CR or LF is
 * refused (MOSS_ERR_INVAL, sticky): header injection from a caller that
 * forwards untrusted text. */
void moss_http_resp_header(struct moss_http_resp *r, const char *name,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void moss_http_resp_content_length(struct moss_http_resp *r, uint64_t n);
/* Appends pre-formatted header lines verbatim (http.extra_headers): lines
 * separated by CRLF or LF, each written with a CRLF; empty lines skipped.
 * MOSS_ERR_INVAL (sticky) for a bare CR. */
void moss_http_resp_raw(struct moss_http_resp *r, struct moss_str lines);
/* Appends the blank line.  Returns 0 or the sticky error
 * (MOSS_ERR_TOOBIG: the buffer was too small; MOSS_ERR_INVAL). */
int moss_http_resp_finish(struct moss_http_resp *r);

#endif

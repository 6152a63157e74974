/* Unit tests of the HTTP request parser and helpers (src/http/). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "moss/err.h"
#include "moss/http_parse.h"

#define NHDR 8

void test_router(void); /* test_router.c */

static struct moss_http_header hdrs[MOSS_HTTP_MAX_HEADERS];

static int parse(struct moss_http_req *req, const char *s) {
  moss_http_req_init(req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  return moss_http_parse_request(req, s, strlen(s));
}

static bool str_is(struct moss_str s, const char *c) {
  return moss_str_eq_c(s, c);
}

static void test_simple_get(void) {
  static const char r[] =
      "GET /rpc/Sys.GetInfo?a=1&b=%22x%22 HTTP/1.1\r\n"
      "Host: 192.168.1.7\r\n"
      "User-Agent:  curl/8.5 \t\r\n"
      "Accept: */*\r\n"
      "X-Empty:\r\n"
      "\r\n"
      "BODY";
  struct moss_http_req req;
  int n = parse(&req, r);
  MT_CHECK_EQ(n, strlen(r) - 4);
  MT_CHECK_EQ(req.head_len, n);
  MT_CHECK(str_is(req.method, "GET"));
  MT_CHECK(str_is(req.target, "/rpc/Sys.GetInfo?a=1&b=%22x%22"));
  MT_CHECK(str_is(req.path, "/rpc/Sys.GetInfo"));
  MT_CHECK(str_is(req.query, "a=1&b=%22x%22"));
  MT_CHECK_EQ(req.version_minor, 1);
  MT_CHECK_EQ(req.num_headers, 4);
  MT_CHECK(str_is(req.headers[1].name, "User-Agent"));
  MT_CHECK(str_is(req.headers[1].value, "curl/8.5"));
  MT_CHECK(str_is(req.headers[3].value, ""));
  MT_CHECK(req.keep_alive);
  MT_CHECK(!req.has_content_length);
  MT_CHECK(!req.upgrade_websocket);
  MT_CHECK_EQ(req.status, 0);
  const struct moss_str *h = moss_http_get_header(&req, "accept");
  MT_REQUIRE(h != NULL);
  MT_CHECK(str_is(*h, "*/*"));
  MT_CHECK(moss_http_get_header(&req, "Cookie") == NULL);
}

static void test_post_bare_lf_and_leading_crlf(void) {
  static const char r[] =
      "\r\n\nPOST /rpc HTTP/1.0\n"
      "Content-Length: 27\n"
      "Connection: Keep-Alive\n"
      "\n";
  struct moss_http_req req;
  int n = parse(&req, r);
  MT_CHECK_EQ(n, strlen(r));
  MT_CHECK(str_is(req.method, "POST"));
  MT_CHECK(str_is(req.path, "/rpc"));
  MT_CHECK_EQ(req.query.len, 0);
  MT_CHECK_EQ(req.version_minor, 0);
  MT_CHECK(req.has_content_length);
  MT_CHECK_EQ(req.content_length, 27);
  MT_CHECK(req.keep_alive);
}

/* Every prefix of a valid request needs more; the whole parses.  Done
 * both with one req carried across calls (the resume path) and fresh. */
static void test_every_split_point(void) {
  static const char r[] =
      "PUT /upload?x=1 HTTP/1.1\r\n"
      "Host: h\r\n"
      "Content-Length: 3\r\n"
      "Connection: close\r\n"
      "\r\n";
  size_t len = strlen(r);
  struct moss_http_req req, fresh;
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  for (size_t k = 0; k < len; k++) {
    /* A copy of exactly k bytes, so any read past the end is caught by
     * ASan. */
    char *p = malloc(k + 1);
    MT_REQUIRE(p != NULL);
    memcpy(p, r, k);
    int a = moss_http_parse_request(&req, p, k);
    struct moss_http_header h2[NHDR];
    moss_http_req_init(&fresh, h2, NHDR);
    int b = moss_http_parse_request(&fresh, p, k);
    free(p);
    if (a != 0 || b != 0) {
      mt_fail(__FILE__, __LINE__, "prefix %zu: %d %d", k, a, b);
      return;
    }
  }
  MT_CHECK_EQ(moss_http_parse_request(&req, r, len), len);
  MT_CHECK(!req.keep_alive);
  MT_CHECK_EQ(req.content_length, 3);
  MT_CHECK(str_is(req.query, "x=1"));
}

static void test_pipelined(void) {
  static const char r[] =
      "POST /rpc HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
      "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  const char *expect[] = {"/rpc", "/b", "/c"};
  size_t off = 0, len = strlen(r);
  struct moss_http_req req;
  for (int i = 0; i < 3; i++) {
    moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
    int n = moss_http_parse_request(&req, r + off, len - off);
    MT_REQUIRE(n > 0);
    MT_CHECK(str_is(req.path, expect[i]));
    if (i == 0)
      MT_CHECK(memcmp(r + off + n, "hello", 5) == 0);
    MT_CHECK_EQ(req.keep_alive, i < 2);
    off += (size_t)n + (size_t)req.content_length;
  }
  MT_CHECK_EQ(off, len);
}

static void test_connection_semantics(void) {
  struct moss_http_req req;
  MT_REQUIRE(parse(&req, "GET / HTTP/1.0\r\n\r\n") > 0);
  MT_CHECK(!req.keep_alive);
  MT_REQUIRE(parse(&req, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") >
             0);
  MT_CHECK(req.keep_alive);
  MT_REQUIRE(parse(&req, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
  MT_CHECK(req.keep_alive);
  MT_REQUIRE(parse(&req,
                   "GET / HTTP/1.1\r\nHost: x\r\n"
                   "Connection: foo, CLOSE\r\n\r\n") > 0);
  MT_CHECK(!req.keep_alive);
  /* HTTP/1.x beyond 1.1 is served as 1.1. */
  MT_REQUIRE(parse(&req, "GET / HTTP/1.7\r\nHost: x\r\n\r\n") > 0);
  MT_CHECK_EQ(req.version_minor, 1);
}

static void test_upgrade_and_expect(void) {
  struct moss_http_req req;
  MT_REQUIRE(parse(&req,
                   "GET /rpc HTTP/1.1\r\nHost: x\r\n"
                   "Connection: keep-alive, Upgrade\r\n"
                   "Upgrade: WebSocket\r\n\r\n") > 0);
  MT_CHECK(req.upgrade_websocket);
  MT_CHECK(req.conn_upgrade);
  MT_CHECK(moss_http_has_token(&req, "connection", "keep-alive"));
  MT_CHECK(!moss_http_has_token(&req, "connection", "close"));
  MT_REQUIRE(parse(&req,
                   "GET /rpc HTTP/1.1\r\nHost: x\r\n"
                   "Upgrade: h2c\r\n\r\n") > 0);
  MT_CHECK(!req.upgrade_websocket);
  MT_CHECK(!req.conn_upgrade);
  MT_REQUIRE(parse(&req,
                   "POST /upload HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 2000000\r\n"
                   "Expect: 100-continue\r\n\r\n") > 0);
  MT_CHECK(req.expect_continue);
  MT_CHECK_EQ(req.content_length, 2000000);
}

static void test_targets(void) {
  struct moss_http_req req;
  MT_REQUIRE(parse(&req, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
  MT_CHECK(str_is(req.path, "*"));
  MT_REQUIRE(parse(&req,
                   "GET http://dev:80/a/b?q HTTP/1.1\r\nHost: x\r\n"
                   "\r\n") > 0);
  MT_CHECK(str_is(req.path, "/a/b"));
  MT_CHECK(str_is(req.query, "q"));
  MT_REQUIRE(parse(&req,
                   "GET HTTPS://dev?q=1 HTTP/1.1\r\nHost: x\r\n"
                   "\r\n") > 0);
  MT_CHECK(str_is(req.path, "/"));
  MT_CHECK(str_is(req.query, "q=1"));
  MT_REQUIRE(parse(&req, "GET /? HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
  MT_CHECK(str_is(req.path, "/"));
  MT_CHECK_EQ(req.query.len, 0);
}

static void test_content_length(void) {
  struct moss_http_req req;
  MT_REQUIRE(parse(&req,
                   "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
                   "content-length: 007\r\n\r\n") > 0);
  MT_CHECK_EQ(req.content_length, 7);
  MT_REQUIRE(parse(&req,
                   "POST / HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 18446744073709551615\r\n\r\n") > 0);
  MT_CHECK(req.content_length == UINT64_MAX);
  MT_REQUIRE(parse(&req,
                   "POST / HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 0\r\n\r\n") > 0);
  MT_CHECK(req.has_content_length);
  MT_CHECK_EQ(req.content_length, 0);
}

struct err_case {
  const char *req;
  int status;
  int err;
};

static void test_error_classes(void) {
  static const struct err_case cases[] = {
      /* 400: request line */
      {"get / HTTP/1.1\r\nHost: x\r\n\r\n", 0, 0}, /* lower-case is a token */
      {"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET /\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / http/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET /a#f HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET a/b HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {" GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      /* 400: headers */
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\nHost: x\r\nA: b\x01\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\nHost: x\r\nA: b\x7f\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, MOSS_ERR_PARSE},
      {"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400, MOSS_ERR_PARSE},
      /* 400: Content-Length */
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400,
       MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", 400,
       MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", 400,
       MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", 400,
       MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400,
       MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400,
       MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Content-Length: 6\r\n\r\n",
       400, MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\n"
       "Content-Length: 18446744073709551616\r\n\r\n",
       400, MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\n"
       "Content-Length: 99999999999999999999999\r\n\r\n",
       400, MOSS_ERR_PARSE},
      /* Transfer-Encoding */
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
       "Content-Length: 5\r\n\r\n",
       400, MOSS_ERR_PARSE},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 411,
       MOSS_ERR_NOTSUP},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, Chunked\r\n"
       "\r\n",
       411, MOSS_ERR_NOTSUP},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
       MOSS_ERR_NOTSUP},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n"
       "\r\n",
       501, MOSS_ERR_NOTSUP},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       MOSS_ERR_PARSE},
      /* Expect */
      {"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417,
       MOSS_ERR_NOTSUP},
      {"POST / HTTP/1.0\r\nExpect: 200-ok\r\n\r\n", 0, 0},
      /* version */
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, MOSS_ERR_PARSE},
      {"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505, MOSS_ERR_PARSE},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++) {
    struct moss_http_req req;
    int n = parse(&req, cases[i].req);
    int want = cases[i].err;
    if ((want == 0 && n <= 0) || (want != 0 && n != want) ||
        req.status != cases[i].status)
      mt_fail(__FILE__, __LINE__, "case %zu: got %d status %d, want %d/%d", i,
              n, req.status, want, cases[i].status);
  }
}

static void test_limits(void) {
  struct moss_http_req req;
  char big[MOSS_HTTP_MAX_HEAD + 200];
  size_t n;

  /* 414: a target longer than max_uri, known before the line ends. */
  n = (size_t)snprintf(big, sizeof(big), "GET /");
  memset(big + n, 'a', MOSS_HTTP_MAX_URI);
  n += MOSS_HTTP_MAX_URI;
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, big, n), MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(req.status, 414);
  /* Exactly max_uri is fine. */
  big[n - 1] = '\0';
  n = strlen(big);
  snprintf(big + n, sizeof(big) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
  MT_CHECK(parse(&req, big) > 0);
  MT_CHECK_EQ(req.target.len, MOSS_HTTP_MAX_URI);

  /* 431: header block beyond max_head, incomplete. */
  n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nA: ");
  memset(big + n, 'v', sizeof(big) - n);
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, big, MOSS_HTTP_MAX_HEAD - 1), 0);
  MT_CHECK_EQ(moss_http_parse_request(&req, big, MOSS_HTTP_MAX_HEAD),
              MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(req.status, 431);
  /* ... and complete but one byte too long. */
  memcpy(big + MOSS_HTTP_MAX_HEAD - 3, "\r\n\r\n", 4);
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, big, MOSS_HTTP_MAX_HEAD + 1),
              MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(req.status, 431);
  memcpy(big + MOSS_HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, big, MOSS_HTTP_MAX_HEAD),
              MOSS_HTTP_MAX_HEAD);

  /* 431: more headers than the array holds. */
  {
    struct moss_http_header few[3];
    static const char r3[] =
        "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n";
    static const char r4[] =
        "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    moss_http_req_init(&req, few, 3);
    MT_CHECK(moss_http_parse_request(&req, r3, strlen(r3)) > 0);
    moss_http_req_init(&req, few, 3);
    MT_CHECK_EQ(moss_http_parse_request(&req, r4, strlen(r4)), MOSS_ERR_TOOBIG);
    MT_CHECK_EQ(req.status, 431);
  }
  /* A custom, smaller head limit. */
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  req.max_head = 20;
  MT_CHECK_EQ(
      moss_http_parse_request(&req, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27),
      MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(req.status, 431);
}

/* Garbage fails on its first bytes, not after max_head. */
static void test_fails_early(void) {
  static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  struct moss_http_req req;
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, (const char *)hello, 1),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(req.status, 400);
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, "GET / XTTP", 10), MOSS_ERR_PARSE);
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, "GET / HTTP/2.0\r\n", 16),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(req.status, 505);
  moss_http_req_init(&req, hdrs, MOSS_ARRAY_SIZE(hdrs));
  MT_CHECK_EQ(moss_http_parse_request(&req, "GET / HTTP/1.1\r", 15), 0);
}

static void test_url_decode(void) {
  char out[16];
  size_t n;
  MT_CHECK_EQ(moss_http_url_decode(out, sizeof(out), moss_str_c("a%20b+c%2F"),
                                   true, &n),
              0);
  MT_CHECK_STR(out, "a b c/");
  MT_CHECK_EQ(n, 6);
  MT_CHECK_EQ(
      moss_http_url_decode(out, sizeof(out), moss_str_c("a+b"), false, &n), 0);
  MT_CHECK_STR(out, "a+b");
  MT_CHECK_EQ(
      moss_http_url_decode(out, sizeof(out), moss_str_c("%4a%4A"), false, &n),
      0);
  MT_CHECK_STR(out, "JJ");
  MT_CHECK_EQ(
      moss_http_url_decode(out, sizeof(out), moss_str_c("x%00y"), false, &n),
      0);
  MT_CHECK_EQ(n, 3);
  MT_CHECK_EQ(out[1], 0);
  MT_CHECK_EQ(
      moss_http_url_decode(out, sizeof(out), moss_str_c("%2"), false, &n),
      MOSS_ERR_PARSE);
  MT_CHECK_EQ(
      moss_http_url_decode(out, sizeof(out), moss_str_c("ab%"), false, &n),
      MOSS_ERR_PARSE);
  MT_CHECK_EQ(
      moss_http_url_decode(out, sizeof(out), moss_str_c("%g0"), false, &n),
      MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_http_url_decode(out, 4, moss_str_c("abcd"), false, &n),
              MOSS_ERR_TOOBIG);
  MT_CHECK_STR(out, "");
  MT_CHECK_EQ(moss_http_url_decode(out, 5, moss_str_c("abcd"), false, &n), 0);
}

static void test_path_decode(void) {
  static const struct {
    const char *in, *out;
  } ok[] = {
      {"/", "/"},
      {"/index.html", "/index.html"},
      {"//a///b", "/a/b"},
      {"/a/./b/.", "/a/b/"},
      {"/a/b/", "/a/b/"},
      {"/./", "/"},
      {"/%2e", "/"},
      {"/a%20b.txt", "/a b.txt"},
      {"/a..b/...", "/a..b/..."},
      {"/.hidden", "/.hidden"},
  };
  static const char *bad[] = {
      "",       "a/b",       "/..",         "/../etc/passwd", "/a/../b",
      "/a/..",  "/%2e%2e/x", "/a%2f..%2fb", "/a\\..\\b",      "/..\\x",
      "/a%00b", "%2fa",      "/%zz",
  };
  char out[64];
  size_t n;
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(ok); i++) {
    int rc = moss_http_path_decode(out, sizeof(out), moss_str_c(ok[i].in), &n);
    if (rc != 0 || strcmp(out, ok[i].out) != 0 || n != strlen(ok[i].out))
      mt_fail(__FILE__, __LINE__, "%s -> %d '%s'", ok[i].in, rc, out);
  }
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(bad); i++) {
    int rc = moss_http_path_decode(out, sizeof(out), moss_str_c(bad[i]), &n);
    if (rc != MOSS_ERR_PARSE)
      mt_fail(__FILE__, __LINE__, "%s -> %d, want PARSE", bad[i], rc);
  }
  MT_CHECK_EQ(moss_http_path_decode(out, 3, moss_str_c("/abc"), &n),
              MOSS_ERR_TOOBIG);
}

static void test_query_and_list(void) {
  struct moss_str q = moss_str_c("a=1&&b=%22x%22&flag&=v&c="), k, v;
  const char *want[][2] = {
      {"a", "1"}, {"b", "%22x%22"}, {"flag", ""}, {"", "v"}, {"c", ""}};
  size_t i = 0;
  while (moss_http_query_next(&q, &k, &v)) {
    MT_REQUIRE(i < MOSS_ARRAY_SIZE(want));
    MT_CHECK(str_is(k, want[i][0]));
    MT_CHECK(str_is(v, want[i][1]));
    i++;
  }
  MT_CHECK_EQ(i, MOSS_ARRAY_SIZE(want));

  struct moss_str l = moss_str_c(" ,a , b\t,,c,"), it;
  const char *wl[] = {"a", "b", "c"};
  i = 0;
  while (moss_http_list_next(&l, &it)) {
    MT_REQUIRE(i < 3);
    MT_CHECK(str_is(it, wl[i]));
    i++;
  }
  MT_CHECK_EQ(i, 3);
}

static void test_status_text(void) {
  MT_CHECK_STR(moss_http_status_text(200), "OK");
  MT_CHECK_STR(moss_http_status_text(404), "Not Found");
  MT_CHECK_STR(moss_http_status_text(414), "URI Too Long");
  MT_CHECK_STR(moss_http_status_text(431), "Request Header Fields Too Large");
  MT_CHECK_STR(moss_http_status_text(505), "HTTP Version Not Supported");
  MT_CHECK_STR(moss_http_status_text(299), "Unknown");
}

static void test_response_writer(void) {
  char out[256];
  struct moss_http_resp r;
  moss_http_resp_init(&r, out, sizeof(out), 200, NULL);
  moss_http_resp_header(&r, "Content-Type", "%s", "application/json");
  moss_http_resp_content_length(&r, 12);
  moss_http_resp_raw(&r, moss_str_c("X-A: 1\r\n\nX-B: 2"));
  MT_CHECK_EQ(moss_http_resp_finish(&r), 0);
  MT_CHECK_STR(out,
               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
               "Content-Length: 12\r\nX-A: 1\r\nX-B: 2\r\n\r\n");
  MT_CHECK_EQ(r.len, strlen(out));

  moss_http_resp_init(&r, out, sizeof(out), 403, "Not Allowed");
  MT_CHECK_EQ(moss_http_resp_finish(&r), 0);
  MT_CHECK_STR(out, "HTTP/1.1 403 Not Allowed\r\n\r\n");

  /* Header injection refused, sticky. */
  moss_http_resp_init(&r, out, sizeof(out), 200, NULL);
  moss_http_resp_header(&r, "X", "a\r\nSet-Cookie: b");
  moss_http_resp_header(&r, "Y", "ok");
  MT_CHECK_EQ(moss_http_resp_finish(&r), MOSS_ERR_INVAL);
  moss_http_resp_init(&r, out, sizeof(out), 200, NULL);
  moss_http_resp_raw(&r, moss_str_c("X: a\rb"));
  MT_CHECK_EQ(moss_http_resp_finish(&r), MOSS_ERR_INVAL);

  /* Every too-small buffer fails without overflowing. */
  for (size_t cap = 0; cap < 40; cap++) {
    char small[40];
    memset(small, 'Z', sizeof(small));
    moss_http_resp_init(&r, small, cap, 404, NULL);
    moss_http_resp_content_length(&r, 0);
    int rc = moss_http_resp_finish(&r);
    /* "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" is 45. */
    MT_CHECK_EQ(rc, MOSS_ERR_TOOBIG);
    MT_CHECK(r.len < cap || cap == 0);
    for (size_t k = cap; k < sizeof(small); k++)
      MT_CHECK(small[k] == 'Z');
  }
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_simple_get);
  MT_RUN(test_post_bare_lf_and_leading_crlf);
  MT_RUN(test_every_split_point);
  MT_RUN(test_pipelined);
  MT_RUN(test_connection_semantics);
  MT_RUN(test_upgrade_and_expect);
  MT_RUN(test_targets);
  MT_RUN(test_content_length);
  MT_RUN(test_error_classes);
  MT_RUN(test_limits);
  MT_RUN(test_fails_early);
  MT_RUN(test_url_decode);
  MT_RUN(test_path_decode);
  MT_RUN(test_query_and_list);
  MT_RUN(test_status_text);
  MT_RUN(test_response_writer);
  MT_RUN(test_router);
  return mt_done();
}

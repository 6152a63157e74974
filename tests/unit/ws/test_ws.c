/* Unit tests of the WebSocket engine pieces (src/ws/), with the RFC 6455
 * §1.3 handshake and §5.7 frame examples. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "moss/err.h"
#include "moss/http_parse.h"
#include "moss/ws_frame.h"

static const uint8_t rfc_mask[4] = {0x37, 0xfa, 0x21, 0x3d};

/* ---- handshake ----------------------------------------------------------- */

static void test_accept_key_rfc(void) {
  char out[MOSS_WS_ACCEPT_LEN + 1];
  MT_CHECK_EQ(moss_ws_accept_key(moss_str_c("dGhlIHNhbXBsZSBub25jZQ=="), out),
              0);
  MT_CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  /* RFC 6455 §4.2.2's other example value is the same key; a second,
   * independent vector (computed with openssl sha1 | base64). */
  MT_CHECK_EQ(moss_ws_accept_key(moss_str_c("x3JJHMbDL1EzLkh9GBhXDw=="), out),
              0);
  MT_CHECK_STR(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

static struct moss_http_header hh[20];

static int parse_req(struct moss_http_req *req, const char *s) {
  moss_http_req_init(req, hh, MOSS_ARRAY_SIZE(hh));
  return moss_http_parse_request(req, s, strlen(s));
}

static void test_handshake_rfc(void) {
  /* RFC 6455 §1.3 client handshake, plus json-rpc offered. */
  static const char r[] =
      "GET /chat HTTP/1.1\r\n"
      "Host: server.example.com\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Origin: http://example.com\r\n"
      "Sec-WebSocket-Protocol: chat, json-rpc\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "\r\n";
  struct moss_http_req req;
  struct moss_ws_handshake hs;
  struct moss_http_resp resp;
  char out[256];
  MT_REQUIRE(parse_req(&req, r) > 0);
  MT_CHECK_EQ(moss_ws_check_handshake(&req, &hs), 0);
  MT_CHECK(hs.json_rpc);
  MT_CHECK(moss_str_eq_c(hs.key, "dGhlIHNhbXBsZSBub25jZQ=="));
  MT_CHECK_EQ(moss_ws_write_handshake_response(&resp, out, sizeof(out), &hs),
              0);
  MT_CHECK_STR(out,
               "HTTP/1.1 101 Switching Protocols\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
               "Sec-WebSocket-Protocol: json-rpc\r\n"
               "\r\n");
  MT_CHECK_EQ(resp.len, strlen(out));
  /* Too small a buffer fails cleanly. */
  MT_CHECK_EQ(moss_ws_write_handshake_response(&resp, out, 60, &hs),
              MOSS_ERR_TOOBIG);
}

static void test_handshake_errors(void) {
  static const struct {
    const char *hdrs;
    int err, status;
    bool json_rpc;
  } cases[] = {
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       0, 0, false},
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Protocol: JSON-RPC\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       0, 0, false},
      {"POST|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      {"GET|Connection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      {"GET|Upgrade: websocket\r\nConnection: keep-alive\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      /* 15-byte key, 17-byte key, not base64, duplicated */
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub2!jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n",
       MOSS_ERR_PARSE, 400, false},
      /* version */
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 8\r\n",
       MOSS_ERR_NOTSUP, 426, false},
      {"GET|Upgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
       MOSS_ERR_NOTSUP, 426, false},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++) {
    char buf[512];
    const char *bar = strchr(cases[i].hdrs, '|');
    struct moss_http_req req;
    struct moss_ws_handshake hs;
    snprintf(buf, sizeof(buf), "%.*s /rpc HTTP/1.1\r\nHost: d\r\n%s\r\n",
             (int)(bar - cases[i].hdrs), cases[i].hdrs, bar + 1);
    MT_REQUIRE(parse_req(&req, buf) > 0);
    int rc = moss_ws_check_handshake(&req, &hs);
    if (rc != cases[i].err || hs.status != cases[i].status ||
        hs.json_rpc != cases[i].json_rpc)
      mt_fail(__FILE__, __LINE__, "case %zu: %d/%d", i, rc, hs.status);
  }
  /* HTTP/1.0 cannot upgrade. */
  struct moss_http_req req;
  struct moss_ws_handshake hs;
  MT_REQUIRE(parse_req(&req,
                       "GET /rpc HTTP/1.0\r\nUpgrade: websocket\r\n"
                       "Connection: upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n") > 0);
  MT_CHECK_EQ(moss_ws_check_handshake(&req, &hs), MOSS_ERR_PARSE);
}

/* ---- frames: RFC 6455 §5.7 ---------------------------------------------- */

struct frame_vec {
  const char *name;
  enum moss_ws_role rx; /* role of the receiver */
  uint8_t bytes[16];
  size_t n;
  bool fin;
  uint8_t opcode;
  const char *payload;
};

static const struct frame_vec rfc_frames[] = {
    {"unmasked Hello",
     MOSS_WS_CLIENT,
     {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
     7,
     true,
     MOSS_WS_OP_TEXT,
     "Hello"},
    {"masked Hello",
     MOSS_WS_SERVER,
     {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
     11,
     true,
     MOSS_WS_OP_TEXT,
     "Hello"},
    {"fragment 1",
     MOSS_WS_CLIENT,
     {0x01, 0x03, 0x48, 0x65, 0x6c},
     5,
     false,
     MOSS_WS_OP_TEXT,
     "Hel"},
    {"fragment 2",
     MOSS_WS_CLIENT,
     {0x80, 0x02, 0x6c, 0x6f},
     4,
     true,
     MOSS_WS_OP_CONT,
     "lo"},
    {"unmasked ping",
     MOSS_WS_CLIENT,
     {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
     7,
     true,
     MOSS_WS_OP_PING,
     "Hello"},
    {"masked pong",
     MOSS_WS_SERVER,
     {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
     11,
     true,
     MOSS_WS_OP_PONG,
     "Hello"},
};

static void test_rfc_frames_parse(void) {
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(rfc_frames); i++) {
    const struct frame_vec *v = &rfc_frames[i];
    uint8_t buf[16];
    struct moss_ws_frame f;
    memcpy(buf, v->bytes, v->n);
    int rc = moss_ws_parse_frame(v->rx, buf, v->n, 1000, &f);
    size_t plen = strlen(v->payload);
    if (rc != (int)v->n || f.fin != v->fin || f.opcode != v->opcode ||
        f.payload_len != plen || memcmp(f.payload, v->payload, plen) != 0) {
      mt_fail(__FILE__, __LINE__, "%s: rc %d", v->name, rc);
      continue;
    }
    /* Every proper prefix needs more. */
    for (size_t k = 0; k < v->n; k++) {
      memcpy(buf, v->bytes, v->n);
      if (moss_ws_parse_frame(v->rx, buf, k, 1000, &f) != 0)
        mt_fail(__FILE__, __LINE__, "%s: prefix %zu", v->name, k);
    }
    /* The other role refuses it (mask rule). */
    memcpy(buf, v->bytes, v->n);
    MT_CHECK_EQ(moss_ws_parse_frame(
                    v->rx == MOSS_WS_SERVER ? MOSS_WS_CLIENT : MOSS_WS_SERVER,
                    buf, v->n, 1000, &f),
                MOSS_ERR_PROTO);
  }
}

static void test_rfc_frames_encode(void) {
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(rfc_frames); i++) {
    const struct frame_vec *v = &rfc_frames[i];
    uint8_t out[32];
    size_t n;
    /* A frame the server receives was sent by a client, masked. */
    const uint8_t *mask = v->rx == MOSS_WS_SERVER ? rfc_mask : NULL;
    MT_CHECK_EQ(moss_ws_encode_frame(out, sizeof(out), v->fin, v->opcode,
                                     v->payload, strlen(v->payload), mask, &n),
                0);
    MT_CHECK_EQ(n, v->n);
    MT_CHECK_MEM(out, v->bytes, v->n);
  }
}

static void check_long(size_t plen, const uint8_t *hdr, size_t hl) {
  uint8_t *buf = malloc(plen + MOSS_WS_MAX_HEADER);
  struct moss_ws_frame f;
  size_t n;
  MT_REQUIRE(buf != NULL);
  /* Encoder (server, unmasked) produces the RFC header. */
  uint8_t *payload = malloc(plen);
  MT_REQUIRE(payload != NULL);
  for (size_t i = 0; i < plen; i++)
    payload[i] = (uint8_t)(i * 7);
  MT_CHECK_EQ(moss_ws_encode_frame(buf, plen + MOSS_WS_MAX_HEADER, true,
                                   MOSS_WS_OP_BINARY, payload, plen, NULL, &n),
              0);
  MT_CHECK_EQ(n, hl + plen);
  MT_CHECK_MEM(buf, hdr, hl);
  /* Parser (client side) reads it back; one byte short needs more. */
  MT_CHECK_EQ(moss_ws_parse_frame(MOSS_WS_CLIENT, buf, n - 1, plen, &f), 0);
  MT_CHECK_EQ(moss_ws_parse_frame(MOSS_WS_CLIENT, buf, n, plen, &f), n);
  MT_CHECK_EQ(f.header_len, hl);
  MT_CHECK_EQ(f.payload_len, plen);
  MT_CHECK_MEM(f.payload, payload, plen);
  /* One byte over the limit: TOOBIG from the header alone. */
  MT_CHECK_EQ(moss_ws_parse_frame(MOSS_WS_CLIENT, buf, hl, plen - 1, &f),
              MOSS_ERR_TOOBIG);
  /* Masked (client to server) round trip. */
  MT_CHECK_EQ(
      moss_ws_encode_frame(buf, plen + MOSS_WS_MAX_HEADER, true,
                           MOSS_WS_OP_BINARY, payload, plen, rfc_mask, &n),
      0);
  MT_CHECK_EQ(n, hl + 4 + plen);
  MT_CHECK_EQ(buf[1] & 0x80, 0x80);
  MT_CHECK_EQ(moss_ws_parse_frame(MOSS_WS_SERVER, buf, n, plen, &f), n);
  MT_CHECK_MEM(f.payload, payload, plen);
  free(payload);
  free(buf);
}

static void test_rfc_long_lengths(void) {
  static const uint8_t h256[] = {0x82, 0x7e, 0x01, 0x00};
  static const uint8_t h64k[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
  check_long(256, h256, sizeof(h256));
  check_long(65536, h64k, sizeof(h64k));
  /* Edges of the 7/16/64-bit encodings. */
  static const uint8_t h125[] = {0x82, 0x7d};
  static const uint8_t h126[] = {0x82, 0x7e, 0x00, 0x7e};
  static const uint8_t h65535[] = {0x82, 0x7e, 0xff, 0xff};
  check_long(125, h125, sizeof(h125));
  check_long(126, h126, sizeof(h126));
  check_long(65535, h65535, sizeof(h65535));
}

static void test_frame_errors(void) {
  static const struct {
    uint8_t b[10];
    size_t n;
    enum moss_ws_role role;
    int err;
  } cases[] = {
      {{0xc1, 0x80}, 2, MOSS_WS_SERVER, MOSS_ERR_PROTO}, /* RSV1 */
      {{0xa1, 0x80}, 2, MOSS_WS_SERVER, MOSS_ERR_PROTO}, /* RSV2 */
      {{0x91, 0x80}, 2, MOSS_WS_SERVER, MOSS_ERR_PROTO}, /* RSV3 */
      {{0x83}, 1, MOSS_WS_SERVER, MOSS_ERR_PROTO},       /* opcode 3 */
      {{0x87}, 1, MOSS_WS_SERVER, MOSS_ERR_PROTO},       /* opcode 7 */
      {{0x8b}, 1, MOSS_WS_SERVER, MOSS_ERR_PROTO},       /* opcode B */
      {{0x8f}, 1, MOSS_WS_SERVER, MOSS_ERR_PROTO},       /* opcode F */
      {{0x09}, 1, MOSS_WS_SERVER, MOSS_ERR_PROTO},       /* fragmented ping */
      {{0x88, 0xfe}, 2, MOSS_WS_SERVER, MOSS_ERR_PROTO}, /* close len 126 */
      {{0x89, 0xfe}, 2, MOSS_WS_SERVER, MOSS_ERR_PROTO},
      {{0x8a, 0x7e}, 2, MOSS_WS_CLIENT, MOSS_ERR_PROTO},
      {{0x81, 0x05}, 2, MOSS_WS_SERVER, MOSS_ERR_PROTO},       /* unmasked */
      {{0x81, 0x85}, 2, MOSS_WS_CLIENT, MOSS_ERR_PROTO},       /* masked */
      {{0x82, 0xff, 0x80}, 3, MOSS_WS_SERVER, MOSS_ERR_PROTO}, /* 64-bit MSB */
      {{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
       10,
       MOSS_WS_CLIENT,
       MOSS_ERR_TOOBIG},
      {{0x82, 0x7e, 0x10, 0x00}, 4, MOSS_WS_CLIENT, MOSS_ERR_TOOBIG},
      {{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 5}, 10, MOSS_WS_CLIENT, 0},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++) {
    struct moss_ws_frame f;
    uint8_t b[10];
    memcpy(b, cases[i].b, sizeof(b));
    int rc = moss_ws_parse_header(cases[i].role, b, cases[i].n, 1024, &f);
    int want = cases[i].err;
    if ((want == 0 && rc <= 0) || (want != 0 && rc != want))
      mt_fail(__FILE__, __LINE__, "case %zu: %d want %d", i, rc, want);
  }
  /* Close-code mapping. */
  MT_CHECK_EQ(moss_ws_close_code_for(MOSS_ERR_PROTO), 1002);
  MT_CHECK_EQ(moss_ws_close_code_for(MOSS_ERR_PARSE), 1007);
  MT_CHECK_EQ(moss_ws_close_code_for(MOSS_ERR_TOOBIG), 1009);
  MT_CHECK_EQ(moss_ws_close_code_for(MOSS_ERR_NOMEM), 1011);
}

static void test_encode_errors(void) {
  uint8_t out[200], p[130] = {0};
  size_t n;
  MT_CHECK_EQ(moss_ws_encode_frame(out, sizeof(out), true, MOSS_WS_OP_PING, p,
                                   126, NULL, &n),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_ws_encode_frame(out, sizeof(out), false, MOSS_WS_OP_CLOSE, p,
                                   0, NULL, &n),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_ws_encode_frame(out, sizeof(out), true, 3, p, 0, NULL, &n),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(
      moss_ws_encode_frame(out, 6, true, MOSS_WS_OP_TEXT, p, 5, rfc_mask, &n),
      MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(
      moss_ws_encode_frame(out, 7, true, MOSS_WS_OP_TEXT, p, 5, NULL, &n), 0);
  MT_CHECK_EQ(moss_ws_encode_header(out, 1, true, MOSS_WS_OP_TEXT, 0, NULL, &n),
              MOSS_ERR_TOOBIG);
  /* Close frames. */
  MT_CHECK_EQ(
      moss_ws_encode_close(out, sizeof(out), 1000, moss_str_c("bye"), NULL, &n),
      0);
  static const uint8_t want[] = {0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'};
  MT_CHECK_EQ(n, sizeof(want));
  MT_CHECK_MEM(out, want, sizeof(want));
  MT_CHECK_EQ(
      moss_ws_encode_close(out, sizeof(out), 0, MOSS_STR_NULL, NULL, &n), 0);
  MT_CHECK_EQ(n, 2);
  char longr[124];
  memset(longr, 'r', sizeof(longr));
  MT_CHECK_EQ(moss_ws_encode_close(out, sizeof(out), 1000,
                                   moss_str_n(longr, 124), NULL, &n),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_ws_encode_close(out, sizeof(out), 1000,
                                   moss_str_n(longr, 123), NULL, &n),
              0);
  MT_CHECK_EQ(n, 127);
}

/* ---- UTF-8 and close payloads ---------------------------------------------
 */

static void test_utf8(void) {
  static const struct {
    const char *s;
    bool ok;
  } v[] = {
      {"plain ascii", true},
      {"\xc3\xa9t\xc3\xa9", true},
      {"\xe2\x82\xac", true},
      {"\xf0\x9f\x98\x80", true},
      {"\xf4\x8f\xbf\xbf", true},  /* U+10FFFF */
      {"\xed\x9f\xbf", true},      /* U+D7FF */
      {"\xee\x80\x80", true},      /* U+E000 */
      {"\xc0\x80", false},         /* overlong NUL */
      {"\xc1\xbf", false},         /* overlong */
      {"\xe0\x80\x80", false},     /* overlong */
      {"\xe0\x9f\xbf", false},     /* overlong */
      {"\xf0\x8f\xbf\xbf", false}, /* overlong */
      {"\xed\xa0\x80", false},     /* surrogate D800 */
      {"\xed\xbf\xbf", false},     /* surrogate DFFF */
      {"\xf4\x90\x80\x80", false}, /* > U+10FFFF */
      {"\xf5\x80\x80\x80", false},
      {"\xff", false},
      {"\x80", false}, /* stray continuation */
      {"\xc3", false}, /* truncated */
      {"\xe2\x82", false},
      {"a\xc3(", false},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(v); i++) {
    struct moss_ws_utf8 u = {0, 0, 0};
    const uint8_t *p = (const uint8_t *)v[i].s;
    size_t n = strlen(v[i].s);
    bool whole = moss_ws_utf8_feed(&u, p, n) && moss_ws_utf8_complete(&u);
    /* The same bytes one at a time must agree (fragment boundaries). */
    struct moss_ws_utf8 u2 = {0, 0, 0};
    bool ok2 = true;
    for (size_t k = 0; k < n && ok2; k++)
      ok2 = moss_ws_utf8_feed(&u2, p + k, 1);
    ok2 = ok2 && moss_ws_utf8_complete(&u2);
    if (whole != v[i].ok || ok2 != v[i].ok)
      mt_fail(__FILE__, __LINE__, "utf8 case %zu: %d %d", i, whole, ok2);
  }
}

static void test_close_codes(void) {
  static const unsigned valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
                                   1010, 1011, 3000, 3999, 4000, 4999};
  static const unsigned invalid[] = {0,    999,  1004, 1005, 1006, 1012, 1013,
                                     1014, 1015, 1016, 2000, 2999, 5000, 65535};
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(valid); i++)
    MT_CHECK(moss_ws_close_code_valid(valid[i]));
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(invalid); i++)
    MT_CHECK(!moss_ws_close_code_valid(invalid[i]));

  uint16_t code;
  struct moss_str reason;
  MT_CHECK_EQ(moss_ws_parse_close(NULL, 0, &code, &reason), 0);
  MT_CHECK_EQ(code, 1005);
  static const uint8_t one[] = {0x03};
  MT_CHECK_EQ(moss_ws_parse_close(one, 1, &code, &reason), MOSS_ERR_PROTO);
  static const uint8_t ok[] = {0x03, 0xe9, 'b', 'y', 'e'};
  MT_CHECK_EQ(moss_ws_parse_close(ok, sizeof(ok), &code, &reason), 0);
  MT_CHECK_EQ(code, 1001);
  MT_CHECK(moss_str_eq_c(reason, "bye"));
  static const uint8_t c1005[] = {0x03, 0xed};
  MT_CHECK_EQ(moss_ws_parse_close(c1005, 2, &code, &reason), MOSS_ERR_PROTO);
  static const uint8_t badutf[] = {0x03, 0xe8, 0xce, 0xba, 0xe1};
  MT_CHECK_EQ(moss_ws_parse_close(badutf, sizeof(badutf), &code, &reason),
              MOSS_ERR_PARSE);
}

/* ---- message assembly -----------------------------------------------------
 */

/* Encodes a client frame (masked, as a server receives it), parses it back
 * and feeds it to m.  Returns the feed result. */
static int feed(struct moss_ws_msg *m, uint8_t *wire, bool fin, unsigned op,
                const char *payload, size_t n) {
  size_t len;
  struct moss_ws_frame f;
  if (moss_ws_encode_frame(wire, 300, fin, op, payload, n, rfc_mask, &len))
    return -1000;
  if (moss_ws_parse_frame(MOSS_WS_SERVER, wire, len, 1 << 20, &f) != (int)len)
    return -1001;
  return moss_ws_msg_feed(m, &f);
}

static void test_assembler_rfc_fragments(void) {
  uint8_t mbuf[64], w1[16], w2[16];
  struct moss_ws_msg m;
  struct moss_ws_frame f;
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  memcpy(w1, rfc_frames[2].bytes, rfc_frames[2].n);
  memcpy(w2, rfc_frames[3].bytes, rfc_frames[3].n);
  MT_REQUIRE(moss_ws_parse_frame(MOSS_WS_CLIENT, w1, rfc_frames[2].n, 64, &f) >
             0);
  MT_CHECK_EQ(moss_ws_msg_feed(&m, &f), MOSS_WS_MSG_MORE);
  /* Interleaved ping (RFC example) between the fragments. */
  uint8_t wp[16];
  memcpy(wp, rfc_frames[4].bytes, rfc_frames[4].n);
  MT_REQUIRE(moss_ws_parse_frame(MOSS_WS_CLIENT, wp, rfc_frames[4].n, 64, &f) >
             0);
  MT_CHECK_EQ(moss_ws_msg_feed(&m, &f), MOSS_WS_MSG_CONTROL);
  MT_REQUIRE(moss_ws_parse_frame(MOSS_WS_CLIENT, w2, rfc_frames[3].n, 64, &f) >
             0);
  MT_CHECK_EQ(moss_ws_msg_feed(&m, &f), MOSS_WS_MSG_DONE);
  MT_CHECK_EQ(m.opcode, MOSS_WS_OP_TEXT);
  MT_CHECK_EQ(m.len, 5);
  MT_CHECK_MEM(m.data, "Hello", 5);
  MT_CHECK(m.data == mbuf);
}

static void test_assembler_rules(void) {
  uint8_t mbuf[16], wire[300];
  struct moss_ws_msg m;

  /* Unfragmented: zero-copy. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_BINARY, "\xff\x00", 2),
              MOSS_WS_MSG_DONE);
  MT_CHECK_EQ(m.opcode, MOSS_WS_OP_BINARY);
  MT_CHECK(m.data != mbuf && m.len == 2);
  /* Empty text message. */
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_TEXT, "", 0), MOSS_WS_MSG_DONE);
  MT_CHECK_EQ(m.len, 0);

  /* Continuation without a start. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CONT, "x", 1), MOSS_ERR_PROTO);
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_CONT, "x", 1), MOSS_ERR_PROTO);

  /* New data frame inside a fragmented message. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_TEXT, "a", 1), MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_TEXT, "b", 1), MOSS_ERR_PROTO);

  /* Several continuations, empty ones included, and a pong in between. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_BINARY, "ab", 2),
              MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_CONT, "", 0), MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_PONG, "p", 1),
              MOSS_WS_MSG_CONTROL);
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_CONT, "cd", 2),
              MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CONT, "e", 1), MOSS_WS_MSG_DONE);
  MT_CHECK_EQ(m.len, 5);
  MT_CHECK_MEM(m.data, "abcde", 5);
  /* ... and the next message starts cleanly. */
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_TEXT, "x", 1), MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CONT, "y", 1), MOSS_WS_MSG_DONE);
  MT_CHECK_MEM(m.data, "xy", 2);

  /* Size cap: exactly cap is fine, one more is 1009. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_BINARY, "0123456789", 10),
              MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CONT, "abcdef", 6),
              MOSS_WS_MSG_DONE);
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_BINARY, "0123456789", 10),
              MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CONT, "abcdefg", 7),
              MOSS_ERR_TOOBIG);
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_TEXT, "0123456789abcdefg", 17),
              MOSS_ERR_TOOBIG);
  /* No buffer: fragments are refused, single frames pass. */
  moss_ws_msg_init(&m, NULL, 16);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_TEXT, "ok", 2), MOSS_WS_MSG_DONE);
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_TEXT, "ok", 2), MOSS_ERR_TOOBIG);
}

static void test_assembler_utf8(void) {
  uint8_t mbuf[32], wire[300];
  struct moss_ws_msg m;
  /* A character split across fragments is fine. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_TEXT, "\xce\xba\xe1", 3),
              MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CONT, "\xbd\xb9", 2),
              MOSS_WS_MSG_DONE);
  /* Fails fast in the first fragment. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_TEXT, "a\xed\xa0\x80", 4),
              MOSS_ERR_PARSE);
  /* Ends mid-character. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, false, MOSS_WS_OP_TEXT, "a", 1), MOSS_WS_MSG_MORE);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CONT, "\xe2\x82", 2),
              MOSS_ERR_PARSE);
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_TEXT, "\xc3", 1), MOSS_ERR_PARSE);
  /* Binary is not checked. */
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_BINARY, "\xc3", 1),
              MOSS_WS_MSG_DONE);
  /* Close frames are validated. */
  moss_ws_msg_init(&m, mbuf, sizeof(mbuf));
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CLOSE, "\x03\xe8ok", 4),
              MOSS_WS_MSG_CONTROL);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CLOSE, "\x03", 1),
              MOSS_ERR_PROTO);
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CLOSE, "\x03\xee", 2),
              MOSS_ERR_PROTO); /* 1006 */
  MT_CHECK_EQ(feed(&m, wire, true, MOSS_WS_OP_CLOSE, "\x03\xe8\xff", 3),
              MOSS_ERR_PARSE);
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_accept_key_rfc);
  MT_RUN(test_handshake_rfc);
  MT_RUN(test_handshake_errors);
  MT_RUN(test_rfc_frames_parse);
  MT_RUN(test_rfc_frames_encode);
  MT_RUN(test_rfc_long_lengths);
  MT_RUN(test_frame_errors);
  MT_RUN(test_encode_errors);
  MT_RUN(test_utf8);
  MT_RUN(test_close_codes);
  MT_RUN(test_assembler_rfc_fragments);
  MT_RUN(test_assembler_rules);
  MT_RUN(test_assembler_utf8);
  return mt_done();
}

/*
 * WebSocket protocol engine pieces (RFC 6455): handshake checks, frame
 * header codec, message assembly and UTF-8 validation.  SHA-1 comes from
 * mbedTLS and base64 from core; nothing here allocates.
 */
#include "moss/ws_frame.h"

#include <limits.h>
#include <string.h>

#include <mbedtls/sha1.h>

#include "moss/base64.h"
#include "moss/err.h"

/* ---- opening handshake ------------------------------------------------ */

int moss_ws_accept_key(struct moss_str key, char out[MOSS_WS_ACCEPT_LEN + 1]) {
  static const char guid[] = MOSS_WS_GUID;
  uint8_t cat[64 + sizeof(guid) - 1], dig[20];
  size_t olen;
  int ret = MOSS_ERR_CRYPTO;

  out[0] = '\0';
  if (key.len > 64)
    return MOSS_ERR_INVAL;
  memcpy(cat, key.buf, key.len);
  memcpy(cat + key.len, guid, sizeof(guid) - 1);
  if (mbedtls_sha1(cat, key.len + sizeof(guid) - 1, dig) != 0)
    goto out;
  ret =
      moss_base64_encode(out, MOSS_WS_ACCEPT_LEN + 1, &olen, dig, sizeof(dig));
out:
  return ret;
}

int moss_ws_check_handshake(const struct moss_http_req *req,
                            struct moss_ws_handshake *hs) {
  const struct moss_str *ver = NULL;
  size_t nkeys = 0, nvers = 0;
  uint8_t raw[18];
  size_t rawlen;

  memset(hs, 0, sizeof(*hs));
  hs->status = 400;
  if (!moss_str_eq_c(req->method, "GET") || req->version_minor < 1 ||
      !req->upgrade_websocket || !req->conn_upgrade)
    return MOSS_ERR_PARSE;

  for (size_t i = 0; i < req->num_headers; i++) {
    const struct moss_http_header *h = &req->headers[i];
    if (moss_str_casecmp_eq(h->name, moss_str_c("Sec-WebSocket-Key"))) {
      hs->key = h->value;
      nkeys++;
    } else if (moss_str_casecmp_eq(h->name,
                                   moss_str_c("Sec-WebSocket-Version"))) {
      ver = &h->value;
      nvers++;
    } else if (moss_str_casecmp_eq(h->name,
                                   moss_str_c("Sec-WebSocket-Protocol"))) {
      /* Subprotocol names are compared exactly (RFC 6455 §11.5). */
      struct moss_str list = h->value, item;
      while (moss_http_list_next(&list, &item))
        if (moss_str_eq_c(item, MOSS_WS_SUBPROTOCOL))
          hs->json_rpc = true;
    }
  }
  /* The key must decode to exactly 16 bytes (RFC 6455 §4.1 (7)). */
  if (nkeys != 1 || hs->key.len != MOSS_WS_KEY_LEN ||
      moss_base64_decode(raw, sizeof(raw), &rawlen, hs->key.buf, hs->key.len) !=
          0 ||
      rawlen != 16)
    goto bad;
  if (nvers != 1 || !moss_str_eq_c(*ver, "13")) {
    hs->status = 426;
    hs->key = MOSS_STR_NULL;
    return MOSS_ERR_NOTSUP;
  }
  hs->status = 0;
  return 0;
bad:
  hs->key = MOSS_STR_NULL;
  hs->json_rpc = false;
  return MOSS_ERR_PARSE;
}

int moss_ws_write_handshake_response(struct moss_http_resp *r, char *buf,
                                     size_t cap,
                                     const struct moss_ws_handshake *hs) {
  char accept[MOSS_WS_ACCEPT_LEN + 1];
  int rc = moss_ws_accept_key(hs->key, accept);

  moss_http_resp_init(r, buf, cap, 101, NULL);
  if (rc < 0 && r->err == 0)
    r->err = rc;
  moss_http_resp_header(r, "Upgrade", "websocket");
  moss_http_resp_header(r, "Connection", "Upgrade");
  moss_http_resp_header(r, "Sec-WebSocket-Accept", "%s", accept);
  if (hs->json_rpc)
    moss_http_resp_header(r, "Sec-WebSocket-Protocol", "%s",
                          MOSS_WS_SUBPROTOCOL);
  return moss_http_resp_finish(r);
}

/* ---- frames ------------------------------------------------------------ */

static bool is_control(unsigned op) {
  return (op & 0x8) != 0;
}

static bool opcode_known(unsigned op) {
  return op <= MOSS_WS_OP_BINARY ||
         (op >= MOSS_WS_OP_CLOSE && op <= MOSS_WS_OP_PONG);
}

int moss_ws_parse_header(enum moss_ws_role role, const uint8_t *buf, size_t len,
                         uint64_t max_payload, struct moss_ws_frame *f) {
  size_t hl = 2;
  uint64_t plen;
  unsigned len7;

  if (len < 1)
    return 0;
  memset(f, 0, sizeof(*f));
  f->fin = (buf[0] & 0x80) != 0;
  f->opcode = buf[0] & 0x0f;
  /* No extension is ever negotiated, so RSV1-3 must be zero (§5.2). */
  if ((buf[0] & 0x70) != 0 || !opcode_known(f->opcode))
    return MOSS_ERR_PROTO;
  if (is_control(f->opcode) && !f->fin)
    return MOSS_ERR_PROTO;
  if (len < 2)
    return 0;

  f->masked = (buf[1] & 0x80) != 0;
  /* Clients must mask and servers must not (§5.1). */
  if (f->masked != (role == MOSS_WS_SERVER))
    return MOSS_ERR_PROTO;
  len7 = buf[1] & 0x7f;
  if (is_control(f->opcode) && len7 > MOSS_WS_MAX_CONTROL)
    return MOSS_ERR_PROTO;

  if (len7 == 126) {
    if (len < 4)
      return 0;
    plen = (uint64_t)buf[2] << 8 | buf[3];
    hl = 4;
  } else if (len7 == 127) {
    if (len < 3)
      return 0;
    if (buf[2] & 0x80)
      return MOSS_ERR_PROTO; /* §5.2: MSB must be 0 */
    if (len < 10)
      return 0;
    plen = 0;
    for (int i = 0; i < 8; i++)
      plen = plen << 8 | buf[2 + i];
    hl = 10;
  } else {
    plen = len7;
  }
  /* Non-minimal length encodings are legal (§5.2 only says "minimal
   * number of bytes MUST be used" to the sender); accepted. */
  if (plen > max_payload)
    return MOSS_ERR_TOOBIG;
  if (f->masked) {
    if (len < hl + 4)
      return 0;
    memcpy(f->mask, buf + hl, 4);
    hl += 4;
  }
  f->header_len = hl;
  f->payload_len = plen;
  return (int)hl;
}

int moss_ws_parse_frame(enum moss_ws_role role, uint8_t *buf, size_t len,
                        uint64_t max_payload, struct moss_ws_frame *f) {
  int hl;
  uint64_t total;

  /* The int return value must be able to carry the frame length. */
  if (max_payload > (uint64_t)INT_MAX - MOSS_WS_MAX_HEADER)
    max_payload = (uint64_t)INT_MAX - MOSS_WS_MAX_HEADER;
  hl = moss_ws_parse_header(role, buf, len, max_payload, f);
  if (hl <= 0)
    return hl;
  total = (uint64_t)hl + f->payload_len;
  if (total > len)
    return 0;
  f->payload = buf + hl;
  if (f->masked)
    moss_ws_mask(f->payload, (size_t)f->payload_len, f->mask, 0);
  return (int)total;
}

void moss_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4],
                  uint64_t offset) {
  for (size_t i = 0; i < n; i++)
    p[i] ^= mask[(offset + i) & 3];
}

int moss_ws_encode_header(uint8_t *out, size_t outsz, bool fin, unsigned opcode,
                          uint64_t len, const uint8_t *mask, size_t *olen) {
  uint8_t h[MOSS_WS_MAX_HEADER];
  size_t n = 2;

  *olen = 0;
  if (!opcode_known(opcode) || (len >> 63) != 0)
    return MOSS_ERR_INVAL;
  if (is_control(opcode) && (!fin || len > MOSS_WS_MAX_CONTROL))
    return MOSS_ERR_INVAL;
  h[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
  h[1] = mask != NULL ? 0x80 : 0;
  if (len < 126) {
    h[1] |= (uint8_t)len;
  } else if (len <= 0xffff) {
    h[1] |= 126;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    n = 4;
  } else {
    h[1] |= 127;
    for (int i = 0; i < 8; i++)
      h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  if (mask != NULL) {
    memcpy(h + n, mask, 4);
    n += 4;
  }
  if (n > outsz)
    return MOSS_ERR_TOOBIG;
  memcpy(out, h, n);
  *olen = n;
  return 0;
}

int moss_ws_encode_frame(uint8_t *out, size_t outsz, bool fin, unsigned opcode,
                         const void *payload, size_t len, const uint8_t *mask,
                         size_t *olen) {
  size_t hl;
  int rc = moss_ws_encode_header(out, outsz, fin, opcode, len, mask, &hl);

  if (rc < 0)
    return rc;
  if (len > outsz - hl) {
    *olen = 0;
    return MOSS_ERR_TOOBIG;
  }
  if (len > 0)
    memcpy(out + hl, payload, len);
  if (mask != NULL)
    moss_ws_mask(out + hl, len, mask, 0);
  *olen = hl + len;
  return 0;
}

int moss_ws_encode_close(uint8_t *out, size_t outsz, uint16_t code,
                         struct moss_str reason, const uint8_t *mask,
                         size_t *olen) {
  uint8_t p[MOSS_WS_MAX_CONTROL];
  size_t n = 0;

  *olen = 0;
  if (code == 0 && reason.len > 0)
    return MOSS_ERR_INVAL;
  if (reason.len > MOSS_WS_MAX_CONTROL - 2)
    return MOSS_ERR_INVAL;
  if (code != 0) {
    p[0] = (uint8_t)(code >> 8);
    p[1] = (uint8_t)code;
    if (reason.len > 0)
      memcpy(p + 2, reason.buf, reason.len);
    n = 2 + reason.len;
  }
  return moss_ws_encode_frame(out, outsz, true, MOSS_WS_OP_CLOSE, p, n, mask,
                              olen);
}

/* ---- close payloads, UTF-8 ------------------------------------------- */

bool moss_ws_close_code_valid(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

int moss_ws_parse_close(const uint8_t *p, size_t n, uint16_t *code,
                        struct moss_str *reason) {
  struct moss_ws_utf8 u = {0, 0, 0};

  *code = MOSS_WS_CLOSE_NO_STATUS;
  *reason = MOSS_STR_NULL;
  if (n == 0)
    return 0;
  if (n == 1)
    return MOSS_ERR_PROTO;
  *code = (uint16_t)(p[0] << 8 | p[1]);
  if (!moss_ws_close_code_valid(*code))
    return MOSS_ERR_PROTO;
  if (!moss_ws_utf8_feed(&u, p + 2, n - 2) || !moss_ws_utf8_complete(&u))
    return MOSS_ERR_PARSE;
  *reason = moss_str_n((const char *)p + 2, n - 2);
  return 0;
}

uint16_t moss_ws_close_code_for(int err) {
  switch (err) {
    case MOSS_ERR_PROTO:
      return MOSS_WS_CLOSE_PROTOCOL;
    case MOSS_ERR_PARSE:
      return MOSS_WS_CLOSE_INVALID_DATA;
    case MOSS_ERR_TOOBIG:
      return MOSS_WS_CLOSE_TOO_BIG;
    default:
      return MOSS_WS_CLOSE_INTERNAL;
  }
}

bool moss_ws_utf8_feed(struct moss_ws_utf8 *u, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t b = p[i];
    if (u->need > 0) {
      if (b < u->lo || b > u->hi)
        return false;
      u->need--;
      u->lo = 0x80;
      u->hi = 0xbf;
      continue;
    }
    if (b < 0x80)
      continue;
    /* The lead byte fixes the length and, for E0/ED/F0/F4, narrows the
     * first continuation byte: that is what excludes overlong forms,
     * UTF-16 surrogates and code points above U+10FFFF. */
    u->lo = 0x80;
    u->hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      u->need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      u->need = 2;
      if (b == 0xe0)
        u->lo = 0xa0;
      if (b == 0xed)
        u->hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      u->need = 3;
      if (b == 0xf0)
        u->lo = 0x90;
      if (b == 0xf4)
        u->hi = 0x8f;
    } else {
      return false;
    }
  }
  return true;
}

bool moss_ws_utf8_complete(const struct moss_ws_utf8 *u) {
  return u->need == 0;
}

/* ---- message assembly -------------------------------------------------- */

void moss_ws_msg_init(struct moss_ws_msg *m, uint8_t *buf, size_t cap) {
  memset(m, 0, sizeof(*m));
  m->buf = buf;
  m->cap = cap;
}

static int check_text(struct moss_ws_msg *m, const uint8_t *p, size_t n,
                      bool fin) {
  if (m->opcode != MOSS_WS_OP_TEXT)
    return 0;
  if (!moss_ws_utf8_feed(&m->utf8_, p, n))
    return MOSS_ERR_PARSE;
  if (fin && !moss_ws_utf8_complete(&m->utf8_))
    return MOSS_ERR_PARSE;
  return 0;
}

int moss_ws_msg_feed(struct moss_ws_msg *m, const struct moss_ws_frame *f) {
  size_t n = (size_t)f->payload_len;
  int rc;

  if (is_control(f->opcode)) {
    /* Allowed between fragments (§5.4); they do not touch the message. */
    if (f->opcode == MOSS_WS_OP_CLOSE) {
      uint16_t code;
      struct moss_str reason;
      if ((rc = moss_ws_parse_close(f->payload, n, &code, &reason)) < 0)
        return rc;
    }
    return MOSS_WS_MSG_CONTROL;
  }

  if (f->opcode == MOSS_WS_OP_CONT) {
    if (!m->in_msg_)
      return MOSS_ERR_PROTO;
  } else {
    if (m->in_msg_)
      return MOSS_ERR_PROTO;
    m->opcode = f->opcode;
    m->fill_ = 0;
    memset(&m->utf8_, 0, sizeof(m->utf8_));
    m->data = NULL;
    m->len = 0;
  }
  if (f->payload_len > m->cap || n > m->cap - m->fill_)
    return MOSS_ERR_TOOBIG;
  if ((rc = check_text(m, f->payload, n, f->fin)) < 0)
    return rc;

  if (f->fin && !m->in_msg_) {
    /* Unfragmented: hand out the frame's own payload, no copy. */
    m->data = f->payload;
    m->len = n;
    return MOSS_WS_MSG_DONE;
  }
  if (m->buf == NULL)
    return MOSS_ERR_TOOBIG;
  if (n > 0)
    memcpy(m->buf + m->fill_, f->payload, n);
  m->fill_ += n;
  m->in_msg_ = !f->fin;
  if (!f->fin)
    return MOSS_WS_MSG_MORE;
  m->data = m->buf;
  m->len = m->fill_;
  return MOSS_WS_MSG_DONE;
}

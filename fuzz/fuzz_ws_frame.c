/*
 * libFuzzer target: the WebSocket frame parser and the message assembler,
 * as a server (masked input) or a client (unmasked input).
 *
 * Input: byte 0 picks the role (bit 0) and the message cap; the rest is
 * the byte stream from the peer.  Frames are parsed and fed to the
 * assembler until the stream ends or an error occurs.  Each parsed frame
 * is also re-encoded and parsed again, which must give the same frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moss/err.h"
#include "moss/ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

static void roundtrip(enum moss_ws_role role, const struct moss_ws_frame *f,
                      uint64_t max) {
  /* Re-encode as the peer would have: clients mask. */
  static uint8_t out[MOSS_WS_MAX_HEADER + 4096];
  struct moss_ws_frame g;
  size_t n;
  const uint8_t *mask = role == MOSS_WS_SERVER ? f->mask : NULL;
  if (f->payload_len > 4096)
    return;
  check(moss_ws_encode_frame(out, sizeof(out), f->fin, f->opcode, f->payload,
                             (size_t)f->payload_len, mask, &n) == 0);
  check(moss_ws_parse_frame(role, out, n, max, &g) == (int)n);
  check(g.fin == f->fin && g.opcode == f->opcode &&
        g.payload_len == f->payload_len);
  check(g.payload_len == 0 ||
        memcmp(g.payload, f->payload, (size_t)g.payload_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t caps[] = {0, 1, 16, 125, 126, 4096};
  uint8_t msgbuf[4096];
  struct moss_ws_msg m;
  enum moss_ws_role role;
  size_t cap, off = 0;
  uint8_t *buf;

  if (size < 1)
    return 0;
  role = (data[0] & 1) ? MOSS_WS_CLIENT : MOSS_WS_SERVER;
  cap = caps[(data[0] >> 1) % (sizeof(caps) / sizeof(caps[0]))];
  data++;
  size--;
  buf = malloc(size ? size : 1);
  if (buf == NULL)
    return 0;
  memcpy(buf, data, size);
  moss_ws_msg_init(&m, msgbuf, cap);

  while (off < size) {
    struct moss_ws_frame f;
    /* A frame cut one byte short needs more (checked before the real
     * parse, which unmasks in place). */
    int h = moss_ws_parse_header(role, buf + off, size - off, cap, &f);
    if (h > 0 && f.header_len + f.payload_len <= size - off)
      check(moss_ws_parse_frame(role, buf + off,
                                (size_t)(f.header_len + f.payload_len) - 1, cap,
                                &f) == 0);
    int n = moss_ws_parse_frame(role, buf + off, size - off, cap, &f);
    if (n <= 0) {
      if (n < 0) {
        uint16_t cc = moss_ws_close_code_for(n);
        check(cc == 1002 || cc == 1009);
      }
      break;
    }
    check((size_t)n <= size - off &&
          f.header_len + f.payload_len == (uint64_t)n);
    check(f.payload_len <= cap);
    roundtrip(role, &f, cap);
    int ev = moss_ws_msg_feed(&m, &f);
    if (ev < 0) {
      uint16_t cc = moss_ws_close_code_for(ev);
      check(cc == 1002 || cc == 1007 || cc == 1009);
      break;
    }
    if (ev == MOSS_WS_MSG_DONE) {
      check(m.len <= cap);
      if (m.opcode == MOSS_WS_OP_TEXT) {
        struct moss_ws_utf8 u = {0, 0, 0};
        check(moss_ws_utf8_feed(&u, m.data, m.len) &&
              moss_ws_utf8_complete(&u));
      }
    } else if (ev == MOSS_WS_MSG_CONTROL && f.opcode == MOSS_WS_OP_CLOSE) {
      uint16_t code;
      struct moss_str reason;
      check(moss_ws_parse_close(f.payload, (size_t)f.payload_len, &code,
                                &reason) == 0);
      check(code == 1005 || moss_ws_close_code_valid(code));
    }
    off += (size_t)n;
  }
  free(buf);
  return 0;
}

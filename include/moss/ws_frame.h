/*
 * moss/ws_frame.h - WebSocket (RFC 6455): opening-handshake checks, frame
 * parser and encoder, message assembler.  Pure: no I/O, no heap; the
 * caller owns every buffer.
 *
 * Server use (the /rpc endpoint, rpc.md §2.3):
 *
 *   1. After moss_http_parse_request, moss_ws_check_handshake(&req, &hs);
 *      on error answer hs.status (400, or 426 with the header
 *      "Sec-WebSocket-Version: 13"); on success write the 101 reply with
 *      moss_ws_write_handshake_response.
 *   2. For every received byte run: moss_ws_parse_frame(MOSS_WS_SERVER,
 *      buf, len, max, &f) -> >0 a whole frame of that many bytes (payload
 *      unmasked in place), 0 need more, <0 fail the connection with close
 *      code moss_ws_close_code_for(err).
 *   3. Feed each frame to moss_ws_msg_feed (struct moss_ws_msg: caller
 *      buffer for fragmented messages): it enforces the fragmentation
 *      rules, the size cap and UTF-8 of text, and says whether a message
 *      is complete or the frame was a control frame to answer.
 *   4. Replies: moss_ws_encode_frame with mask NULL (server) or a fresh
 *      random mask key (client; the caller draws it from its RNG).
 *
 * Errors are enum moss_err values; moss_ws_close_code_for maps them to the
 * close code to send: MOSS_ERR_PROTO 1002, MOSS_ERR_PARSE 1007 (invalid
 * UTF-8), MOSS_ERR_TOOBIG 1009, anything else 1011.
 */
#ifndef MOSS_WS_FRAME_H
#define MOSS_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/http_parse.h"
#include "moss/util.h"

#define MOSS_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Sec-WebSocket-Key: base64 of 16 bytes; Sec-WebSocket-Accept: base64 of a
 * SHA-1 (20 bytes).  Lengths without the NUL. */
#define MOSS_WS_KEY_LEN 24
#define MOSS_WS_ACCEPT_LEN 28
/* Largest frame header: 2 + 8 (64-bit length) + 4 (mask key). */
#define MOSS_WS_MAX_HEADER 14
/* Control frames carry at most 125 bytes (RFC 6455 §5.5). */
#define MOSS_WS_MAX_CONTROL 125
/* The subprotocol moss speaks and echoes (rpc.md §2.3). */
#define MOSS_WS_SUBPROTOCOL "json-rpc"

enum moss_ws_opcode {
  MOSS_WS_OP_CONT = 0x0,
  MOSS_WS_OP_TEXT = 0x1,
  MOSS_WS_OP_BINARY = 0x2,
  MOSS_WS_OP_CLOSE = 0x8,
  MOSS_WS_OP_PING = 0x9,
  MOSS_WS_OP_PONG = 0xA,
};

/* Close codes (RFC 6455 §7.4.1) moss sends or names. */
enum moss_ws_close {
  MOSS_WS_CLOSE_NORMAL = 1000,
  MOSS_WS_CLOSE_GOING_AWAY = 1001,
  MOSS_WS_CLOSE_PROTOCOL = 1002,
  MOSS_WS_CLOSE_UNSUPPORTED = 1003,
  MOSS_WS_CLOSE_NO_STATUS = 1005, /* never on the wire */
  MOSS_WS_CLOSE_ABNORMAL = 1006,  /* never on the wire */
  MOSS_WS_CLOSE_INVALID_DATA = 1007,
  MOSS_WS_CLOSE_POLICY = 1008,
  MOSS_WS_CLOSE_TOO_BIG = 1009,
  MOSS_WS_CLOSE_MANDATORY_EXT = 1010,
  MOSS_WS_CLOSE_INTERNAL = 1011,
};

enum moss_ws_role {
  MOSS_WS_SERVER, /* receives masked frames, sends unmasked */
  MOSS_WS_CLIENT, /* receives unmasked frames, sends masked */
};

/* ---- opening handshake ------------------------------------------------ */

/* Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2: base64(SHA-1(key +
 * GUID))).  out receives MOSS_WS_ACCEPT_LEN chars and a NUL.  The key is
 * used as sent (not decoded).  MOSS_ERR_INVAL for a key longer than 64
 * bytes, MOSS_ERR_CRYPTO if SHA-1 fails. */
int moss_ws_accept_key(struct moss_str key, char out[MOSS_WS_ACCEPT_LEN + 1]);

struct moss_ws_handshake {
  struct moss_str key; /* view into the request's buffer */
  bool json_rpc;       /* client offered "json-rpc": echo it */
  int status;          /* on error: HTTP status to answer */
};

/* Validates a client's opening handshake (RFC 6455 §4.2.1) from a parsed
 * request: GET, HTTP/1.1 or later, Upgrade lists websocket, Connection
 * lists upgrade, exactly one Sec-WebSocket-Key that is base64 of 16 bytes,
 * Sec-WebSocket-Version 13.  The path is the caller's business.  hs->key
 * views req's buffer (same lifetime).  Errors: MOSS_ERR_PARSE with
 * hs->status 400, or MOSS_ERR_NOTSUP with hs->status 426 for another
 * version (answer with "Sec-WebSocket-Version: 13"). */
int moss_ws_check_handshake(const struct moss_http_req *req,
                            struct moss_ws_handshake *hs);

/* Writes the whole 101 Switching Protocols head (Upgrade, Connection,
 * Sec-WebSocket-Accept, and Sec-WebSocket-Protocol: json-rpc when
 * hs->json_rpc) into r, which the caller has not initialised; then
 * finishes it.  Returns moss_http_resp_finish's result. */
int moss_ws_write_handshake_response(struct moss_http_resp *r, char *buf,
                                     size_t cap,
                                     const struct moss_ws_handshake *hs);

/* ---- frames ------------------------------------------------------------ */

struct moss_ws_frame {
  bool fin;
  uint8_t opcode; /* enum moss_ws_opcode */
  bool masked;
  uint8_t mask[4];   /* valid when masked */
  size_t header_len; /* 2..MOSS_WS_MAX_HEADER */
  uint64_t payload_len;
  uint8_t *payload; /* moss_ws_parse_frame only: into the caller's buf */
};

/* Parses a frame header from buf[0..len).  >0: header length, *f filled
 * (except payload); 0: need more; <0: MOSS_ERR_PROTO (RSV bits set,
 * reserved opcode, wrong mask bit for role, 64-bit length with the top bit
 * set, control frame fragmented or longer than 125) or MOSS_ERR_TOOBIG
 * (payload_len > max_payload).  Errors are found as soon as the bytes that
 * show them arrive. */
int moss_ws_parse_header(enum moss_ws_role role, const uint8_t *buf, size_t len,
                         uint64_t max_payload, struct moss_ws_frame *f);

/* Parses a whole frame: as moss_ws_parse_header, but returns >0 only when
 * header and payload are all in buf (the return value is their total
 * length), and then unmasks the payload in place and sets f->payload to
 * it (a view into buf, valid while buf is).  Because the whole frame must
 * fit in the caller's buffer, max_payload is at most that buffer's size
 * minus MOSS_WS_MAX_HEADER, and at most INT_MAX - MOSS_WS_MAX_HEADER. */
int moss_ws_parse_frame(enum moss_ws_role role, uint8_t *buf, size_t len,
                        uint64_t max_payload, struct moss_ws_frame *f);

/* XORs p[0..n) with the mask key, offset = position of p[0] within the
 * payload (for unmasking a payload in pieces).  Masking is its own
 * inverse. */
void moss_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* Writes a frame header for a payload of len bytes: unmasked when mask is
 * NULL (server), else with that mask key (client).  *olen = header
 * length.  MOSS_ERR_INVAL for an invalid opcode or a control frame that
 * is fragmented or longer than 125; MOSS_ERR_TOOBIG when out is too
 * small. */
int moss_ws_encode_header(uint8_t *out, size_t outsz, bool fin, unsigned opcode,
                          uint64_t len, const uint8_t *mask, size_t *olen);

/* Writes a whole frame (header + payload, masked when mask != NULL) into
 * out; payload may not overlap out.  Errors as moss_ws_encode_header. */
int moss_ws_encode_frame(uint8_t *out, size_t outsz, bool fin, unsigned opcode,
                         const void *payload, size_t len, const uint8_t *mask,
                         size_t *olen);

/* Writes a close frame with code and reason (reason.len <= 123).  code 0
 * sends an empty close payload.  Errors as moss_ws_encode_header. */
int moss_ws_encode_close(uint8_t *out, size_t outsz, uint16_t code,
                         struct moss_str reason, const uint8_t *mask,
                         size_t *olen);

/* ---- close payloads, UTF-8 ------------------------------------------- */

/* True for codes a peer may send (RFC 6455 §7.4): 1000-1003, 1007-1011,
 * 3000-4999.  1004-1006, 1015 and everything else are refused. */
bool moss_ws_close_code_valid(unsigned code);

/* Parses a close frame payload.  Empty: *code = 1005 (no status),
 * *reason empty.  Else: *code and *reason (view into p).  Errors:
 * MOSS_ERR_PROTO (1 byte, or an invalid code), MOSS_ERR_PARSE (reason
 * not UTF-8). */
int moss_ws_parse_close(const uint8_t *p, size_t n, uint16_t *code,
                        struct moss_str *reason);

/* Close code to send for an error from this module (see the top). */
uint16_t moss_ws_close_code_for(int err);

/* Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), for text split over fragments. */
struct moss_ws_utf8 {
  uint8_t need;   /* continuation bytes still expected */
  uint8_t lo, hi; /* allowed range of the next continuation byte */
};
/* Returns false as soon as p cannot be part of valid UTF-8 (fail fast,
 * RFC 6455 §8.1). */
bool moss_ws_utf8_feed(struct moss_ws_utf8 *u, const uint8_t *p, size_t n);
/* True if the bytes fed so far end on a character boundary. */
bool moss_ws_utf8_complete(const struct moss_ws_utf8 *u);

/* ---- message assembly -------------------------------------------------- */

/* Caller-owned assembler state.  buf (cap bytes) holds a fragmented
 * message while it arrives; cap is also the message size limit. */
struct moss_ws_msg {
  uint8_t *buf;
  size_t cap;
  /* The message when moss_ws_msg_feed returned MOSS_WS_MSG_DONE: opcode
   * TEXT or BINARY, data/len.  data points either into buf or, for an
   * unfragmented message, straight at the frame's payload (no copy), so it
   * is valid until the next feed or until the frame's buffer changes. */
  uint8_t opcode;
  const uint8_t *data;
  size_t len;
  /* Private. */
  bool in_msg_;
  size_t fill_;
  struct moss_ws_utf8 utf8_;
};

enum moss_ws_msg_event {
  MOSS_WS_MSG_MORE = 0,    /* a fragment was stored; message not done */
  MOSS_WS_MSG_DONE = 1,    /* a data message is complete (see above) */
  MOSS_WS_MSG_CONTROL = 2, /* a valid control frame: the caller answers
                            * ping with pong, close with close; for close,
                            * code/reason come from moss_ws_parse_close */
};

/* buf may be NULL with cap giving only the limit, if the caller never
 * accepts fragmented messages (a fragment then fails with TOOBIG).
 * Cannot fail. */
void moss_ws_msg_init(struct moss_ws_msg *m, uint8_t *buf, size_t cap);

/* Takes one parsed frame (from moss_ws_parse_frame).  Returns an enum
 * moss_ws_msg_event, or MOSS_ERR_PROTO (continuation without a start, new
 * data frame inside a fragmented message, bad close payload),
 * MOSS_ERR_TOOBIG (message over cap), MOSS_ERR_PARSE (text or close reason
 * not UTF-8).  After an error the connection must be failed; the state is
 * not meant to be reused. */
int moss_ws_msg_feed(struct moss_ws_msg *m, const struct moss_ws_frame *f);

#endif

/*
 * HTTP/1.1 + WebSocket server over the conn API.  See moss/http_server.h.
 *
 * Per connection state machine:
 *
 *   HEAD ──request complete──> WAIT (handler owes a reply; input paused)
 *     ^                          │ reply()           │ reply_stream()
 *     └──────── keep-alive ──────┤                   v
 *                                │                 STREAM (body pumped on
 *                                │                  on_sent) ──┐
 *                                │ ws_upgrade()                 │
 *                                v                              │
 *                               WS (frames until close)         │
 *   any ──error / close──> CLOSING  <─────── not keep-alive ────┘
 *
 * Request bytes are never copied: they stay in the conn's receive buffer
 * (capped at head + body limits) until the handler returns.
 */
#include "moss/http_server.h"

#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/ws_frame.h"

static const char *TAG = "http";

enum hstate { HS_HEAD, HS_WAIT, HS_STREAM, HS_WS, HS_CLOSING };

struct moss_http_server {
  struct moss_ev *ev;
  struct moss_conn *listener;
  struct moss_http_server_cfg cfg;
  struct moss_http_conn *conns; /* all open connections */
  uint32_t nconns;
};

/* A fragmented WebSocket message being assembled: exists only from its
 * first frame to its last. */
struct ws_frag {
  struct moss_ws_msg msg;
  uint8_t buf[]; /* cfg.max_ws_msg bytes */
};

/* Kept small: an idle connection holds one of these for its whole life
 * (80 B with the heap's per-block cost, see docs/performance.md). */
struct moss_http_conn {
  struct moss_http_server *srv;
  struct moss_conn *c;
  void *user;
  struct moss_http_conn *next; /* srv->conns; unlinked by a walk (short) */
  uint8_t state;
  bool keep_alive;
  bool close_after;
  bool sent_continue;
  bool is_head; /* HEAD request: reply without the body */
  bool is_ws;   /* upgraded: u.ws is the live member, for good */
  /* A connection streams replies or speaks WebSocket, never both. */
  union {
    struct { /* HS_STREAM; read == NULL otherwise */
      moss_http_body_fn *read;
      moss_http_body_done_fn *done;
      void *ctx;
      uint64_t left;
    } st;
    struct { /* is_ws */
      const struct moss_http_ws_handlers *wsh;
      struct ws_frag *frag; /* NULL between messages */
    } ws;
  } u;
};

/* ---- helpers ------------------------------------------------------------- */

static void finish_request(struct moss_http_conn *hc) {
  if (hc->close_after || !hc->keep_alive) {
    hc->state = HS_CLOSING;
    moss_conn_close(hc->c);
    return;
  }
  hc->state = HS_HEAD;
  hc->sent_continue = false;
  moss_conn_resume(hc->c); /* re-offers any pipelined request */
}

static void stream_end(struct moss_http_conn *hc) {
  if (hc->is_ws)
    return; /* u.st is not the live member */
  if (hc->u.st.done != NULL)
    hc->u.st.done(hc->u.st.ctx);
  hc->u.st.done = NULL;
  hc->u.st.read = NULL;
  hc->u.st.ctx = NULL;
}

/* What a connection holds besides itself, on its way out. */
static void conn_release(struct moss_http_conn *hc) {
  if (hc->is_ws) {
    moss_free(hc->u.ws.frag);
    hc->u.ws.frag = NULL;
  } else {
    stream_end(hc);
  }
}

/* Pushes streamed body while the socket takes it. */
static void pump(struct moss_http_conn *hc) {
  uint8_t chunk[MOSS_HTTP_STREAM_CHUNK];
  while (hc->state == HS_STREAM) {
    if (hc->u.st.left == 0) {
      stream_end(hc);
      finish_request(hc);
      return;
    }
    if (moss_conn_send_space(hc->c) < sizeof(chunk))
      return; /* on_sent */
    uint64_t left = hc->u.st.left;
    size_t want = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
    long n = hc->u.st.read(hc->u.st.ctx, chunk, want);
    if (n <= 0) {
      /* The source ended before Content-Length: the peer cannot tell a
       * short body from a slow one, so the connection must go. */
      MOSS_LOG_E(TAG, "reply body ended %llu bytes early",
                 (unsigned long long)hc->u.st.left);
      stream_end(hc);
      hc->state = HS_CLOSING;
      moss_conn_abort(hc->c);
      return;
    }
    if ((size_t)n > want)
      n = (long)want;
    if (moss_conn_send(hc->c, chunk, (size_t)n) != MOSS_OK) {
      stream_end(hc);
      hc->state = HS_CLOSING;
      moss_conn_abort(hc->c);
      return;
    }
    hc->u.st.left -= (uint64_t)n;
  }
}

/* Replies whose head and body together fit this stack buffer go out in
 * one send: with TCP_NODELAY two sends are two segments and two wake-ups
 * of the client, which doubled the latency of small RPC replies. */
#define ONE_SEND_MAX 2048

/* Sends the head, followed in the same send by body when body is not
 * NULL (the caller checked that head + body fit ONE_SEND_MAX). */
static int send_head_body(struct moss_http_conn *hc, int status,
                          const char *extra, uint64_t clen, bool close_after,
                          const void *body) {
  char head[ONE_SEND_MAX];
  struct moss_http_resp r;
  /* Leave room for the body in the same buffer. */
  size_t room = body != NULL ? sizeof(head) - (size_t)clen : 1024;
  moss_http_resp_init(&r, head, room, status, NULL);
  moss_http_resp_content_length(&r, clen);
  if (close_after || !hc->keep_alive)
    moss_http_resp_header(&r, "Connection", "close");
  if (extra != NULL)
    moss_http_resp_raw(&r, moss_str_c(extra));
  int rc = moss_http_resp_finish(&r);
  if (rc != MOSS_OK)
    return rc;
  size_t n = r.len;
  if (body != NULL) {
    memcpy(head + n, body, (size_t)clen);
    n += (size_t)clen;
  }
  return moss_conn_send(hc->c, head, n);
}

static int send_head(struct moss_http_conn *hc, int status, const char *extra,
                     uint64_t clen, bool close_after) {
  return send_head_body(hc, status, extra, clen, close_after, NULL);
}

/* A copy of a reply body too large for the send buffer, streamed out. */
struct membody {
  uint8_t *p;
  size_t len, off;
};

static long membody_read(void *ctx, uint8_t *buf, size_t cap) {
  struct membody *m = ctx;
  size_t n = m->len - m->off < cap ? m->len - m->off : cap;
  memcpy(buf, m->p + m->off, n);
  m->off += n;
  return (long)n;
}

static void membody_done(void *ctx) {
  moss_free(ctx);
}

/* ---- replies ---------------------------------------------------------------
 */

int moss_http_reply(struct moss_http_conn *hc, int status, const char *extra,
                    const void *body, size_t len, bool close_after) {
  if (hc->state != HS_WAIT)
    return MOSS_ERR_CLOSED;
  hc->close_after = hc->close_after || close_after;
  if (!hc->is_head && len > 0 && len <= ONE_SEND_MAX / 2 &&
      moss_conn_send_space(hc->c) >= ONE_SEND_MAX) {
    int rc1 = send_head_body(hc, status, extra, len, hc->close_after, body);
    if (rc1 == MOSS_OK) {
      finish_request(hc);
      return MOSS_OK;
    }
    /* head too long for the shared buffer: fall back to two sends */
  }
  int rc = send_head(hc, status, extra, len, hc->close_after);
  if (rc != MOSS_OK) {
    hc->state = HS_CLOSING;
    moss_conn_abort(hc->c);
    return rc;
  }
  if (hc->is_head)
    len = 0;
  if (len > 0 && moss_conn_send_space(hc->c) >= len) {
    rc = moss_conn_send(hc->c, body, len);
    if (rc != MOSS_OK) {
      hc->state = HS_CLOSING;
      moss_conn_abort(hc->c);
      return rc;
    }
  } else if (len > 0) {
    struct membody *m = moss_alloc(MOSS_SUB_HTTP, sizeof(*m) + len);
    if (m == NULL) {
      hc->state = HS_CLOSING;
      moss_conn_abort(hc->c);
      return MOSS_ERR_NOMEM;
    }
    m->p = (uint8_t *)(m + 1);
    memcpy(m->p, body, len);
    m->len = len;
    m->off = 0;
    hc->u.st.read = membody_read;
    hc->u.st.done = membody_done;
    hc->u.st.ctx = m;
    hc->u.st.left = len;
    hc->state = HS_STREAM;
    pump(hc);
    return MOSS_OK;
  }
  finish_request(hc);
  return MOSS_OK;
}

int moss_http_reply_text(struct moss_http_conn *hc, int status,
                         const char *text) {
  char body[256];
  int n = snprintf(body, sizeof(body), "%s\r\n", text);
  size_t len = n < 0 ? 0 : MOSS_MIN((size_t)n, sizeof(body) - 1);
  return moss_http_reply(hc, status, "Content-Type: text/plain\r\n", body, len,
                         false);
}

int moss_http_reply_stream(struct moss_http_conn *hc, int status,
                           const char *extra, uint64_t content_length,
                           moss_http_body_fn *read,
                           moss_http_body_done_fn *done, void *ctx) {
  if (hc->state != HS_WAIT) {
    if (done != NULL)
      done(ctx);
    return MOSS_ERR_CLOSED;
  }
  int rc = send_head(hc, status, extra, content_length, hc->close_after);
  hc->u.st.read = read;
  hc->u.st.done = done;
  hc->u.st.ctx = ctx;
  hc->u.st.left = hc->is_head ? 0 : content_length;
  if (rc != MOSS_OK) {
    stream_end(hc);
    hc->state = HS_CLOSING;
    moss_conn_abort(hc->c);
    return rc;
  }
  hc->state = HS_STREAM;
  pump(hc);
  return MOSS_OK;
}

static void reply_error(struct moss_http_conn *hc, int status) {
  const char *text = moss_http_status_text(status);
  char body[128];
  int n = snprintf(body, sizeof(body), "%s\r\n", text);
  hc->state = HS_WAIT;
  moss_http_reply(hc, status, "Content-Type: text/plain\r\n", body, (size_t)n,
                  true);
}

/* ---- WebSocket -------------------------------------------------------------
 */

static void ws_fail(struct moss_http_conn *hc, uint16_t code) {
  uint8_t out[16];
  size_t olen;
  if (moss_ws_encode_close(out, sizeof(out), code, MOSS_STR_NULL, NULL,
                           &olen) == MOSS_OK)
    moss_conn_send(hc->c, out, olen);
  hc->state = HS_CLOSING;
  moss_conn_close(hc->c);
}

int moss_http_ws_upgrade(struct moss_http_conn *hc,
                         const struct moss_http_req *req,
                         const struct moss_http_ws_handlers *h) {
  if (hc->state != HS_WAIT)
    return MOSS_ERR_CLOSED;
  struct moss_ws_handshake hs;
  int rc = moss_ws_check_handshake(req, &hs);
  if (rc != MOSS_OK) {
    const char *extra =
        hs.status == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL;
    moss_http_reply(hc, hs.status, extra, NULL, 0, true);
    return rc;
  }
  char head[512];
  struct moss_http_resp r;
  rc = moss_ws_write_handshake_response(&r, head, sizeof(head), &hs);
  if (rc == MOSS_OK)
    rc = moss_conn_send(hc->c, head, r.len);
  if (rc != MOSS_OK) {
    hc->state = HS_CLOSING;
    moss_conn_abort(hc->c);
    return rc;
  }
  /* Nothing streams in HS_WAIT (u.st.read/done are NULL): u.ws takes
   * over the union for the rest of the connection. */
  hc->is_ws = true;
  hc->u.ws.wsh = h;
  hc->u.ws.frag = NULL;
  hc->state = HS_WS;
  moss_conn_set_idle_timeout(hc->c, 0); /* WS channels idle for long */
  moss_conn_resume(hc->c);
  return MOSS_OK;
}

int moss_http_ws_send(struct moss_http_conn *hc, int opcode, const void *data,
                      size_t len) {
  if (hc->state != HS_WS)
    return MOSS_ERR_CLOSED;
  uint8_t hdr[MOSS_WS_MAX_HEADER];
  size_t hl;
  int rc = moss_ws_encode_header(hdr, sizeof(hdr), true, (unsigned)opcode, len,
                                 NULL, &hl);
  if (rc != MOSS_OK)
    return rc;
  if (moss_conn_send_space(hc->c) < hl + len)
    return MOSS_ERR_TOOBIG;
  if (len <= ONE_SEND_MAX - MOSS_WS_MAX_HEADER) {
    /* One send, one segment (see ONE_SEND_MAX). */
    uint8_t frame[ONE_SEND_MAX];
    memcpy(frame, hdr, hl);
    if (len > 0)
      memcpy(frame + hl, data, len);
    return moss_conn_send(hc->c, frame, hl + len);
  }
  rc = moss_conn_send(hc->c, hdr, hl);
  if (rc == MOSS_OK && len > 0)
    rc = moss_conn_send(hc->c, data, len);
  return rc;
}

static void ws_frame(struct moss_http_conn *hc, struct moss_ws_frame *f) {
  size_t cap = hc->srv->cfg.max_ws_msg;
  /* Between messages the assembly state is empty: a fresh one on the
   * stack behaves the same and costs an idle connection nothing. */
  struct moss_ws_msg idle;
  struct moss_ws_msg *m = &idle;
  if (hc->u.ws.frag != NULL) {
    m = &hc->u.ws.frag->msg;
  } else if (!f->fin && f->opcode != MOSS_WS_OP_CONT && f->opcode < 0x8) {
    /* A data frame that starts a fragmented message needs the assembly
     * buffer; it exists only while such a message is arriving. */
    hc->u.ws.frag = moss_alloc(MOSS_SUB_WS, sizeof(struct ws_frag) + cap);
    if (hc->u.ws.frag == NULL) {
      ws_fail(hc, MOSS_WS_CLOSE_TOO_BIG);
      return;
    }
    m = &hc->u.ws.frag->msg;
    moss_ws_msg_init(m, hc->u.ws.frag->buf, cap);
  } else {
    moss_ws_msg_init(m, NULL, cap);
  }
  int ev = moss_ws_msg_feed(m, f);
  if (ev < 0) {
    MOSS_LOG_W(TAG, "websocket: %s, closing", moss_strerror(ev));
    ws_fail(hc, moss_ws_close_code_for(ev));
    return;
  }
  if (ev == MOSS_WS_MSG_DONE) {
    if (hc->u.ws.wsh->on_message != NULL)
      hc->u.ws.wsh->on_message(hc, m->opcode, m->data, m->len);
    if (hc->u.ws.frag != NULL && !hc->u.ws.frag->msg.in_msg_) {
      moss_free(hc->u.ws.frag);
      hc->u.ws.frag = NULL;
    }
  } else if (ev == MOSS_WS_MSG_CONTROL) {
    if (f->opcode == MOSS_WS_OP_PING) {
      moss_http_ws_send(hc, MOSS_WS_OP_PONG, f->payload,
                        (size_t)f->payload_len);
    } else if (f->opcode == MOSS_WS_OP_CLOSE) {
      uint16_t code;
      struct moss_str reason;
      if (moss_ws_parse_close(f->payload, (size_t)f->payload_len, &code,
                              &reason) != MOSS_OK ||
          code == MOSS_WS_CLOSE_NO_STATUS)
        code = MOSS_WS_CLOSE_NORMAL;
      ws_fail(hc, code); /* echo the close, then close */
    }
  }
}

static long ws_data(struct moss_http_conn *hc, const uint8_t *data,
                    size_t len) {
  size_t off = 0;
  while (hc->state == HS_WS && off < len) {
    struct moss_ws_frame f;
    int rc = moss_ws_parse_header(MOSS_WS_SERVER, data + off, len - off,
                                  hc->srv->cfg.max_ws_msg, &f);
    if (rc == 0)
      break;
    if (rc < 0) {
      ws_fail(hc, moss_ws_close_code_for(rc));
      break;
    }
    size_t total = f.header_len + (size_t)f.payload_len;
    if (len - off < total)
      break; /* whole frame not here yet */
    /* Unmask into a private copy: the receive buffer is read-only. */
    uint8_t small[128];
    uint8_t *p = f.payload_len <= sizeof(small)
                     ? small
                     : moss_alloc(MOSS_SUB_WS, (size_t)f.payload_len);
    if (p == NULL) {
      ws_fail(hc, MOSS_WS_CLOSE_TOO_BIG);
      break;
    }
    memcpy(p, data + off + f.header_len, (size_t)f.payload_len);
    if (f.masked)
      moss_ws_mask(p, (size_t)f.payload_len, f.mask, 0);
    f.payload = p;
    off += total;
    ws_frame(hc, &f);
    if (p != small)
      moss_free(p);
  }
  return (long)off;
}

/* ---- connection callbacks
 * ---------------------------------------------------- */

static long on_data(struct moss_conn *c, const uint8_t *data, size_t len) {
  struct moss_http_conn *hc = moss_conn_user(c);
  if (hc->state == HS_WS)
    return ws_data(hc, data, len);
  if (hc->state != HS_HEAD) {
    moss_conn_pause(c); /* hold pipelined bytes until the reply is out */
    return 0;
  }
  struct moss_http_header hdrs[MOSS_HTTP_MAX_HEADERS];
  struct moss_http_req req;
  moss_http_req_init(&req, hdrs, MOSS_HTTP_MAX_HEADERS);
  int rc = moss_http_parse_request(&req, (const char *)data, len);
  if (rc == 0)
    return 0;
  if (rc < 0) {
    MOSS_LOG_W(TAG, "bad request: %d %s", req.status,
               moss_http_status_text(req.status));
    reply_error(hc, req.status ? req.status : 400);
    return (long)len;
  }
  size_t head = (size_t)rc;
  if (req.has_content_length && req.content_length > hc->srv->cfg.max_body) {
    reply_error(hc, 413);
    return (long)len;
  }
  size_t clen = (size_t)req.content_length;
  if (len - head < clen) {
    if (req.expect_continue && !hc->sent_continue) {
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      moss_conn_send(c, cont, sizeof(cont) - 1);
      hc->sent_continue = true;
    }
    return 0; /* body still arriving (the conn keeps what we have) */
  }
  char m[16], uri[128];
  moss_str_copy(m, sizeof(m), req.method);
  moss_log_sanitize(uri, sizeof(uri), req.target.buf, req.target.len);
  MOSS_LOG_I(TAG, "%s %s", m, uri);
  hc->keep_alive = req.keep_alive;
  hc->is_head = moss_str_eq_c(req.method, "HEAD");
  hc->close_after = false;
  hc->state = HS_WAIT;
  struct moss_str body = {(const char *)data + head, clen};
  hc->srv->cfg.handler(hc->srv->cfg.arg, hc, &req, body);
  return (long)(head + clen);
}

static void on_sent(struct moss_conn *c) {
  struct moss_http_conn *hc = moss_conn_user(c);
  if (hc != NULL && hc->state == HS_STREAM)
    pump(hc);
}

static void on_close(struct moss_conn *c, int reason) {
  (void)reason;
  struct moss_http_conn *hc = moss_conn_user(c);
  if (moss_conn_is_listener(c) || hc == NULL)
    return;
  if (hc->state == HS_WS && hc->u.ws.wsh != NULL &&
      hc->u.ws.wsh->on_close != NULL)
    hc->u.ws.wsh->on_close(hc);
  struct moss_http_server *srv = hc->srv;
  if (srv->cfg.on_conn_close != NULL)
    srv->cfg.on_conn_close(srv->cfg.arg, hc);
  conn_release(hc);
  struct moss_http_conn **pp = &srv->conns;
  while (*pp != NULL && *pp != hc)
    pp = &(*pp)->next;
  if (*pp != NULL)
    *pp = hc->next;
  srv->nconns--;
  moss_free(hc);
}

static const struct moss_conn_handlers conn_handlers;

static void on_accept(struct moss_conn *l, struct moss_conn *c) {
  struct moss_http_server *srv = moss_conn_user(l);
  struct moss_http_conn *hc = moss_calloc(MOSS_SUB_HTTP, 1, sizeof(*hc));
  if (hc == NULL) {
    MOSS_LOG_W(TAG, "out of memory: dropping a connection");
    moss_conn_set_user(c, NULL);
    moss_conn_abort(c);
    return;
  }
  hc->srv = srv;
  hc->c = c;
  hc->state = HS_HEAD;
  hc->keep_alive = true;
  hc->next = srv->conns;
  srv->conns = hc;
  srv->nconns++;
  moss_conn_set_user(c, hc);
  moss_conn_set_idle_timeout(c, srv->cfg.idle_timeout_ms);
  char peer[48];
  if (moss_conn_peer(c, peer, sizeof(peer)) == MOSS_OK)
    MOSS_LOG_I(TAG, "HTTP connection from %s", peer);
}

static const struct moss_conn_handlers conn_handlers = {
    .on_accept = on_accept,
    .on_data = on_data,
    .on_sent = on_sent,
    .on_close = on_close,
};

/* ---- server
 * ------------------------------------------------------------------ */

int moss_http_server_start(struct moss_ev *ev,
                           const struct moss_http_server_cfg *cfg,
                           struct moss_http_server **out, char *why,
                           size_t whylen) {
  *out = NULL;
  struct moss_http_server *srv = moss_calloc(MOSS_SUB_HTTP, 1, sizeof(*srv));
  if (srv == NULL)
    return MOSS_ERR_NOMEM;
  srv->ev = ev;
  srv->cfg = *cfg;
  srv->cfg.listen_addr = NULL;
  if (srv->cfg.max_body == 0)
    srv->cfg.max_body = MOSS_HTTP_DEFAULT_MAX_BODY;
  if (srv->cfg.max_ws_msg == 0)
    srv->cfg.max_ws_msg = MOSS_HTTP_DEFAULT_MAX_WS_MSG;
  if (srv->cfg.idle_timeout_ms == 0)
    srv->cfg.idle_timeout_ms = MOSS_HTTP_DEFAULT_IDLE_MS;
  if (srv->cfg.max_conns == 0)
    srv->cfg.max_conns = MOSS_HTTP_DEFAULT_MAX_CONNS;
  struct moss_conn_opts o;
  memset(&o, 0, sizeof(o));
  /* The receive buffer must hold a whole request (head + body) or a
   * whole WebSocket frame; it is only allocated while one arrives. */
  size_t big = srv->cfg.max_body > srv->cfg.max_ws_msg ? srv->cfg.max_body
                                                       : srv->cfg.max_ws_msg;
  o.rx_cap = (uint32_t)(MOSS_HTTP_MAX_HEAD + big + MOSS_WS_MAX_HEADER);
  o.tx_cap = 16384;
  o.max_conns = srv->cfg.max_conns;
  int rc;
  if (cfg->listen != NULL)
    rc = cfg->listen(cfg->listen_arg, ev, cfg->listen_addr, &o, &conn_handlers,
                     srv, &srv->listener, why, whylen);
  else
    rc = moss_conn_listen(ev, cfg->listen_addr, &o, &conn_handlers, srv,
                          &srv->listener, why, whylen);
  if (rc != MOSS_OK) {
    moss_free(srv);
    return rc;
  }
  *out = srv;
  return MOSS_OK;
}

void moss_http_server_stop(struct moss_http_server *srv) {
  if (srv == NULL)
    return;
  /* Detach every connection: their on_close may run later, from the
   * loop, after srv is gone. */
  struct moss_http_conn *hc = srv->conns;
  while (hc != NULL) {
    struct moss_http_conn *next = hc->next;
    if (hc->state == HS_WS && hc->u.ws.wsh && hc->u.ws.wsh->on_close)
      hc->u.ws.wsh->on_close(hc);
    if (hc->is_ws)
      hc->u.ws.wsh = NULL;
    if (srv->cfg.on_conn_close != NULL)
      srv->cfg.on_conn_close(srv->cfg.arg, hc);
    conn_release(hc);
    moss_conn_set_user(hc->c, NULL);
    moss_conn_abort(hc->c);
    moss_free(hc);
    hc = next;
  }
  moss_conn_set_user(srv->listener, NULL);
  moss_conn_abort(srv->listener);
  moss_free(srv);
}

uint16_t moss_http_server_port(const struct moss_http_server *srv) {
  return moss_conn_local_port(srv->listener);
}

uint32_t moss_http_server_conns(const struct moss_http_server *srv) {
  return srv->nconns;
}

void moss_http_close(struct moss_http_conn *hc) {
  hc->state = HS_CLOSING;
  moss_conn_close(hc->c);
}

void *moss_http_conn_user(const struct moss_http_conn *hc) {
  return hc->user;
}

void moss_http_conn_set_user(struct moss_http_conn *hc, void *user) {
  hc->user = user;
}

int moss_http_conn_peer(const struct moss_http_conn *hc, char *buf, size_t n) {
  return moss_conn_peer(hc->c, buf, n);
}

struct moss_http_server *moss_http_conn_server(
    const struct moss_http_conn *hc) {
  return hc->srv;
}

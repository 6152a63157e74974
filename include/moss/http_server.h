/*
 * moss/http_server.h - the device's HTTP/1.1 server with WebSocket
 * upgrade, over the conn API (so TLS stacks under it unseen).
 *
 * The server parses requests (moss/http_parse.h), collects
 * Content-Length bodies, and hands each complete request to one handler
 * function; routing (/rpc, /upload, files) is the handler's business
 * (the device's handler is a router, moss/http_router.h).  The
 * handler answers exactly once, now or later, with moss_http_reply(),
 * moss_http_reply_stream() or moss_http_ws_upgrade().  Until it has, the
 * next pipelined request waits in the connection's buffer.
 *
 * Limits (each a 4xx reply, never a crash or silent drop): head size and
 * header count (431), URI (414), body (413, cfg.max_body), unsupported
 * transfer coding (501), malformed (400).  After an error reply the
 * connection closes.  Keep-alive follows HTTP/1.1 rules; idle keep-alive
 * connections close after cfg.idle_timeout_ms.
 *
 * Memory: an idle connection costs the conn (moss/conn.h) plus one small
 * struct (MOSS_SUB_HTTP); request bytes live in the conn's receive buffer
 * only while a request is arriving; a streamed reply reads its source in
 * MOSS_HTTP_STREAM_CHUNK pieces as the socket drains.
 *
 * Lifecycle: moss_http_server_start() -> connections come and go ->
 * moss_http_server_stop() closes the listener and every connection.
 */
#ifndef MOSS_HTTP_SERVER_H
#define MOSS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/conn.h"
#include "moss/ev.h"
#include "moss/http_parse.h"
#include "moss/util.h"

#define MOSS_HTTP_DEFAULT_MAX_BODY (32u * 1024u)
#define MOSS_HTTP_DEFAULT_MAX_WS_MSG (32u * 1024u)
#define MOSS_HTTP_DEFAULT_IDLE_MS 30000u
#define MOSS_HTTP_DEFAULT_MAX_CONNS 64u
#define MOSS_HTTP_STREAM_CHUNK 1024u

struct moss_http_server;
struct moss_http_conn;

/* One complete request.  Every view (req's strings, body) points into the
 * connection's receive buffer and is valid only during the handler call;
 * an asynchronous handler copies what it needs. */
typedef void moss_http_handler_fn(void *arg, struct moss_http_conn *hc,
                                  const struct moss_http_req *req,
                                  struct moss_str body);

/* Creates a listener for addr ("ip:port", ":port", "port"); NULL
 * (default) uses moss_conn_listen.  The TLS layer provides its own. */
typedef int moss_http_listen_fn(void *arg, struct moss_ev *ev, const char *addr,
                                const struct moss_conn_opts *o,
                                const struct moss_conn_handlers *h, void *user,
                                struct moss_conn **out, char *why,
                                size_t whylen);

/* A connection is going away (any state); its handle dies after this
 * returns.  For handlers that answer asynchronously. */
typedef void moss_http_conn_close_fn(void *arg, struct moss_http_conn *hc);

struct moss_http_server_cfg {
  const char *listen_addr; /* host address to bind (after port mapping) */
  moss_http_handler_fn *handler;
  moss_http_conn_close_fn *on_conn_close; /* may be NULL */
  void *arg;
  size_t max_body;          /* 0: MOSS_HTTP_DEFAULT_MAX_BODY */
  size_t max_ws_msg;        /* 0: MOSS_HTTP_DEFAULT_MAX_WS_MSG */
  uint32_t idle_timeout_ms; /* 0: MOSS_HTTP_DEFAULT_IDLE_MS */
  uint32_t max_conns;       /* 0: MOSS_HTTP_DEFAULT_MAX_CONNS */
  moss_http_listen_fn *listen;
  void *listen_arg;
};

/* Start listening.  cfg is copied (listen_addr is only used here).  On
 * failure why holds the reason ("Address already in use").  Errors of
 * moss_conn_listen, MOSS_ERR_NOMEM. */
int moss_http_server_start(struct moss_ev *ev,
                           const struct moss_http_server_cfg *cfg,
                           struct moss_http_server **out, char *why,
                           size_t whylen);
/* Close the listener and all connections; NULL-safe. */
void moss_http_server_stop(struct moss_http_server *srv);
uint16_t moss_http_server_port(const struct moss_http_server *srv);
/* Open connections (HTTP and WebSocket). */
uint32_t moss_http_server_conns(const struct moss_http_server *srv);

/* ---- replies ---------------------------------------------------------------
 */

/* Send a whole reply.  extra: header lines, each ending in "\r\n" (NULL
 * for none); Content-Length is added; body may be NULL for len 0.  The
 * reply to a HEAD request omits the body.  close_after: close once sent
 * (also done for HTTP/1.0 without keep-alive and after 4xx parse errors).
 * MOSS_ERR_TOOBIG (head too long), MOSS_ERR_CLOSED, MOSS_ERR_NOMEM. */
int moss_http_reply(struct moss_http_conn *hc, int status, const char *extra,
                    const void *body, size_t len, bool close_after);

/* A short text/plain reply ("Not Found"): text + CRLF as the body, at
 * most 255 bytes of it; the connection stays per the request's
 * keep-alive.  Returns as moss_http_reply. */
int moss_http_reply_text(struct moss_http_conn *hc, int status,
                         const char *text);

/* A body produced piecewise: fill up to cap bytes, return the count
 * (>0), 0 at the end, <0 on error (the connection is aborted).  done is
 * called once when the reply is finished or abandoned (NULL ok). */
typedef long moss_http_body_fn(void *ctx, uint8_t *buf, size_t cap);
typedef void moss_http_body_done_fn(void *ctx);
int moss_http_reply_stream(struct moss_http_conn *hc, int status,
                           const char *extra, uint64_t content_length,
                           moss_http_body_fn *read,
                           moss_http_body_done_fn *done, void *ctx);

/* ---- WebSocket ----------------------------------------------------------- */

struct moss_http_ws_handlers {
  /* A complete text or binary message (data valid during the call). */
  void (*on_message)(struct moss_http_conn *hc, int opcode, const uint8_t *data,
                     size_t len);
  /* The connection is going away (after a close frame or an error). */
  void (*on_close)(struct moss_http_conn *hc);
};

/* Answer req with the 101 handshake (or the RFC's 400/426 on a bad
 * handshake, returning MOSS_ERR_PARSE/MOSS_ERR_NOTSUP) and switch the
 * connection to WebSocket; h must outlive it.  Call from the handler. */
int moss_http_ws_upgrade(struct moss_http_conn *hc,
                         const struct moss_http_req *req,
                         const struct moss_http_ws_handlers *h);
/* Send one unfragmented message.  MOSS_ERR_TOOBIG when the send buffer
 * cannot take it now, MOSS_ERR_CLOSED. */
int moss_http_ws_send(struct moss_http_conn *hc, int opcode, const void *data,
                      size_t len);

/* ---- connection ------------------------------------------------------------
 */

void moss_http_close(struct moss_http_conn *hc);
void *moss_http_conn_user(const struct moss_http_conn *hc);
void moss_http_conn_set_user(struct moss_http_conn *hc, void *user);
int moss_http_conn_peer(const struct moss_http_conn *hc, char *buf, size_t n);
struct moss_http_server *moss_http_conn_server(const struct moss_http_conn *hc);

#endif

/*
 * moss/conn.h - byte-stream connections over the event loop: TCP
 * listeners, outgoing TCP, any existing descriptor (a UART PTY), and
 * layers such as TLS stacked on another connection (lwIP altcp model).
 *
 * A struct moss_conn is opaque and owned by its loop.  Every kind of
 * connection has the same API; what differs sits behind a vtable
 * (struct moss_conn_ops, at the end of this header), so an HTTP server
 * cannot tell TCP from TLS.
 *
 * Lifecycle
 *   moss_conn_listen()   listener; each accepted connection is announced
 *                        by on_accept and starts with the listener's
 *                        handlers, user pointer and options.
 *   moss_conn_connect()  outgoing; on_connect when established.
 *   moss_conn_from_fd()  wrap an open descriptor (takes ownership).
 *   moss_conn_close()    flush what was sent, then close (graceful).
 *   moss_conn_abort()    close now, dropping unsent data.
 * Closing is a request: the loop runs on_close (always exactly once, the
 * last callback a connection gets) and frees the connection after the
 * current dispatch step, so calling close or abort from inside any
 * callback is safe and the handle stays valid until on_close returns.
 * After on_close the handle is gone.
 *
 * Callbacks (any may be NULL)
 *   on_accept(l, c)    listener l accepted c; change c's handlers or user
 *                      pointer here.
 *   on_connect(c)      an outgoing connection (or a layer's handshake) is
 *                      established.  A failed connect gets on_error and
 *                      on_close instead.
 *   on_data(c, d, n)   n received bytes at d (valid during the call only).
 *                      Return how many were consumed (0..n); the rest
 *                      stays buffered and is offered again, together with
 *                      new data, on the next call.  While the handler
 *                      consumes something and data remains it is called
 *                      again.  A negative return aborts the connection
 *                      with that reason.
 *   on_sent(c)         bytes queued by moss_conn_send() were written out
 *                      (there is send space again); moss_conn_unsent()
 *                      tells what is left.
 *   on_error(c, err)   the connection failed (err < 0): refused or reset
 *                      (MOSS_ERR_IO), MOSS_ERR_TIMEOUT (connect or idle),
 *                      MOSS_ERR_NOMEM (shed), MOSS_ERR_TOOBIG (a message
 *                      larger than the receive cap).  on_close follows.
 *   on_close(c, why)   MOSS_OK: closed by this side; MOSS_ERR_CLOSED: the
 *                      peer closed or the loop was freed; else the error.
 *
 * Buffers and memory.  An idle connection holds no buffer.  Received
 * bytes the handler did not consume are kept in a receive buffer that is
 * allocated for them and freed as soon as they are consumed; it never
 * grows past rx_cap.  Sent bytes go to the descriptor at once when it
 * accepts them; only the rest is copied into a send buffer (capped at
 * tx_cap) that is freed when it drains.  All of it is counted under
 * MOSS_SUB_CONN.  Out of memory never aborts the process: the connection
 * is shed (closed with MOSS_ERR_NOMEM, logged).
 *
 * Backpressure.  If the application cannot take more input it calls
 * moss_conn_pause(): the connection stops reading (the peer's TCP window
 * fills) and keeps what is buffered; moss_conn_resume() offers the
 * buffered data again (from the loop, not inside the call) and reads on.
 * A full receive buffer while not paused, with the handler consuming
 * nothing, means a message larger than rx_cap: the connection is closed
 * with MOSS_ERR_TOOBIG.
 */
#ifndef MOSS_CONN_H
#define MOSS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/ev.h"

struct moss_conn;

/* Defaults for fields left 0 in moss_conn_opts (documented config). */
#define MOSS_CONN_DEFAULT_RX_CAP 4096u
#define MOSS_CONN_DEFAULT_TX_CAP 8192u
#define MOSS_CONN_DEFAULT_MAX_CONNS 16u
#define MOSS_CONN_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define MOSS_CONN_DEFAULT_BACKLOG 16
/* After a graceful close has flushed, how long to wait for the peer's
 * FIN (reading and discarding) before the descriptor is closed. */
#define MOSS_CONN_LINGER_MS 2000u
/* Bytes read per readiness event (a stack buffer, not heap). */
#define MOSS_CONN_READ_CHUNK 2048u
/* Counted heap bytes of one idle TCP connection, allocator overhead
 * included (asserted by tests/unit/ev). */
#define MOSS_CONN_IDLE_BYTES 176u
/* The poll() backend's descriptor table adds 16 bytes per descriptor,
 * up to twice that while the table has growth slack (epoll: 0). */
#define MOSS_CONN_IDLE_POLL_EXTRA 32u

/* Caller-owned options, copied by the call that takes them. */
struct moss_conn_opts {
  uint32_t rx_cap;             /* 0: MOSS_CONN_DEFAULT_RX_CAP */
  uint32_t tx_cap;             /* 0: MOSS_CONN_DEFAULT_TX_CAP */
  uint32_t max_conns;          /* listeners; 0: MOSS_CONN_DEFAULT_MAX_CONNS */
  uint32_t connect_timeout_ms; /* 0: MOSS_CONN_DEFAULT_CONNECT_TIMEOUT_MS */
  uint32_t idle_timeout_ms;    /* 0: none */
  int backlog;                 /* listeners; 0: MOSS_CONN_DEFAULT_BACKLOG */
  /* Kernel socket buffers (SO_SNDBUF and SO_RCVBUF), 0: OS default.  Small
   * values model the device's lwIP windows (~5.7 KB on ESP32) and make
   * backpressure visible on loopback.  Listeners pass it on. */
  uint32_t sock_buf;
  /* moss_conn_from_fd() on a serial line (a UART's PTY): when a send does
   * not fit because nobody reads the line, the unsent output is dropped
   * (queued and in the port: moss_port_discard_output) to make room for
   * the new, as a UART overruns, instead of refusing the new bytes. */
  bool overrun;
};

typedef void moss_conn_accept_fn(struct moss_conn *l, struct moss_conn *c);
typedef void moss_conn_connect_fn(struct moss_conn *c);
typedef long moss_conn_data_fn(struct moss_conn *c, const uint8_t *data,
                               size_t len);
typedef void moss_conn_sent_fn(struct moss_conn *c);
typedef void moss_conn_error_fn(struct moss_conn *c, int err);
typedef void moss_conn_close_fn(struct moss_conn *c, int reason);

/* Caller-owned, usually `static const`: the connection keeps the pointer,
 * so it must outlive every connection using it. */
struct moss_conn_handlers {
  moss_conn_accept_fn *on_accept;
  moss_conn_connect_fn *on_connect;
  moss_conn_data_fn *on_data;
  moss_conn_sent_fn *on_sent;
  moss_conn_error_fn *on_error;
  moss_conn_close_fn *on_close;
};

/* ---- creating connections --------------------------------------------- */

/* Listen on addr: "ip:port", ":port" or "port" (IPv4; ip may be "*",
 * "0.0.0.0", "localhost"; port 0 picks a free port, see
 * moss_conn_local_port()).  o and user may be NULL.  On failure *out is
 * NULL and, if why is not NULL, why gets a NUL-terminated reason for a
 * message "cannot listen on <addr>: <why>" (e.g. "Address already in
 * use").  Errors: MOSS_ERR_INVAL (bad address), MOSS_ERR_BUSY (in use),
 * MOSS_ERR_PERM (privileged port), MOSS_ERR_NOENT (ip not on this host),
 * MOSS_ERR_NOMEM, MOSS_ERR_NOSPC (max_fds), MOSS_ERR_IO. */
int moss_conn_listen(struct moss_ev *ev, const char *addr,
                     const struct moss_conn_opts *o,
                     const struct moss_conn_handlers *h, void *user,
                     struct moss_conn **out, char *why, size_t whylen);

/* Connect to "ip:port" (IPv4 or "localhost").  Returns MOSS_OK with *out
 * set when the attempt started; the outcome comes as on_connect, or
 * on_error + on_close (refused: MOSS_ERR_IO; no answer within
 * connect_timeout_ms: MOSS_ERR_TIMEOUT).  Data sent before the connection
 * is established is queued.  MOSS_ERR_INVAL, MOSS_ERR_NOMEM,
 * MOSS_ERR_NOSPC, MOSS_ERR_IO. */
int moss_conn_connect(struct moss_ev *ev, const char *addr,
                      const struct moss_conn_opts *o,
                      const struct moss_conn_handlers *h, void *user,
                      struct moss_conn **out);

/* Wrap an open descriptor that is not a TCP socket (PTY, pipe, socket
 * pair).  The connection owns fd from the call on, even on failure (it is
 * then closed).  The descriptor is made non-blocking.  A graceful close
 * flushes and closes (no half-close).  MOSS_ERR_NOMEM, MOSS_ERR_NOSPC,
 * MOSS_ERR_IO. */
int moss_conn_from_fd(struct moss_ev *ev, int fd,
                      const struct moss_conn_opts *o,
                      const struct moss_conn_handlers *h, void *user,
                      struct moss_conn **out);

/* ---- using a connection ------------------------------------------------- */

/* Queue len bytes (copied; data may be reused at once).  All or nothing:
 * MOSS_ERR_TOOBIG if they do not fit the send space (nothing queued, the
 * connection stays open: wait for on_sent), MOSS_ERR_CLOSED after close
 * or abort, MOSS_ERR_NOMEM (the connection is being shed). */
int moss_conn_send(struct moss_conn *c, const void *data, size_t len);
/* Bytes moss_conn_send() would accept now. */
size_t moss_conn_send_space(const struct moss_conn *c);
/* Bytes accepted but not yet handed to the descriptor (or lower layer). */
size_t moss_conn_unsent(const struct moss_conn *c);
/* Bytes received and not yet consumed by on_data. */
size_t moss_conn_rx_pending(const struct moss_conn *c);

void moss_conn_close(struct moss_conn *c);
void moss_conn_abort(struct moss_conn *c);
/* True once close or abort was asked or the connection failed: no more
 * on_data, sends fail. */
bool moss_conn_is_closing(const struct moss_conn *c);

void moss_conn_pause(struct moss_conn *c);
void moss_conn_resume(struct moss_conn *c);
bool moss_conn_is_paused(const struct moss_conn *c);

/* Close with MOSS_ERR_TIMEOUT when nothing was received or sent for ms
 * milliseconds (0 disables).  MOSS_ERR_NOSPC/NOMEM if no timer slot is
 * left (the setting is then not applied). */
int moss_conn_set_idle_timeout(struct moss_conn *c, uint32_t ms);

void *moss_conn_user(const struct moss_conn *c);
void moss_conn_set_user(struct moss_conn *c, void *user);
void moss_conn_set_handlers(struct moss_conn *c,
                            const struct moss_conn_handlers *h);
struct moss_ev *moss_conn_ev(const struct moss_conn *c);
bool moss_conn_is_listener(const struct moss_conn *c);
/* The layer's name: "tcp", "fd", "tls", ... (static storage). */
const char *moss_conn_kind(const struct moss_conn *c);

/* Peer as "a.b.c.d:port" in buf (NUL-terminated; "-" for descriptors
 * without a peer).  MOSS_ERR_TOOBIG if buf is too small (24 is enough). */
int moss_conn_peer(const struct moss_conn *c, char *buf, size_t n);
/* Local port (listeners: the bound port; 0 if none). */
uint16_t moss_conn_local_port(const struct moss_conn *c);
/* Listeners: connections currently open that it accepted. */
uint32_t moss_conn_count(const struct moss_conn *l);

/* Parse "ip:port" / ":port" / "port" (ip defaults to 0.0.0.0).  Pure.
 * MOSS_ERR_INVAL. */
int moss_conn_parse_addr(const char *addr, uint32_t *ip, uint16_t *port);

/* ---- layers (TLS and other transforms) ------------------------------------
 *
 * A layer is a connection whose bytes go through another one (the inner
 * connection), exactly as lwIP's altcp_tls sits on altcp_tcp.  The layer
 * never touches descriptors: it creates its inner connection with this
 * API, installs its own handlers on it, and implements the ops below for
 * the outer connection that the application uses.
 *
 * What a TLS layer does:
 *   - outer = moss_conn_layer_new(ev, &tls_ops, sizeof(state), o, h, user)
 *     with the inner connection's user pointer set to outer;
 *   - inner on_data (ciphertext) -> feed the TLS engine, consume what it
 *     took; plaintext -> moss_conn_layer_deliver(outer, ...), reading at
 *     most moss_conn_layer_rx_space(outer) plaintext bytes per call;
 *     handshake done -> moss_conn_layer_connected(outer);
 *   - ops->send (plaintext) -> encrypt -> moss_conn_send(inner, ...);
 *     inner on_sent -> moss_conn_layer_sent(outer);
 *   - ops->close -> close_notify, moss_conn_close(inner);
 *     ops->abort -> moss_conn_abort(inner);
 *   - inner on_close -> moss_conn_layer_closed(outer, reason);
 *   - ops->destroy frees the TLS context (called once, from the loop,
 *     after on_close of the outer connection).
 *   - listening: a plain listener whose on_accept wraps each inner
 *     connection and announces the outer one with
 *     moss_conn_layer_accepted(outer_listener, outer).
 * Receive buffering, pause/resume, idle timeouts, close ordering and the
 * user-facing callbacks are done by the core for every layer.
 */
struct moss_conn_ops {
  const char *kind;
  /* Take len bytes (all or nothing, as moss_conn_send). */
  int (*send)(struct moss_conn *c, const void *data, size_t len);
  size_t (*send_space)(const struct moss_conn *c);
  size_t (*unsent)(const struct moss_conn *c);
  /* Stop (on = false) or restart reading from below. */
  void (*read_enable)(struct moss_conn *c, bool on);
  /* Graceful close: flush, then call moss_conn_layer_closed(). */
  void (*close)(struct moss_conn *c);
  /* Close at once; moss_conn_layer_closed() may be called or not (the
   * core closes the outer connection with reason MOSS_OK anyway). */
  void (*abort)(struct moss_conn *c);
  /* Release everything the layer holds (called exactly once). */
  void (*destroy)(struct moss_conn *c);
  int (*peer)(const struct moss_conn *c, char *buf, size_t n);
  uint16_t (*local_port)(const struct moss_conn *c);
};

/* A connection of a layer, with state_size bytes of zeroed layer state
 * (moss_conn_layer_state()).  NULL on MOSS_ERR_NOMEM. */
struct moss_conn *moss_conn_layer_new(struct moss_ev *ev,
                                      const struct moss_conn_ops *ops,
                                      size_t state_size,
                                      const struct moss_conn_opts *o,
                                      const struct moss_conn_handlers *h,
                                      void *user);
/* The same for a layer's listener (moss_conn_is_listener() is true,
 * o->max_conns bounds the connections announced through it with
 * moss_conn_layer_accepted()).  NULL on MOSS_ERR_NOMEM. */
struct moss_conn *moss_conn_layer_new_listener(
    struct moss_ev *ev, const struct moss_conn_ops *ops, size_t state_size,
    const struct moss_conn_opts *o, const struct moss_conn_handlers *h,
    void *user);
void *moss_conn_layer_state(struct moss_conn *c);
const void *moss_conn_layer_cstate(const struct moss_conn *c);
/* Bytes moss_conn_layer_deliver() can take now (0 while paused). */
size_t moss_conn_layer_rx_space(const struct moss_conn *c);
/* Hand received bytes to the application (may run on_data).  Returns
 * MOSS_OK, or MOSS_ERR_TOOBIG / MOSS_ERR_NOMEM when the connection had
 * to be closed. */
int moss_conn_layer_deliver(struct moss_conn *c, const void *data, size_t len);
void moss_conn_layer_connected(struct moss_conn *c);
void moss_conn_layer_sent(struct moss_conn *c);
/* The layer is finished; reason as for on_close.  Idempotent. */
void moss_conn_layer_closed(struct moss_conn *c, int reason);
/* Announce an accepted connection of a layered listener. */
void moss_conn_layer_accepted(struct moss_conn *l, struct moss_conn *c);
/* Restart the idle timer (the core does it for deliver and sent). */
void moss_conn_layer_activity(struct moss_conn *c);

/* Port maps (mossd --port-map, http.md §1.1). */
/* Maps a device listen address through a port map: "443" with
 * "443=8443" -> "0.0.0.0:8443"; "127.0.0.1:80" with "80=8000" ->
 * "127.0.0.1:8000"; a map target with an address replaces the address.
 * Unmapped addresses are normalised ("80" -> "0.0.0.0:80", ":443" ->
 * "0.0.0.0:443").  Pure.  MOSS_ERR_INVAL for a bad address or map. */
int moss_conn_map_addr(const char *map, const char *dev_addr, char *out,
                       size_t outsz, bool *mapped);

#endif

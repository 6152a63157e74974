/*
 * The descriptor layer: TCP listeners, TCP streams and wrapped
 * descriptors (PTYs, pipes).  The only layer that touches descriptors;
 * every other layer sits on top of one of these.
 *
 * Send path: bytes go to the descriptor directly while nothing is queued;
 * only what the kernel refuses is copied into the send buffer, which is
 * freed when it drains.  Graceful close: flush, half-close (FIN), read and
 * discard until the peer's FIN or the linger timer, then close - closing
 * with unread input would make the kernel send RST and lose our tail.
 */
#include <stdio.h>
#include <string.h>

#include "conn_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/port.h"

enum {
  TF_SOCK = 1u << 0,    /* recv/send, half-close */
  TF_SHUT = 1u << 1,    /* FIN sent, discarding input until EOF */
  TF_EOF = 1u << 2,     /* peer closed: flush what is queued, then close */
  TF_OVERRUN = 1u << 3, /* serial line: drop old output when full */
};

struct tcp {
  struct ev_watch w; /* first: the poller hands back its address */
  uint8_t *tx;
  uint32_t tx_len, tx_size;
  uint32_t peer_ip;
  uint16_t peer_port;
  uint16_t tflags;
};

static const struct moss_conn_ops tcp_ops, fd_ops, listen_ops;

static struct tcp *T(struct moss_conn *c) {
  return CONN_STATE(c);
}
static const struct tcp *TC(const struct moss_conn *c) {
  return moss_conn_layer_cstate(c);
}

static void update(struct moss_conn *c) {
  struct tcp *t = T(c);
  unsigned want = 0;
  if (c->flags & CF_DEAD)
    return;
  if (c->flags & CF_LISTENER) {
    want = MOSS_EV_READ;
  } else {
    if (c->flags & CF_CLOSING)
      want |= (t->tflags & (TF_SOCK | TF_EOF)) == TF_SOCK ? MOSS_EV_READ
                                                          : 0; /* discard */
    else if (!(c->flags & CF_PAUSED) && !(t->tflags & TF_EOF))
      want |= MOSS_EV_READ;
    if (t->tx_len > 0 || (c->flags & CF_CONNECTING))
      want |= MOSS_EV_WRITE;
  }
  int rc = moss_evi_watch_set(c->ev, &t->w, want);
  if (rc != MOSS_OK)
    moss_conni_fail(c, rc, "shed: cannot watch descriptor");
}

/* Flushed and closing: half-close and wait for the peer, or just end. */
static void finish_close(struct moss_conn *c) {
  struct tcp *t = T(c);
  if (t->tflags & TF_EOF) {
    moss_conn_layer_closed(c,
                           (c->flags & CF_CLOSING) ? MOSS_OK : MOSS_ERR_CLOSED);
    return;
  }
  if (!(t->tflags & TF_SOCK)) {
    moss_conn_layer_closed(c, MOSS_OK);
    return;
  }
  if (!(t->tflags & TF_SHUT)) {
    moss_port_shutdown_wr(t->w.fd);
    t->tflags |= TF_SHUT;
  }
  update(c);
}

static void flush(struct moss_conn *c) {
  struct tcp *t = T(c);
  uint32_t done = 0;
  while (done < t->tx_len) {
    long n = moss_port_write(t->w.fd, t->tflags & TF_SOCK, t->tx + done,
                             t->tx_len - done);
    if (n == MOSS_ERR_AGAIN)
      break;
    if (n <= 0) {
      moss_conni_fail(c, MOSS_ERR_IO, "write failed");
      return;
    }
    done += (uint32_t)n;
  }
  if (done == 0)
    return;
  if (done == t->tx_len) {
    moss_free(t->tx);
    t->tx = NULL;
    t->tx_len = t->tx_size = 0;
  } else {
    memmove(t->tx, t->tx + done, t->tx_len - done);
    t->tx_len -= done;
  }
  update(c);
  moss_conn_layer_sent(c);
  if (c->flags & CF_DEAD)
    return;
  if (t->tx_len == 0 && (c->flags & CF_CLOSING || t->tflags & TF_EOF))
    finish_close(c);
}

static void do_read(struct moss_conn *c) {
  struct tcp *t = T(c);
  uint8_t chunk[MOSS_CONN_READ_CHUNK];
  size_t space = sizeof(chunk);
  if (t->tflags & TF_EOF)
    return;
  if (!(c->flags & CF_CLOSING)) {
    size_t rs = moss_conn_layer_rx_space(c);
    if (rs == 0)
      return;
    if (rs < space)
      space = rs;
  }
  long n = moss_port_read(t->w.fd, t->tflags & TF_SOCK, chunk, space);
  if (n == MOSS_ERR_AGAIN)
    return;
  if (n < 0 && !(t->tflags & TF_SOCK) && (c->flags & CF_CLOSING))
    n = 0; /* a PTY whose other side went away says EIO */
  if (n < 0) {
    if (c->flags & CF_CLOSING)
      moss_conn_layer_closed(c, MOSS_OK);
    else
      moss_conni_fail(c, MOSS_ERR_IO, "read failed");
    return;
  }
  if (n == 0) {
    t->tflags |= TF_EOF;
    if (t->tx_len == 0)
      moss_conn_layer_closed(
          c, (c->flags & CF_CLOSING) ? MOSS_OK : MOSS_ERR_CLOSED);
    else
      update(c); /* the peer may still read: flush the rest, then close */
    return;
  }
  if (c->flags & CF_CLOSING) {
    moss_conn_layer_activity(c); /* discarded, but the peer is alive */
    return;
  }
  moss_conn_layer_deliver(c, chunk, (size_t)n);
}

static void do_accept(struct moss_conn *l);

static void io_cb(struct moss_ev *ev, struct ev_watch *w, unsigned events) {
  struct moss_conn *c = CONN_OF_STATE(w);
  (void)ev;
  if (c->flags & CF_DEAD)
    return;
  if (c->flags & CF_LISTENER) {
    do_accept(c);
    return;
  }
  if (c->flags & CF_CONNECTING) {
    if (!(events & (MOSS_EV_WRITE | MOSS_EV_ERROR)))
      return;
    if (moss_port_sock_error(w->fd) != MOSS_OK) {
      char msg[96];
      snprintf(msg, sizeof(msg), "connect failed: %s", moss_port_last_error());
      moss_conni_fail(c, MOSS_ERR_IO, msg);
      return;
    }
    moss_conn_layer_connected(c);
    if (c->flags & CF_DEAD)
      return;
    update(c);
    events |= MOSS_EV_WRITE;
  }
  if ((events & MOSS_EV_WRITE) && T(c)->tx_len > 0)
    flush(c);
  if (c->flags & CF_DEAD)
    return;
  if (events & (MOSS_EV_READ | MOSS_EV_ERROR))
    do_read(c);
}

/* ---- ops ----------------------------------------------------------------- */

static int tcp_send(struct moss_conn *c, const void *data, size_t len) {
  struct tcp *t = T(c);
  const uint8_t *d = data;
  if (len > c->tx_cap - t->tx_len) {
    if (!(t->tflags & TF_OVERRUN) || len > c->tx_cap)
      return MOSS_ERR_TOOBIG;
    /* Nobody reads the line: drop the old output rather than the new. */
    moss_port_discard_output(t->w.fd);
    t->tx_len = 0;
  }
  if (t->tx_len == 0 && !(c->flags & CF_CONNECTING)) {
    long n = moss_port_write(t->w.fd, t->tflags & TF_SOCK, d, len);
    if (n < 0 && n != MOSS_ERR_AGAIN) {
      moss_conni_fail(c, MOSS_ERR_IO, "write failed");
      return MOSS_ERR_CLOSED;
    }
    if (n > 0) {
      moss_conn_layer_activity(c);
      d += n;
      len -= (size_t)n;
    }
    if (len == 0)
      return MOSS_OK;
  }
  size_t need = t->tx_len + len;
  if (need > t->tx_size) {
    size_t want = t->tx_size * 2;
    if (want < need)
      want = (need + 255) & ~(size_t)255;
    if (want > c->tx_cap)
      want = c->tx_cap;
    uint8_t *nb = t->tx == NULL ? moss_alloc(MOSS_SUB_CONN, want)
                                : moss_realloc(t->tx, want);
    if (nb == NULL) {
      moss_conni_fail(c, MOSS_ERR_NOMEM, "shed: no memory for send buffer");
      return MOSS_ERR_NOMEM;
    }
    t->tx = nb;
    t->tx_size = (uint32_t)want;
  }
  memcpy(t->tx + t->tx_len, d, len);
  t->tx_len = (uint32_t)need;
  update(c);
  return MOSS_OK;
}

static size_t tcp_send_space(const struct moss_conn *c) {
  return c->tx_cap - TC(c)->tx_len;
}

static size_t tcp_unsent(const struct moss_conn *c) {
  return TC(c)->tx_len;
}

static void tcp_read_enable(struct moss_conn *c, bool on) {
  (void)on; /* update() derives the interest from the flags */
  update(c);
}

static void tcp_close(struct moss_conn *c) {
  struct tcp *t = T(c);
  if (c->flags & CF_LISTENER) {
    moss_evi_watch_del(c->ev, &t->w);
    moss_conn_layer_closed(c, MOSS_OK);
    return;
  }
  if (t->tx_len == 0 && !(c->flags & CF_CONNECTING))
    finish_close(c);
  else
    update(c);
}

static void tcp_abort(struct moss_conn *c) {
  moss_evi_watch_del(c->ev, &T(c)->w);
}

static void tcp_destroy(struct moss_conn *c) {
  struct tcp *t = T(c);
  moss_evi_watch_del(c->ev, &t->w);
  moss_port_close(t->w.fd);
  t->w.fd = -1;
  moss_free(t->tx);
  t->tx = NULL;
  t->tx_len = t->tx_size = 0;
}

static int tcp_peer(const struct moss_conn *c, char *buf, size_t n) {
  const struct tcp *t = TC(c);
  int r;
  if (!(t->tflags & TF_SOCK) || (c->flags & CF_LISTENER))
    r = snprintf(buf, n, "-");
  else
    r = snprintf(buf, n, "%u.%u.%u.%u:%u", (unsigned)(t->peer_ip >> 24),
                 (unsigned)(t->peer_ip >> 16) & 255u,
                 (unsigned)(t->peer_ip >> 8) & 255u,
                 (unsigned)t->peer_ip & 255u, (unsigned)t->peer_port);
  if (r < 0 || (size_t)r >= n) {
    buf[0] = '\0';
    return MOSS_ERR_TOOBIG;
  }
  return MOSS_OK;
}

static uint16_t tcp_local_port(const struct moss_conn *c) {
  const struct tcp *t = TC(c);
  if (!(t->tflags & TF_SOCK) || t->w.fd < 0)
    return 0;
  return moss_port_sock_port(t->w.fd);
}

static const struct moss_conn_ops tcp_ops = {
    "tcp",     tcp_send,  tcp_send_space, tcp_unsent, tcp_read_enable,
    tcp_close, tcp_abort, tcp_destroy,    tcp_peer,   tcp_local_port,
};
static const struct moss_conn_ops fd_ops = {
    "fd",      tcp_send,  tcp_send_space, tcp_unsent, tcp_read_enable,
    tcp_close, tcp_abort, tcp_destroy,    tcp_peer,   tcp_local_port,
};
static const struct moss_conn_ops listen_ops = {
    "tcp-listen", tcp_send,  tcp_send_space, tcp_unsent, tcp_read_enable,
    tcp_close,    tcp_abort, tcp_destroy,    tcp_peer,   tcp_local_port,
};

/* ---- creation
 * ------------------------------------------------------------------ */

/* New connection over fd (owned from here on, closed on failure). */
static int make(struct moss_ev *ev, const struct moss_conn_ops *ops, int fd,
                unsigned tflags, const struct moss_conn_opts *o,
                const struct moss_conn_handlers *h, void *user,
                struct moss_conn **out) {
  struct moss_conn *c =
      moss_conn_layer_new(ev, ops, sizeof(struct tcp), o, h, user);
  if (c == NULL) {
    moss_port_close(fd);
    return MOSS_ERR_NOMEM;
  }
  struct tcp *t = T(c);
  t->tflags = (uint16_t)tflags;
  t->w.fd = fd;
  int rc = moss_evi_watch_add(ev, &t->w, fd, 0, io_cb);
  if (rc == MOSS_OK) {
    *out = c;
    return MOSS_OK;
  }
  moss_conni_free_raw(c); /* closes fd */
  return rc;
}

static void do_accept(struct moss_conn *l) {
  for (int i = 0; i < 8 && !(l->flags & CF_CLOSING); i++) {
    int fd;
    uint32_t ip;
    uint16_t port;
    int rc = moss_port_tcp_accept(T(l)->w.fd, &fd, &ip, &port);
    if (rc == MOSS_ERR_AGAIN)
      return;
    if (rc != MOSS_OK) {
      MOSS_LOG_W("conn", "accept on port %u: %s", (unsigned)tcp_local_port(l),
                 moss_port_last_error());
      return;
    }
    if (l->u.l.nconns >= l->u.l.max_conns) {
      /* Accept and close rather than leave it in the backlog: the client
       * learns at once instead of timing out. */
      MOSS_LOG_W("conn", "port %u: %u connections (max), refusing %u.%u.%u.%u",
                 (unsigned)tcp_local_port(l), (unsigned)l->u.l.nconns,
                 (unsigned)(ip >> 24), (unsigned)(ip >> 16) & 255u,
                 (unsigned)(ip >> 8) & 255u, (unsigned)ip & 255u);
      moss_port_close(fd);
      continue;
    }
    struct moss_conn *c;
    rc = make(l->ev, &tcp_ops, fd, TF_SOCK, NULL, l->h, l->user, &c);
    if (rc != MOSS_OK) {
      MOSS_LOG_W("conn", "shed new connection: %s", moss_strerror(rc));
      continue;
    }
    T(c)->peer_ip = ip;
    T(c)->peer_port = port;
    update(c);
    if (c->flags & CF_DEAD)
      continue;
    moss_conn_layer_accepted(l, c);
  }
}

int moss_conn_listen(struct moss_ev *ev, const char *addr,
                     const struct moss_conn_opts *o,
                     const struct moss_conn_handlers *h, void *user,
                     struct moss_conn **out, char *why, size_t whylen) {
  uint32_t ip;
  uint16_t port, bound;
  int fd, rc;
  *out = NULL;
  if (why != NULL && whylen > 0)
    why[0] = '\0';
  rc = moss_conn_parse_addr(addr, &ip, &port);
  if (rc != MOSS_OK) {
    if (why != NULL)
      snprintf(why, whylen,
               "invalid address (expected ip:port, :port or "
               "port)");
    return rc;
  }
  int backlog = o && o->backlog > 0 ? o->backlog : MOSS_CONN_DEFAULT_BACKLOG;
  rc = moss_port_tcp_listen(ip, port, backlog, &fd, &bound);
  if (rc != MOSS_OK) {
    if (why != NULL)
      snprintf(why, whylen, "%s", moss_port_last_error());
    return rc;
  }
  /* Set on the listener, inherited by every accepted socket. */
  if (o != NULL && o->sock_buf != 0)
    moss_port_sock_bufsize(fd, o->sock_buf);
  struct moss_conn *l;
  rc = make(ev, &listen_ops, fd, TF_SOCK, o, h, user, &l);
  if (rc != MOSS_OK) {
    if (why != NULL)
      snprintf(why, whylen, "%s", moss_strerror(rc));
    return rc;
  }
  l->flags |= CF_LISTENER;
  l->u.l.max_conns =
      o && o->max_conns ? o->max_conns : MOSS_CONN_DEFAULT_MAX_CONNS;
  update(l);
  if (l->flags & CF_DEAD) { /* could not watch it */
    moss_conni_free_raw(l);
    if (why != NULL)
      snprintf(why, whylen, "cannot watch the socket");
    return MOSS_ERR_NOSPC;
  }
  MOSS_LOG_D("conn", "listening on %s (port %u)", addr, (unsigned)bound);
  *out = l;
  return MOSS_OK;
}

int moss_conn_connect(struct moss_ev *ev, const char *addr,
                      const struct moss_conn_opts *o,
                      const struct moss_conn_handlers *h, void *user,
                      struct moss_conn **out) {
  uint32_t ip;
  uint16_t port;
  int fd, rc;
  *out = NULL;
  rc = moss_conn_parse_addr(addr, &ip, &port);
  if (rc != MOSS_OK || port == 0)
    return MOSS_ERR_INVAL;
  if (ip == 0)
    ip = 0x7f000001u;
  rc = moss_port_tcp_connect(ip, port, &fd);
  if (rc != MOSS_OK)
    return rc;
  if (o != NULL && o->sock_buf != 0)
    moss_port_sock_bufsize(fd, o->sock_buf);
  struct moss_conn *c;
  rc = make(ev, &tcp_ops, fd, TF_SOCK, o, h, user, &c);
  if (rc != MOSS_OK)
    return rc;
  T(c)->peer_ip = ip;
  T(c)->peer_port = port;
  c->flags |= CF_CONNECTING;
  uint32_t tmo = o && o->connect_timeout_ms
                     ? o->connect_timeout_ms
                     : MOSS_CONN_DEFAULT_CONNECT_TIMEOUT_MS;
  rc = moss_conni_arm(c, tmo);
  if (rc == MOSS_OK) {
    update(c);
    if (c->flags & CF_DEAD)
      rc = MOSS_ERR_NOSPC;
  }
  if (rc != MOSS_OK) {
    moss_conni_free_raw(c);
    return rc;
  }
  *out = c;
  return MOSS_OK;
}

int moss_conn_from_fd(struct moss_ev *ev, int fd,
                      const struct moss_conn_opts *o,
                      const struct moss_conn_handlers *h, void *user,
                      struct moss_conn **out) {
  *out = NULL;
  int rc = moss_port_fd_nonblock(fd);
  if (rc != MOSS_OK) {
    moss_port_close(fd);
    return rc;
  }
  struct moss_conn *c;
  rc = make(ev, &fd_ops, fd, o != NULL && o->overrun ? TF_OVERRUN : 0, o, h,
            user, &c);
  if (rc != MOSS_OK)
    return rc;
  update(c);
  if (c->idle_ms != 0 && !(c->flags & CF_DEAD))
    moss_conni_arm(c, c->idle_ms);
  if (c->flags & CF_DEAD) {
    moss_conni_free_raw(c);
    return MOSS_ERR_NOSPC;
  }
  *out = c;
  return MOSS_OK;
}

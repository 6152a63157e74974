/*
 * Connection core: what every layer shares - callbacks, the receive
 * buffer, pause/resume, timers, and the close protocol (ask, then the
 * loop runs on_error/on_close and frees in step 5).
 */
#include <string.h>

#include "conn_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/util.h"

static void conn_work(struct moss_ev *ev);
static void conn_free_all(struct moss_ev *ev);
static void timer_fire(struct moss_ev *ev, struct ev_tnode *n);

static void log_conn(const struct moss_conn *c, const char *what, int err) {
  char peer[24];
  if (moss_conn_peer(c, peer, sizeof(peer)) != MOSS_OK)
    peer[0] = '\0';
  MOSS_LOG_W("conn", "%s %s: %s (%s)", c->ops->kind, peer, what,
             moss_strerror(err));
}

void moss_conni_apply_opts(struct moss_conn *c,
                           const struct moss_conn_opts *o) {
  struct moss_conn_opts d = {0};
  if (o != NULL)
    d = *o;
  c->rx_cap = d.rx_cap ? d.rx_cap : MOSS_CONN_DEFAULT_RX_CAP;
  c->tx_cap = d.tx_cap ? d.tx_cap : MOSS_CONN_DEFAULT_TX_CAP;
  c->idle_ms = d.idle_timeout_ms;
}

struct moss_conn *moss_conn_layer_new(struct moss_ev *ev,
                                      const struct moss_conn_ops *ops,
                                      size_t state_size,
                                      const struct moss_conn_opts *o,
                                      const struct moss_conn_handlers *h,
                                      void *user) {
  if (state_size > 65536)
    return NULL;
  struct moss_conn *c = moss_calloc(MOSS_SUB_CONN, 1, sizeof(*c) + state_size);
  if (c == NULL)
    return NULL;
  c->ops = ops;
  c->ev = ev;
  c->h = h;
  c->user = user;
  c->tmr.fire = timer_fire;
  c->last_io = (uint32_t)ev->now;
  moss_conni_apply_opts(c, o);
  c->next = ev->conns;
  if (ev->conns != NULL)
    ev->conns->prev = c;
  ev->conns = c;
  ev->conn_work = conn_work;
  ev->conn_free_all = conn_free_all;
  return c;
}

struct moss_conn *moss_conn_layer_new_listener(
    struct moss_ev *ev, const struct moss_conn_ops *ops, size_t state_size,
    const struct moss_conn_opts *o, const struct moss_conn_handlers *h,
    void *user) {
  struct moss_conn *c = moss_conn_layer_new(ev, ops, state_size, o, h, user);
  if (c == NULL)
    return NULL;
  c->flags |= CF_LISTENER;
  c->u.l.max_conns =
      o && o->max_conns ? o->max_conns : MOSS_CONN_DEFAULT_MAX_CONNS;
  return c;
}

void *moss_conn_layer_state(struct moss_conn *c) {
  return CONN_STATE(c);
}

const void *moss_conn_layer_cstate(const struct moss_conn *c) {
  return (const char *)c + sizeof(*c);
}

static void unlink_conn(struct moss_conn *c) {
  struct moss_ev *ev = c->ev;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    ev->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  if (c->flags & CF_PENDING) {
    for (struct moss_conn **pp = &ev->pending; *pp; pp = &(*pp)->next_pending)
      if (*pp == c) {
        *pp = c->next_pending;
        break;
      }
  }
  if (c->parent != NULL)
    c->parent->u.l.nconns--;
  if (c->flags & CF_LISTENER) /* children outlive their listener */
    for (struct moss_conn *k = ev->conns; k != NULL; k = k->next)
      if (k->parent == c)
        k->parent = NULL;
  moss_evi_timer_disarm(ev, &c->tmr);
}

void moss_conni_free_raw(struct moss_conn *c) {
  unlink_conn(c);
  c->ops->destroy(c);
  if (!(c->flags & CF_LISTENER))
    moss_free(c->u.rx.buf);
  moss_free(c);
}

static void add_pending(struct moss_conn *c) {
  if (c->flags & CF_PENDING)
    return;
  c->flags |= CF_PENDING;
  /* Append keeps close order = request order (tests rely on nothing
   * else; it is just the least surprising). */
  struct moss_conn **pp = &c->ev->pending;
  while (*pp != NULL)
    pp = &(*pp)->next_pending;
  c->next_pending = NULL;
  *pp = c;
}

void moss_conn_layer_closed(struct moss_conn *c, int reason) {
  if (c->flags & CF_DEAD)
    return;
  c->flags |= CF_DEAD | CF_CLOSING;
  c->reason = (int16_t)reason;
  moss_evi_timer_disarm(c->ev, &c->tmr);
  add_pending(c);
}

void moss_conni_fail(struct moss_conn *c, int err, const char *what) {
  if (c->flags & CF_DEAD)
    return;
  log_conn(c, what, err);
  c->flags |= CF_CLOSING;
  c->ops->abort(c);
  moss_conn_layer_closed(c, err);
}

static void finalize(struct moss_conn *c) {
  int r = c->reason;
  if (r != MOSS_OK && r != MOSS_ERR_CLOSED && c->h && c->h->on_error)
    c->h->on_error(c, r);
  if (c->h && c->h->on_close)
    c->h->on_close(c, r);
  moss_conni_free_raw(c);
}

/* ---- receiving ----------------------------------------------------------- */

/* Offer d[0..n) to on_data until it stops consuming; returns bytes
 * consumed (all of them when the data is to be dropped). */
static size_t feed(struct moss_conn *c, const uint8_t *d, size_t n) {
  size_t done = 0;
  if (c->h == NULL || c->h->on_data == NULL)
    return n;
  while (done < n && !(c->flags & (CF_CLOSING | CF_PAUSED))) {
    c->flags |= CF_IN_DATA;
    long r = c->h->on_data(c, d + done, n - done);
    c->flags &= (uint16_t)~CF_IN_DATA;
    if (r < 0) {
      moss_conni_fail(c, (int)r, "handler refused data");
      return n;
    }
    if (r == 0)
      break;
    done += (size_t)r > n - done ? n - done : (size_t)r;
  }
  if (c->flags & CF_CLOSING)
    return n;
  return done;
}

static int rx_store(struct moss_conn *c, const uint8_t *d, size_t n) {
  if (n == 0)
    return MOSS_OK;
  if (n > c->rx_cap - c->u.rx.len) {
    moss_conni_fail(c, MOSS_ERR_TOOBIG, "receive buffer full");
    return MOSS_ERR_TOOBIG;
  }
  size_t need = c->u.rx.len + n;
  if (need > c->u.rx.size) {
    /* Round up so a trickle of small reads does not realloc each time. */
    size_t want = (need + 255) & ~(size_t)255;
    if (want > c->rx_cap)
      want = c->rx_cap;
    uint8_t *nb = c->u.rx.buf == NULL ? moss_alloc(MOSS_SUB_CONN, want)
                                      : moss_realloc(c->u.rx.buf, want);
    if (nb == NULL) {
      moss_conni_fail(c, MOSS_ERR_NOMEM, "shed: no memory for receive buffer");
      return MOSS_ERR_NOMEM;
    }
    c->u.rx.buf = nb;
    c->u.rx.size = (uint32_t)want;
  }
  memcpy(c->u.rx.buf + c->u.rx.len, d, n);
  c->u.rx.len = (uint32_t)need;
  return MOSS_OK;
}

static void rx_drop(struct moss_conn *c, size_t n) {
  if (n >= c->u.rx.len) {
    moss_free(c->u.rx.buf);
    c->u.rx.buf = NULL;
    c->u.rx.len = c->u.rx.size = 0;
    return;
  }
  memmove(c->u.rx.buf, c->u.rx.buf + n, c->u.rx.len - n);
  c->u.rx.len -= (uint32_t)n;
}

/* Offer the buffered input; a full buffer nobody drains is fatal. */
static int rx_process(struct moss_conn *c) {
  if (c->u.rx.len == 0 || (c->flags & (CF_CLOSING | CF_PAUSED)))
    return MOSS_OK;
  rx_drop(c, feed(c, c->u.rx.buf, c->u.rx.len));
  if (c->u.rx.len >= c->rx_cap && !(c->flags & (CF_CLOSING | CF_PAUSED))) {
    moss_conni_fail(c, MOSS_ERR_TOOBIG, "message larger than the receive cap");
    return MOSS_ERR_TOOBIG;
  }
  return MOSS_OK;
}

int moss_conn_layer_deliver(struct moss_conn *c, const void *data, size_t len) {
  /* The handler holds a view into rx: it must not move under it. */
  MOSS_ASSERT(!(c->flags & CF_IN_DATA));
  if (c->flags & CF_CLOSING)
    return MOSS_OK;
  moss_conn_layer_activity(c);
  const uint8_t *d = data;
  if (c->u.rx.len == 0 && !(c->flags & CF_PAUSED)) {
    size_t k = feed(c, d, len);
    if (c->flags & CF_CLOSING)
      return MOSS_OK;
    d += k;
    len -= k;
    int rc = rx_store(c, d, len);
    if (rc != MOSS_OK)
      return rc;
    if (c->u.rx.len >= c->rx_cap && !(c->flags & CF_PAUSED)) {
      moss_conni_fail(c, MOSS_ERR_TOOBIG,
                      "message larger than the receive cap");
      return MOSS_ERR_TOOBIG;
    }
    return MOSS_OK;
  }
  int rc = rx_store(c, d, len);
  if (rc != MOSS_OK)
    return rc;
  return rx_process(c);
}

size_t moss_conn_layer_rx_space(const struct moss_conn *c) {
  if (c->flags & (CF_CLOSING | CF_PAUSED | CF_LISTENER))
    return 0;
  return c->rx_cap - c->u.rx.len;
}

size_t moss_conn_rx_pending(const struct moss_conn *c) {
  return (c->flags & CF_LISTENER) ? 0 : c->u.rx.len;
}

/* ---- events from layers -----------------------------------------------------
 */

void moss_conn_layer_activity(struct moss_conn *c) {
  c->last_io = (uint32_t)c->ev->now;
}

int moss_conni_arm(struct moss_conn *c, uint32_t ms) {
  return moss_evi_timer_arm(c->ev, &c->tmr, c->ev->now + ms);
}

static void arm_idle(struct moss_conn *c) {
  if (c->idle_ms == 0 || (c->flags & (CF_CONNECTING | CF_CLOSING)))
    return;
  int rc = moss_conni_arm(c, c->idle_ms);
  if (rc != MOSS_OK)
    moss_conni_fail(c, rc, "shed: no timer for idle timeout");
}

void moss_conn_layer_connected(struct moss_conn *c) {
  if (c->flags & CF_CLOSING)
    return;
  c->flags &= (uint16_t)~CF_CONNECTING;
  moss_evi_timer_disarm(c->ev, &c->tmr);
  moss_conn_layer_activity(c);
  arm_idle(c);
  if (c->h && c->h->on_connect && !(c->flags & CF_CLOSING))
    c->h->on_connect(c);
}

void moss_conn_layer_sent(struct moss_conn *c) {
  moss_conn_layer_activity(c);
  if (c->flags & CF_CLOSING)
    return;
  if (c->h && c->h->on_sent)
    c->h->on_sent(c);
}

void moss_conn_layer_accepted(struct moss_conn *l, struct moss_conn *c) {
  c->h = l->h;
  c->user = l->user;
  c->rx_cap = l->rx_cap;
  c->tx_cap = l->tx_cap;
  c->idle_ms = l->idle_ms;
  c->parent = l;
  l->u.l.nconns++;
  moss_conn_layer_activity(c);
  arm_idle(c);
  if (c->h && c->h->on_accept && !(c->flags & CF_CLOSING))
    c->h->on_accept(l, c);
}

static void timer_fire(struct moss_ev *ev, struct ev_tnode *n) {
  struct moss_conn *c =
      (struct moss_conn *)(void *)((char *)n - offsetof(struct moss_conn, tmr));
  uint32_t idle = (uint32_t)ev->now - c->last_io;
  if (c->flags & CF_DEAD)
    return;
  if (c->flags & CF_CONNECTING) {
    moss_conni_fail(c, MOSS_ERR_TIMEOUT, "connect timed out");
  } else if (c->flags & CF_CLOSING) {
    /* Graceful close made no progress for a whole linger period. */
    if (idle < MOSS_CONN_LINGER_MS &&
        moss_conni_arm(c, MOSS_CONN_LINGER_MS - idle) == MOSS_OK)
      return;
    c->ops->abort(c);
    moss_conn_layer_closed(c, MOSS_OK);
  } else if (c->idle_ms != 0) {
    if (idle >= c->idle_ms) {
      moss_conni_fail(c, MOSS_ERR_TIMEOUT, "idle timeout");
      return;
    }
    int rc = moss_conni_arm(c, c->idle_ms - idle);
    if (rc != MOSS_OK)
      moss_conni_fail(c, rc, "shed: no timer for idle timeout");
  }
}

/* ---- step 5: finish closes, redeliver after resume
 * ------------------------------ */

static void conn_work(struct moss_ev *ev) {
  struct moss_conn *c;
  while ((c = ev->pending) != NULL) {
    ev->pending = c->next_pending;
    c->flags &= (uint16_t)~CF_PENDING;
    if (c->flags & CF_DEAD) {
      finalize(c);
    } else if (c->flags & CF_REDELIVER) {
      c->flags &= (uint16_t)~CF_REDELIVER;
      rx_process(c);
    }
  }
}

static void conn_free_all(struct moss_ev *ev) {
  /* on_close handlers may open new connections; give up after a few
   * rounds rather than loop forever. */
  for (int round = 0; round < 8 && ev->conns != NULL; round++) {
    for (struct moss_conn *c = ev->conns; c != NULL; c = c->next) {
      if (c->flags & CF_DEAD)
        continue;
      c->flags |= CF_CLOSING;
      c->ops->abort(c);
      moss_conn_layer_closed(c, MOSS_ERR_CLOSED);
    }
    conn_work(ev);
  }
  while (ev->conns != NULL)
    moss_conni_free_raw(ev->conns);
}

/* ---- the application API
 * ------------------------------------------------------------ */

int moss_conn_send(struct moss_conn *c, const void *data, size_t len) {
  if (c->flags & (CF_CLOSING | CF_LISTENER))
    return MOSS_ERR_CLOSED;
  if (len == 0)
    return MOSS_OK;
  return c->ops->send(c, data, len);
}

size_t moss_conn_send_space(const struct moss_conn *c) {
  if (c->flags & (CF_CLOSING | CF_LISTENER))
    return 0;
  return c->ops->send_space(c);
}

size_t moss_conn_unsent(const struct moss_conn *c) {
  if (c->flags & CF_LISTENER)
    return 0;
  return c->ops->unsent(c);
}

void moss_conn_close(struct moss_conn *c) {
  if (c == NULL || (c->flags & CF_CLOSING))
    return;
  c->flags |= CF_CLOSING;
  moss_conn_layer_activity(c);
  if (!(c->flags & CF_LISTENER) &&
      moss_conni_arm(c, MOSS_CONN_LINGER_MS) != MOSS_OK) {
    /* Without a linger timer a silent peer could pin us: close now. */
    c->ops->abort(c);
    moss_conn_layer_closed(c, MOSS_OK);
    return;
  }
  c->ops->close(c);
}

void moss_conn_abort(struct moss_conn *c) {
  if (c == NULL || (c->flags & CF_DEAD))
    return;
  c->flags |= CF_CLOSING;
  c->ops->abort(c);
  moss_conn_layer_closed(c, MOSS_OK);
}

bool moss_conn_is_closing(const struct moss_conn *c) {
  return (c->flags & CF_CLOSING) != 0;
}

void moss_conn_pause(struct moss_conn *c) {
  if (c->flags & (CF_PAUSED | CF_CLOSING | CF_LISTENER))
    return;
  c->flags |= CF_PAUSED;
  c->ops->read_enable(c, false);
}

void moss_conn_resume(struct moss_conn *c) {
  if (!(c->flags & CF_PAUSED) || (c->flags & CF_CLOSING))
    return;
  c->flags &= (uint16_t)~CF_PAUSED;
  c->ops->read_enable(c, true);
  if (c->u.rx.len > 0) {
    /* Not from inside this call: the caller may be in a callback. */
    c->flags |= CF_REDELIVER;
    add_pending(c);
  }
}

bool moss_conn_is_paused(const struct moss_conn *c) {
  return (c->flags & CF_PAUSED) != 0;
}

int moss_conn_set_idle_timeout(struct moss_conn *c, uint32_t ms) {
  c->idle_ms = ms;
  if (c->flags & (CF_CONNECTING | CF_CLOSING | CF_LISTENER))
    return MOSS_OK;
  if (ms == 0) {
    moss_evi_timer_disarm(c->ev, &c->tmr);
    return MOSS_OK;
  }
  int rc = moss_conni_arm(c, ms);
  if (rc != MOSS_OK)
    c->idle_ms = 0;
  return rc;
}

void *moss_conn_user(const struct moss_conn *c) {
  return c->user;
}

void moss_conn_set_user(struct moss_conn *c, void *user) {
  c->user = user;
}

void moss_conn_set_handlers(struct moss_conn *c,
                            const struct moss_conn_handlers *h) {
  c->h = h;
}

struct moss_ev *moss_conn_ev(const struct moss_conn *c) {
  return c->ev;
}

bool moss_conn_is_listener(const struct moss_conn *c) {
  return (c->flags & CF_LISTENER) != 0;
}

const char *moss_conn_kind(const struct moss_conn *c) {
  return c->ops->kind;
}

int moss_conn_peer(const struct moss_conn *c, char *buf, size_t n) {
  if (n == 0)
    return MOSS_ERR_TOOBIG;
  return c->ops->peer(c, buf, n);
}

uint16_t moss_conn_local_port(const struct moss_conn *c) {
  return c->ops->local_port(c);
}

uint32_t moss_conn_count(const struct moss_conn *l) {
  return (l->flags & CF_LISTENER) ? l->u.l.nconns : 0;
}

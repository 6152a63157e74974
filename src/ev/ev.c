/*
 * The event loop: poller dispatch, deferred calls, public watchers,
 * signals.  Timers are in timer.c; conn/ plugs in through two hooks.
 */
#include <stdlib.h>
#include <string.h>

#include "ev_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"

struct soon {
  struct soon *next;
  moss_ev_soon_fn *fn;
  void *arg;
};

struct moss_ev_io {
  struct ev_watch w; /* first */
  struct moss_ev *ev;
  moss_ev_io_fn *fn;
  void *arg;
  struct moss_ev_io *next;
};

#define BATCH 64

static int pick_backend(enum moss_ev_backend b, enum moss_port_poll_kind *k) {
  if (b == MOSS_EV_BACKEND_AUTO) {
    const char *e = getenv("MOSS_EV_BACKEND");
    if (e == NULL || *e == '\0' || strcmp(e, "epoll") == 0)
      b = MOSS_EV_BACKEND_EPOLL;
    else if (strcmp(e, "poll") == 0)
      b = MOSS_EV_BACKEND_POLL;
    else {
      MOSS_LOG_E("ev", "MOSS_EV_BACKEND=%s: expected epoll or poll", e);
      return MOSS_ERR_INVAL;
    }
  }
  if (b == MOSS_EV_BACKEND_EPOLL)
    *k = MOSS_PORT_POLL_EPOLL;
  else if (b == MOSS_EV_BACKEND_POLL)
    *k = MOSS_PORT_POLL_POLL;
  else
    return MOSS_ERR_INVAL;
  return MOSS_OK;
}

int moss_ev_new(struct moss_ev **out, const struct moss_ev_cfg *cfg) {
  struct moss_ev_cfg c = {0};
  enum moss_port_poll_kind kind;
  if (cfg != NULL)
    c = *cfg;
  int rc = pick_backend(c.backend, &kind);
  if (rc != MOSS_OK)
    return rc;
  struct moss_ev *ev = moss_calloc(MOSS_SUB_CONN, 1, sizeof(*ev));
  if (ev == NULL)
    return MOSS_ERR_NOMEM;
  rc = moss_port_poller_open(
      kind, c.max_fds ? c.max_fds : MOSS_EV_DEFAULT_MAX_FDS, &ev->poller);
  if (rc != MOSS_OK) {
    moss_free(ev);
    return rc;
  }
  ev->max_timers = c.max_timers ? c.max_timers : MOSS_EV_DEFAULT_MAX_TIMERS;
  ev->max_soon = c.max_soon ? c.max_soon : MOSS_EV_DEFAULT_MAX_SOON;
  ev->sigfd = -1;
  ev->now = ev->t0 = moss_port_time_ms();
  *out = ev;
  return MOSS_OK;
}

const char *moss_ev_backend_name(const struct moss_ev *ev) {
  return moss_port_poller_kind(ev->poller) == MOSS_PORT_POLL_EPOLL ? "epoll"
                                                                   : "poll";
}

uint64_t moss_ev_now(const struct moss_ev *ev) {
  return ev->now;
}

void moss_ev_stop(struct moss_ev *ev) {
  ev->stop = true;
}

bool moss_ev_stopped(const struct moss_ev *ev) {
  return ev->stop;
}

void moss_ev_restart(struct moss_ev *ev) {
  ev->stop = false;
}

/* ---- embedded watchers ------------------------------------------------- */

int moss_evi_watch_add(struct moss_ev *ev, struct ev_watch *w, int fd,
                       unsigned events,
                       void (*cb)(struct moss_ev *, struct ev_watch *,
                                  unsigned)) {
  w->fd = fd;
  w->want = 0;
  w->live = 1;
  w->cb = cb;
  return moss_evi_watch_set(ev, w, events);
}

int moss_evi_watch_set(struct moss_ev *ev, struct ev_watch *w,
                       unsigned events) {
  events &= MOSS_EV_READ | MOSS_EV_WRITE;
  if (!w->live || events == w->want)
    return MOSS_OK;
  int rc = moss_port_poller_ctl(ev->poller, w->fd, w, w->want, events);
  if (rc == MOSS_OK)
    w->want = (uint8_t)events;
  return rc;
}

void moss_evi_watch_del(struct moss_ev *ev, struct ev_watch *w) {
  if (!w->live)
    return;
  if (w->want != 0)
    moss_port_poller_ctl(ev->poller, w->fd, w, w->want, 0);
  w->want = 0;
  w->live = 0;
}

/* ---- public watchers ------------------------------------------------------
 */

static void io_cb(struct moss_ev *ev, struct ev_watch *w, unsigned events) {
  struct moss_ev_io *io = (struct moss_ev_io *)w;
  (void)ev;
  io->fn(io, w->fd, events, io->arg);
}

struct moss_ev_io *moss_ev_io_start(struct moss_ev *ev, int fd, unsigned events,
                                    moss_ev_io_fn *fn, void *arg) {
  if (fd < 0 || fn == NULL)
    return NULL;
  struct moss_ev_io *io = moss_calloc(MOSS_SUB_CONN, 1, sizeof(*io));
  if (io == NULL)
    return NULL;
  io->ev = ev;
  io->fn = fn;
  io->arg = arg;
  if (moss_evi_watch_add(ev, &io->w, fd, events, io_cb) != MOSS_OK) {
    moss_free(io);
    return NULL;
  }
  io->next = ev->ios;
  ev->ios = io;
  return io;
}

int moss_ev_io_set(struct moss_ev_io *io, unsigned events) {
  return moss_evi_watch_set(io->ev, &io->w, events);
}

void moss_ev_io_stop(struct moss_ev_io *io) {
  if (io == NULL || !io->w.live)
    return;
  struct moss_ev *ev = io->ev;
  moss_evi_watch_del(ev, &io->w);
  for (struct moss_ev_io **pp = &ev->ios; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == io) {
      *pp = io->next;
      break;
    }
  }
  /* An event for it may sit in the current batch: free after dispatch. */
  io->next = ev->dead_ios;
  ev->dead_ios = io;
}

static void free_dead_ios(struct moss_ev *ev) {
  while (ev->dead_ios != NULL) {
    struct moss_ev_io *io = ev->dead_ios;
    ev->dead_ios = io->next;
    moss_free(io);
  }
}

/* ---- deferred calls --------------------------------------------------------
 */

int moss_ev_soon(struct moss_ev *ev, moss_ev_soon_fn *fn, void *arg) {
  if (fn == NULL)
    return MOSS_ERR_INVAL;
  if (ev->nsoon >= ev->max_soon)
    return MOSS_ERR_NOSPC;
  struct soon *s = moss_alloc(MOSS_SUB_CONN, sizeof(*s));
  if (s == NULL)
    return MOSS_ERR_NOMEM;
  s->next = NULL;
  s->fn = fn;
  s->arg = arg;
  if (ev->soon_tail != NULL)
    ev->soon_tail->next = s;
  else
    ev->soon_head = s;
  ev->soon_tail = s;
  ev->nsoon++;
  return MOSS_OK;
}

static int run_soon(struct moss_ev *ev) {
  /* Only what was queued before this step: a callback re-queueing itself
   * must not spin the loop without polling. */
  struct soon *s = ev->soon_head;
  ev->soon_head = ev->soon_tail = NULL;
  int n = 0;
  while (s != NULL) {
    struct soon *next = s->next;
    ev->nsoon--;
    moss_ev_soon_fn *fn = s->fn;
    void *arg = s->arg;
    moss_free(s);
    fn(ev, arg);
    n++;
    s = next;
  }
  return n;
}

/* ---- signals ----------------------------------------------------------------
 */

static void sig_cb(struct moss_ev *ev, struct ev_watch *w, unsigned events) {
  int signo;
  (void)events;
  while ((signo = moss_port_signal_read(w->fd)) > 0) {
    ev->last_signal = signo;
    MOSS_LOG_I("ev", "signal %d", signo);
    if (ev->sigfn != NULL)
      ev->sigfn(ev, signo, ev->sigarg);
    else
      ev->stop = true;
  }
}

int moss_ev_catch_signals(struct moss_ev *ev, moss_ev_signal_fn *fn,
                          void *arg) {
  if (ev->sigfd >= 0)
    return MOSS_ERR_EXIST;
  int fd, rc = moss_port_signal_open(&fd);
  if (rc != MOSS_OK)
    return rc;
  rc = moss_evi_watch_add(ev, &ev->sigw, fd, MOSS_EV_READ, sig_cb);
  if (rc != MOSS_OK) {
    moss_port_signal_close(fd);
    return rc;
  }
  ev->sigfd = fd;
  ev->sigfn = fn;
  ev->sigarg = arg;
  return MOSS_OK;
}

int moss_ev_last_signal(const struct moss_ev *ev) {
  return ev->last_signal;
}

/* ---- the loop
 * ------------------------------------------------------------------ */

int moss_ev_run_once(struct moss_ev *ev, int timeout_ms) {
  struct moss_port_pevent evs[BATCH];
  int ran = 0;
  ev->now = moss_port_time_ms();
  int tmo = moss_evi_timers_next(ev);
  if (timeout_ms >= 0 && (tmo < 0 || timeout_ms < tmo))
    tmo = timeout_ms;
  if (ev->soon_head != NULL || ev->pending != NULL)
    tmo = 0;
  int n = moss_port_poller_wait(ev->poller, evs, BATCH, tmo);
  if (n < 0)
    return n;
  ev->now = moss_port_time_ms();
  for (int i = 0; i < n; i++) {
    struct ev_watch *w = evs[i].ptr;
    if (!w->live)
      continue; /* stopped by an earlier event of the batch */
    w->cb(ev, w, evs[i].events);
    ran++;
  }
  ran += moss_evi_timers_run(ev);
  ran += run_soon(ev);
  if (ev->conn_work != NULL)
    ev->conn_work(ev);
  free_dead_ios(ev);
  return ran;
}

int moss_ev_run(struct moss_ev *ev) {
  while (!ev->stop) {
    int rc = moss_ev_run_once(ev, -1);
    if (rc < 0)
      return rc;
  }
  return MOSS_OK;
}

void moss_ev_free(struct moss_ev *ev) {
  if (ev == NULL)
    return;
  if (ev->conn_free_all != NULL)
    ev->conn_free_all(ev);
  while (ev->ios != NULL)
    moss_ev_io_stop(ev->ios);
  free_dead_ios(ev);
  while (ev->soon_head != NULL) {
    struct soon *s = ev->soon_head;
    ev->soon_head = s->next;
    moss_free(s);
  }
  moss_evi_timers_free(ev);
  if (ev->sigfd >= 0) {
    moss_evi_watch_del(ev, &ev->sigw);
    moss_port_signal_close(ev->sigfd);
  }
  moss_port_poller_close(ev->poller);
  moss_free(ev);
}

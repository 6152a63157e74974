/*
 * Private interface of the event loop, shared with conn/ (which embeds
 * watchers and timer nodes in its connections so that an idle connection
 * costs no extra allocations).
 */
#ifndef MOSS_EV_INT_H
#define MOSS_EV_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "moss/ev.h"
#include "moss/port.h"

struct moss_conn;

/* An embedded descriptor watcher.  `want` is the interest registered with
 * the poller (0: not registered).  The poller returns the watcher's
 * address with each event; `live` is cleared by moss_evi_watch_del() so that
 * events already fetched in the same batch are dropped. */
struct ev_watch {
  int fd;
  uint8_t want;
  uint8_t live;
  void (*cb)(struct moss_ev *ev, struct ev_watch *w, unsigned events);
};

/* An embedded timer node.  key = (deadline - t0) << EV_SEQ_BITS | seq, so
 * the min-heap orders by deadline, then by arming order.  idx is the heap
 * slot + 1 (0: not armed). */
#define EV_SEQ_BITS 20
struct ev_tnode {
  uint64_t key;
  uint32_t idx;
  uint32_t period; /* public timers only; conn/ re-arms by hand */
  void (*fire)(struct moss_ev *ev, struct ev_tnode *n);
};

struct soon;

struct moss_ev {
  struct moss_port_poller *poller;
  uint64_t now, t0;
  uint32_t seq;
  /* timers: binary min-heap of node pointers, grown up to max_timers */
  struct ev_tnode **heap;
  uint32_t nheap, heap_size, max_timers;
  /* deferred calls: FIFO */
  struct soon *soon_head, *soon_tail;
  uint32_t nsoon, max_soon;
  /* public watchers: live list, and stopped ones freed after dispatch */
  struct moss_ev_io *ios, *dead_ios;
  bool stop;
  int last_signal;
  int sigfd;
  struct ev_watch sigw;
  moss_ev_signal_fn *sigfn;
  void *sigarg;
  /* conn/ bookkeeping (ev only calls the hooks) */
  struct moss_conn *conns;   /* every connection of this loop */
  struct moss_conn *pending; /* connections with work for step 5 */
  void (*conn_work)(struct moss_ev *ev);
  void (*conn_free_all)(struct moss_ev *ev);
};

/* Register w for fd with `events` (may be 0: nothing registered yet). */
int moss_evi_watch_add(struct moss_ev *ev, struct ev_watch *w, int fd,
                       unsigned events,
                       void (*cb)(struct moss_ev *, struct ev_watch *,
                                  unsigned));
int moss_evi_watch_set(struct moss_ev *ev, struct ev_watch *w, unsigned events);
/* Unregister; no callback after this.  Safe to call twice. */
void moss_evi_watch_del(struct moss_ev *ev, struct ev_watch *w);

/* Arm (or re-arm) n to fire at absolute loop time due_ms.  MOSS_ERR_NOSPC
 * (max_timers), MOSS_ERR_NOMEM. */
int moss_evi_timer_arm(struct moss_ev *ev, struct ev_tnode *n, uint64_t due_ms);
/* Disarm if armed. */
void moss_evi_timer_disarm(struct moss_ev *ev, struct ev_tnode *n);
static inline bool moss_evi_timer_armed(const struct ev_tnode *n) {
  return n->idx != 0;
}
/* Fire due timers (step 3); returns the number fired. */
int moss_evi_timers_run(struct moss_ev *ev);
/* Milliseconds until the earliest deadline (-1: none). */
int moss_evi_timers_next(const struct moss_ev *ev);
/* Free the heap array and every public timer still armed. */
void moss_evi_timers_free(struct moss_ev *ev);

#endif

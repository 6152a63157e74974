/*
 * Timers: a binary min-heap of embedded nodes keyed by deadline, then by
 * arming order.  Public timers are heap-allocated wrappers around a node;
 * conn/ embeds nodes in its connections.  The heap array grows by
 * doubling up to max_timers and shrinks back to nothing when empty.
 */
#include <limits.h>

#include "ev_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/util.h"

struct moss_ev_timer {
  struct ev_tnode n; /* first: the node's address is the timer's */
  struct moss_ev *ev;
  moss_ev_timer_fn *fn;
  void *arg;
  bool running;   /* inside its callback */
  bool cancelled; /* cancelled from inside its callback */
};

static uint64_t due_of(const struct moss_ev *ev, const struct ev_tnode *n) {
  return ev->t0 + (n->key >> EV_SEQ_BITS);
}

static void put(struct moss_ev *ev, uint32_t i, struct ev_tnode *n) {
  ev->heap[i] = n;
  n->idx = i + 1;
}

static void sift_up(struct moss_ev *ev, uint32_t i) {
  struct ev_tnode *n = ev->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (ev->heap[p]->key <= n->key)
      break;
    put(ev, i, ev->heap[p]);
    i = p;
  }
  put(ev, i, n);
}

static void sift_down(struct moss_ev *ev, uint32_t i) {
  struct ev_tnode *n = ev->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= ev->nheap)
      break;
    if (c + 1 < ev->nheap && ev->heap[c + 1]->key < ev->heap[c]->key)
      c++;
    if (n->key <= ev->heap[c]->key)
      break;
    put(ev, i, ev->heap[c]);
    i = c;
  }
  put(ev, i, n);
}

static void remove_at(struct moss_ev *ev, uint32_t i) {
  ev->heap[i]->idx = 0;
  ev->nheap--;
  if (i != ev->nheap) {
    struct ev_tnode *m = ev->heap[ev->nheap];
    put(ev, i, m);
    sift_down(ev, i);
    sift_up(ev, m->idx - 1);
  }
  if (ev->nheap == 0) { /* an idle loop holds no timer array */
    moss_free(ev->heap);
    ev->heap = NULL;
    ev->heap_size = 0;
  }
}

int moss_evi_timer_arm(struct moss_ev *ev, struct ev_tnode *n,
                       uint64_t due_ms) {
  if (due_ms < ev->t0)
    due_ms = ev->t0;
  uint64_t rel = due_ms - ev->t0;
  if (rel >= (UINT64_C(1) << (64 - EV_SEQ_BITS)))
    return MOSS_ERR_RANGE;
  uint64_t key =
      rel << EV_SEQ_BITS | (ev->seq++ & ((UINT32_C(1) << EV_SEQ_BITS) - 1));
  if (n->idx != 0) {
    uint64_t old = n->key;
    n->key = key;
    if (key < old)
      sift_up(ev, n->idx - 1);
    else
      sift_down(ev, n->idx - 1);
    return MOSS_OK;
  }
  if (ev->nheap == ev->heap_size) {
    if (ev->heap_size >= ev->max_timers)
      return MOSS_ERR_NOSPC;
    uint32_t ns = ev->heap_size == 0 ? 8 : ev->heap_size * 2;
    if (ns > ev->max_timers)
      ns = ev->max_timers;
    struct ev_tnode **nh = ev->heap == NULL
                               ? moss_alloc(MOSS_SUB_CONN, ns * sizeof(*nh))
                               : moss_realloc(ev->heap, ns * sizeof(*nh));
    if (nh == NULL)
      return MOSS_ERR_NOMEM;
    ev->heap = nh;
    ev->heap_size = ns;
  }
  n->key = key;
  ev->heap[ev->nheap++] = n;
  sift_up(ev, ev->nheap - 1);
  return MOSS_OK;
}

void moss_evi_timer_disarm(struct moss_ev *ev, struct ev_tnode *n) {
  if (n->idx != 0)
    remove_at(ev, n->idx - 1);
}

int moss_evi_timers_next(const struct moss_ev *ev) {
  if (ev->nheap == 0)
    return -1;
  uint64_t due = due_of(ev, ev->heap[0]);
  if (due <= ev->now)
    return 0;
  uint64_t d = due - ev->now;
  return d > INT_MAX ? INT_MAX : (int)d;
}

int moss_evi_timers_run(struct moss_ev *ev) {
  /* Timers armed by callbacks of this pass (even with delay 0) wait for
   * the next iteration: bound the pass by the count at its start. */
  uint32_t budget = ev->nheap;
  int fired = 0;
  while (budget-- > 0 && ev->nheap > 0 && due_of(ev, ev->heap[0]) <= ev->now) {
    struct ev_tnode *n = ev->heap[0];
    remove_at(ev, 0);
    n->fire(ev, n);
    fired++;
  }
  return fired;
}

static void public_fire(struct moss_ev *ev, struct ev_tnode *n) {
  struct moss_ev_timer *t = (struct moss_ev_timer *)n;
  t->running = true;
  t->fn(t, t->arg);
  t->running = false;
  if (t->cancelled || t->n.period == 0 ||
      moss_evi_timer_arm(ev, &t->n, ev->now + t->n.period) != MOSS_OK) {
    /* A repeating timer that cannot be re-armed is dropped, not leaked. */
    moss_evi_timer_disarm(ev, &t->n);
    moss_free(t);
  }
}

struct moss_ev_timer *moss_ev_timer_start(struct moss_ev *ev, uint32_t delay_ms,
                                          uint32_t period_ms,
                                          moss_ev_timer_fn *fn, void *arg) {
  if (fn == NULL)
    return NULL;
  struct moss_ev_timer *t = moss_calloc(MOSS_SUB_CONN, 1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->n.fire = public_fire;
  t->n.period = period_ms;
  t->ev = ev;
  t->fn = fn;
  t->arg = arg;
  if (moss_evi_timer_arm(ev, &t->n, ev->now + delay_ms) != MOSS_OK) {
    moss_free(t);
    return NULL;
  }
  return t;
}

void moss_ev_timer_cancel(struct moss_ev_timer *t) {
  if (t == NULL)
    return;
  moss_evi_timer_disarm(t->ev, &t->n);
  if (t->running)
    t->cancelled = true; /* public_fire frees it when the callback returns */
  else
    moss_free(t);
}

size_t moss_ev_timer_count(const struct moss_ev *ev) {
  return ev->nheap;
}

void moss_evi_timers_free(struct moss_ev *ev) {
  while (ev->nheap > 0) {
    struct ev_tnode *n = ev->heap[ev->nheap - 1];
    remove_at(ev, ev->nheap - 1);
    if (n->fire == public_fire)
      moss_free(n);
  }
  moss_free(ev->heap);
  ev->heap = NULL;
  ev->heap_size = 0;
}

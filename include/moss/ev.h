/*
 * moss/ev.h - the single-threaded event loop: descriptor watchers,
 * timers, deferred calls, stop on SIGINT/SIGTERM.
 *
 * One loop runs the whole runtime (Redis ae.c model).  Each iteration:
 *   1. wait for descriptors until the earliest timer is due (no wait at
 *      all when deferred calls or connection work are pending);
 *   2. call the watchers of ready descriptors;
 *   3. call the timers that are due, earliest deadline first (equal
 *      deadlines in the order they were set);
 *   4. call the deferred ("soon") callbacks queued before this step;
 *   5. let conn/ finish closing connections and free what was closed.
 * All callbacks run on the loop's thread, never re-entrantly from an API
 * call: moss_ev_soon() from a callback runs in step 4, not inside the
 * call.  Nothing here is thread-safe.
 *
 * Backends: epoll (default) or poll(), chosen by moss_ev_cfg.backend or,
 * with MOSS_EV_BACKEND_AUTO, by the environment variable
 * MOSS_EV_BACKEND=epoll|poll.
 *
 * Ownership.  The loop owns watchers, timers and connections; the handles
 * returned here are opaque.  Code asks to stop or cancel; the loop frees,
 * after the current dispatch step, so no callback ever sees freed memory
 * (Mongoose is_draining).  Specifically:
 *   - a watcher handle is valid until moss_ev_io_stop();
 *   - a repeating timer handle is valid until moss_ev_timer_cancel();
 *   - a one-shot timer handle is valid until its callback returns or it is
 *     cancelled, whichever comes first (cancelling it from inside its own
 *     callback is allowed; after the callback returned it is not);
 *   - moss_ev_free() cancels everything still registered (connections get
 *     their close callback) and frees it.
 * Heap: the loop allocates from MOSS_SUB_CONN; the timer heap and the
 * deferred queue are capped (moss_ev_cfg), exceeding a cap is an error.
 */
#ifndef MOSS_EV_H
#define MOSS_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct moss_ev;
struct moss_ev_io;
struct moss_ev_timer;

enum moss_ev_backend {
  MOSS_EV_BACKEND_AUTO = 0, /* MOSS_EV_BACKEND env, else epoll */
  MOSS_EV_BACKEND_EPOLL,
  MOSS_EV_BACKEND_POLL,
};

/* Default caps (a field left 0 in moss_ev_cfg takes these). */
#define MOSS_EV_DEFAULT_MAX_FDS 256u    /* watched descriptors */
#define MOSS_EV_DEFAULT_MAX_TIMERS 512u /* armed timers, incl. conn ones */
#define MOSS_EV_DEFAULT_MAX_SOON 256u   /* queued deferred calls */

/* Caller-owned configuration, read by moss_ev_new() only. */
struct moss_ev_cfg {
  enum moss_ev_backend backend;
  uint32_t max_fds;
  uint32_t max_timers;
  uint32_t max_soon;
};

/* Readiness bits for watchers (same values as MOSS_PORT_IN/OUT/ERR). */
#define MOSS_EV_READ 1u
#define MOSS_EV_WRITE 2u
#define MOSS_EV_ERROR 4u /* reported whether asked for or not */

typedef void moss_ev_io_fn(struct moss_ev_io *w, int fd, unsigned events,
                           void *arg);
typedef void moss_ev_timer_fn(struct moss_ev_timer *t, void *arg);
typedef void moss_ev_soon_fn(struct moss_ev *ev, void *arg);
typedef void moss_ev_signal_fn(struct moss_ev *ev, int signo, void *arg);

/* Create a loop (cfg may be NULL for defaults).  MOSS_ERR_NOMEM,
 * MOSS_ERR_IO (epoll_create failed), MOSS_ERR_INVAL (bad env value). */
int moss_ev_new(struct moss_ev **out, const struct moss_ev_cfg *cfg);
/* NULL-safe.  Closes every connection (close callbacks run with reason
 * MOSS_ERR_CLOSED), drops watchers, timers and deferred calls, restores
 * the signal mask if moss_ev_catch_signals() changed it. */
void moss_ev_free(struct moss_ev *ev);
/* "epoll" or "poll". */
const char *moss_ev_backend_name(const struct moss_ev *ev);

/* Monotonic milliseconds, sampled once per iteration (callbacks of one
 * iteration all see the same value). */
uint64_t moss_ev_now(const struct moss_ev *ev);

/* One iteration, waiting at most timeout_ms for events (-1: until
 * something happens, 0: do not wait).  Returns the number of callbacks
 * run (>= 0) or MOSS_ERR_IO if the poller failed. */
int moss_ev_run_once(struct moss_ev *ev, int timeout_ms);
/* Iterate until moss_ev_stop().  Returns MOSS_OK or MOSS_ERR_IO. */
int moss_ev_run(struct moss_ev *ev);
/* Make moss_ev_run() return after the current iteration.  Safe from any
 * callback. */
void moss_ev_stop(struct moss_ev *ev);
bool moss_ev_stopped(const struct moss_ev *ev);
/* Clear the stop flag (to run the same loop again). */
void moss_ev_restart(struct moss_ev *ev);

/* ---- descriptor watchers ------------------------------------------------ */

/* Watch fd (not owned: never closed by the loop) for `events`
 * (MOSS_EV_READ|WRITE).  fn gets the ready bits; arg is passed through.
 * Returns NULL on MOSS_ERR_NOMEM or when max_fds is reached. */
struct moss_ev_io *moss_ev_io_start(struct moss_ev *ev, int fd, unsigned events,
                                    moss_ev_io_fn *fn, void *arg);
/* Change the interest (0 = none, the watcher stays).  MOSS_ERR_NOSPC,
 * MOSS_ERR_NOMEM, MOSS_ERR_IO. */
int moss_ev_io_set(struct moss_ev_io *w, unsigned events);
/* Stop watching; no callback runs after this returns.  The handle is
 * freed by the loop.  NULL-safe. */
void moss_ev_io_stop(struct moss_ev_io *w);

/* ---- timers -------------------------------------------------------------- */

/* Call fn after delay_ms, then every period_ms if period_ms > 0.  A
 * repeating timer that fell behind fires once and is rescheduled from the
 * current time (no bursts).  NULL on MOSS_ERR_NOMEM or when max_timers
 * timers are armed. */
struct moss_ev_timer *moss_ev_timer_start(struct moss_ev *ev, uint32_t delay_ms,
                                          uint32_t period_ms,
                                          moss_ev_timer_fn *fn, void *arg);
/* Disarm and free (see the lifetime rules above).  NULL-safe. */
void moss_ev_timer_cancel(struct moss_ev_timer *t);
/* Number of armed timers (public and internal ones). */
size_t moss_ev_timer_count(const struct moss_ev *ev);

/* ---- deferred calls --------------------------------------------------------
 */

/* Queue fn(ev, arg) for step 4 of this or the next iteration (FIFO).
 * MOSS_ERR_NOMEM, MOSS_ERR_NOSPC (max_soon queued). */
int moss_ev_soon(struct moss_ev *ev, moss_ev_soon_fn *fn, void *arg);

/* ---- stopping on signals
 * ----------------------------------------------------- */

/* Handle SIGINT and SIGTERM in the loop (signalfd): fn(ev, signo, arg) is
 * called from the loop; with fn == NULL the loop just stops.  The signals
 * are blocked for the process until moss_ev_free().  MOSS_ERR_IO,
 * MOSS_ERR_EXIST (already catching). */
int moss_ev_catch_signals(struct moss_ev *ev, moss_ev_signal_fn *fn, void *arg);
/* The last signal caught (0 if none): mossd exits with 128 + it. */
int moss_ev_last_signal(const struct moss_ev *ev);

#endif

/* Unit tests of ev/: timers, deferred calls, watchers, signals, backends. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/log.h"
#include "moss/util.h"

static enum moss_ev_backend test_backend = MOSS_EV_BACKEND_EPOLL;

/* A loop on test_backend (NULL on failure). */
static struct moss_ev *test_ev_new(void) {
  struct moss_ev_cfg cfg = {.backend = test_backend};
  struct moss_ev *ev = NULL;
  if (moss_ev_new(&ev, &cfg) != MOSS_OK)
    return NULL;
  return ev;
}

static char order[16];
static int norder;

static void rec(struct moss_ev_timer *t, void *arg) {
  (void)t;
  if (norder < (int)sizeof(order) - 1)
    order[norder++] = *(const char *)arg;
}

static int reps;
static void repeat(struct moss_ev_timer *t, void *arg) {
  (void)arg;
  if (++reps == 3)
    moss_ev_timer_cancel(t); /* cancel from inside */
}

static void t_timers(void) {
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  norder = 0;
  reps = 0;
  memset(order, 0, sizeof(order));
  MT_CHECK(moss_ev_timer_start(ev, 30, 0, rec, "d") != NULL);
  MT_CHECK(moss_ev_timer_start(ev, 10, 0, rec, "a") != NULL);
  MT_CHECK(moss_ev_timer_start(ev, 20, 0, rec, "c") != NULL);
  MT_CHECK(moss_ev_timer_start(ev, 10, 0, rec, "b") != NULL); /* tie: FIFO */
  struct moss_ev_timer *x = moss_ev_timer_start(ev, 15, 0, rec, "x");
  MT_CHECK(moss_ev_timer_start(ev, 5, 5, repeat, NULL) != NULL);
  MT_CHECK_EQ(moss_ev_timer_count(ev), 6);
  moss_ev_timer_cancel(x);
  MT_CHECK_EQ(moss_ev_timer_count(ev), 5);
  uint64_t t0 = moss_ev_now(ev);
  while (moss_ev_timer_count(ev) > 0 && moss_ev_now(ev) - t0 < 2000)
    moss_ev_run_once(ev, -1); /* waits exactly until the next deadline */
  MT_CHECK_STR(order, "abcd");
  MT_CHECK_EQ(reps, 3);
  MT_CHECK(moss_ev_now(ev) - t0 >= 30);
  MT_CHECK_EQ(moss_ev_timer_count(ev), 0);
  /* Still-armed timers are freed with the loop. */
  MT_CHECK(moss_ev_timer_start(ev, 100000, 0, rec, "z") != NULL);
  moss_ev_free(ev);
}

static void t_timer_cap(void) {
  struct moss_ev_cfg cfg = {.backend = test_backend, .max_timers = 3};
  struct moss_ev *ev;
  MT_REQUIRE(moss_ev_new(&ev, &cfg) == MOSS_OK);
  for (int i = 0; i < 3; i++)
    MT_CHECK(moss_ev_timer_start(ev, 1000, 0, rec, "q") != NULL);
  MT_CHECK(moss_ev_timer_start(ev, 1000, 0, rec, "q") == NULL);
  moss_ev_free(ev);
}

static int soon_seq[8], nsoon;
static void soon_cb(struct moss_ev *ev, void *arg) {
  int v = (int)(intptr_t)arg;
  soon_seq[nsoon++] = v;
  if (v == 1)
    moss_ev_soon(ev, soon_cb, (void *)(intptr_t)3);
}

static void t_soon(void) {
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  nsoon = 0;
  MT_CHECK_EQ(moss_ev_soon(ev, soon_cb, (void *)(intptr_t)1), MOSS_OK);
  MT_CHECK_EQ(moss_ev_soon(ev, soon_cb, (void *)(intptr_t)2), MOSS_OK);
  moss_ev_run_once(ev, 1000); /* must not block: work is queued */
  MT_CHECK_EQ(nsoon, 2);      /* 3 was queued by a callback: next turn */
  moss_ev_run_once(ev, 1000);
  MT_CHECK_EQ(nsoon, 3);
  MT_CHECK(soon_seq[0] == 1 && soon_seq[1] == 2 && soon_seq[2] == 3);
  moss_ev_soon(ev, soon_cb, (void *)(intptr_t)5); /* freed by ev_free */
  moss_ev_free(ev);
}

static int io_hits;
static void io_read(struct moss_ev_io *w, int fd, unsigned events, void *arg) {
  char b[8];
  (void)arg;
  if (events & MOSS_EV_READ) {
    MT_CHECK(read(fd, b, sizeof(b)) == 1);
    io_hits++;
    moss_ev_io_stop(w); /* stop (and later free) from inside */
  }
}

static void t_io_watch(void) {
  int p[2];
  MT_REQUIRE(pipe(p) == 0);
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  io_hits = 0;
  struct moss_ev_io *w =
      moss_ev_io_start(ev, p[0], MOSS_EV_READ, io_read, NULL);
  MT_CHECK(w != NULL);
  MT_CHECK_EQ(moss_ev_run_once(ev, 0), 0);
  MT_CHECK(write(p[1], "x", 1) == 1);
  moss_ev_run_once(ev, 1000);
  MT_CHECK_EQ(io_hits, 1);
  MT_CHECK(write(p[1], "y", 1) == 1);
  moss_ev_run_once(ev, 20);
  MT_CHECK_EQ(io_hits, 1); /* stopped */
  /* A watcher left running is freed by moss_ev_free. */
  MT_CHECK(moss_ev_io_start(ev, p[0], MOSS_EV_READ, io_read, NULL) != NULL);
  moss_ev_free(ev);
  close(p[0]);
  close(p[1]);
}

static void t_signals(void) {
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  MT_CHECK_EQ(moss_ev_catch_signals(ev, NULL, NULL), MOSS_OK);
  MT_CHECK_EQ(moss_ev_catch_signals(ev, NULL, NULL), MOSS_ERR_EXIST);
  raise(SIGTERM); /* blocked: pending until the loop reads it */
  MT_CHECK_EQ(moss_ev_run(ev), MOSS_OK); /* returns because it stopped */
  MT_CHECK(moss_ev_stopped(ev));
  MT_CHECK_EQ(moss_ev_last_signal(ev), SIGTERM);
  moss_ev_free(ev);
}

static void test_backend_env(void) {
  struct moss_ev *ev;
  setenv("MOSS_EV_BACKEND", "poll", 1);
  MT_REQUIRE(moss_ev_new(&ev, NULL) == MOSS_OK);
  MT_CHECK_STR(moss_ev_backend_name(ev), "poll");
  moss_ev_free(ev);
  setenv("MOSS_EV_BACKEND", "kqueue", 1);
  MT_CHECK_EQ(moss_ev_new(&ev, NULL), MOSS_ERR_INVAL);
  unsetenv("MOSS_EV_BACKEND");
  MT_REQUIRE(moss_ev_new(&ev, NULL) == MOSS_OK);
  MT_CHECK_STR(moss_ev_backend_name(ev), "epoll");
  moss_ev_free(ev);
}

#define BOTH(fn)                          \
  static void fn##_epoll(void) {          \
    test_backend = MOSS_EV_BACKEND_EPOLL; \
    fn();                                 \
  }                                       \
  static void fn##_poll(void) {           \
    test_backend = MOSS_EV_BACKEND_POLL;  \
    fn();                                 \
  }
BOTH(t_timers)
BOTH(t_timer_cap)
BOTH(t_soon)
BOTH(t_io_watch)
BOTH(t_signals)

static void test_ev_all(void) {
  MT_RUN(t_timers_epoll);
  MT_RUN(t_timers_poll);
  MT_RUN(t_timer_cap_epoll);
  MT_RUN(t_timer_cap_poll);
  MT_RUN(t_soon_epoll);
  MT_RUN(t_soon_poll);
  MT_RUN(t_io_watch_epoll);
  MT_RUN(t_io_watch_poll);
  MT_RUN(t_signals_epoll);
  MT_RUN(t_signals_poll);
  MT_RUN(test_backend_env);
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  moss_log_set_stderr(0);
  test_ev_all();
  return mt_done();
}

/* Unit tests of conn/: address parsing, loopback TCP through the loop on
 * both backends. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/port.h"
#include "moss/util.h"
#include "conn_test.h"

/* One side of a test connection: what its callbacks saw. */
struct side {
  struct moss_conn *c;
  bool connected, closed, done;
  int close_reason, error, nclose, nerror, naccept;
  size_t got;          /* bytes received */
  size_t sent;         /* bytes sent (large transfer) */
  size_t total;        /* bytes to send/receive */
  bool bad;            /* pattern mismatch */
  size_t consume_upto; /* handler consumes only when >= this is offered */
  char buf[64];
};

static struct side srv, cli;
static int nsrv_closed;
static int npauses;

static uint8_t pat(size_t i) {
  return (uint8_t)(i * 7 + i / 251);
}

static void reset(void) {
  memset(&srv, 0, sizeof(srv));
  memset(&cli, 0, sizeof(cli));
  nsrv_closed = 0;
  npauses = 0;
}

static void on_accept(struct moss_conn *l, struct moss_conn *c) {
  (void)l;
  srv.c = c;
  srv.naccept++;
}

static void on_connect(struct moss_conn *c) {
  struct side *s = moss_conn_user(c);
  s->connected = true;
}

static void on_error(struct moss_conn *c, int err) {
  struct side *s = moss_conn_user(c);
  s->error = err;
  s->nerror++;
}

static void on_close(struct moss_conn *c, int reason) {
  struct side *s = moss_conn_user(c);
  s->closed = true;
  s->close_reason = reason;
  s->nclose++;
  if (s == &srv)
    nsrv_closed++;
  if (s->c == c)
    s->c = NULL;
}

/* ---- echo ------------------------------------------------------------------
 */

static long echo_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  size_t room = moss_conn_send_space(c);
  if (n > room)
    n = room;
  if (n > 0 && moss_conn_send(c, d, n) != MOSS_OK)
    return -1;
  if (n == 0) { /* our send buffer is full: stop reading */
    moss_conn_pause(c);
    npauses++;
  }
  srv.got += n;
  return (long)n;
}

static void echo_sent(struct moss_conn *c) {
  if (moss_conn_is_paused(c))
    moss_conn_resume(c);
}

static const struct moss_conn_handlers echo_h = {on_accept, NULL,     echo_data,
                                                 echo_sent, on_error, on_close};

static long cli_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  struct side *s = moss_conn_user(c);
  for (size_t i = 0; i < n; i++) {
    if (s->got + i < sizeof(s->buf))
      s->buf[s->got + i] = (char)d[i];
    if (s->total > 0 && d[i] != pat(s->got + i))
      s->bad = true;
  }
  s->got += n;
  if (s->total == 0 && s->got >= 5) {
    moss_conn_close(c);
    s->done = true;
  }
  return (long)n;
}

static void cli_connect(struct moss_conn *c) {
  on_connect(c);
  MT_CHECK_EQ(moss_conn_send(c, "hello", 5), MOSS_OK);
}

static const struct moss_conn_handlers cli_h = {NULL, cli_connect, cli_data,
                                                NULL, on_error,    on_close};

static struct moss_conn *listen_any(struct moss_ev *ev,
                                    const struct moss_conn_opts *o,
                                    const struct moss_conn_handlers *h,
                                    char *addr) {
  struct moss_conn *l;
  char why[96];
  int rc =
      moss_conn_listen(ev, "127.0.0.1:0", o, h, &srv, &l, why, sizeof(why));
  if (rc != MOSS_OK) {
    printf("  listen: %s\n", why);
    return NULL;
  }
  snprintf(addr, 32, "127.0.0.1:%u", (unsigned)moss_conn_local_port(l));
  return l;
}

static void t_echo(void) {
  char addr[32];
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  struct moss_conn *l = listen_any(ev, NULL, &echo_h, addr);
  MT_REQUIRE(l != NULL);
  MT_CHECK(moss_conn_local_port(l) != 0);
  MT_CHECK(moss_conn_is_listener(l));
  MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &cli_h, &cli, &cli.c), MOSS_OK);
  MT_CHECK(test_run_until(ev, &srv.closed, 3000));
  MT_CHECK(cli.connected && cli.done);
  MT_CHECK_MEM(cli.buf, "hello", 5);
  MT_CHECK_EQ(srv.naccept, 1);
  MT_CHECK(test_run_until(ev, &cli.closed, 3000));
  MT_CHECK_EQ(cli.close_reason, MOSS_OK);         /* we closed */
  MT_CHECK_EQ(srv.close_reason, MOSS_ERR_CLOSED); /* peer closed */
  MT_CHECK_EQ(cli.nerror + srv.nerror, 0);
  MT_CHECK_EQ(cli.nclose, 1);
  MT_CHECK_EQ(moss_conn_count(l), 0);
  moss_conn_close(l);
  moss_ev_run_once(ev, 0);
  MT_CHECK_EQ(srv.nclose, 2); /* the listener's close, too */
  moss_ev_free(ev);
}

/* ---- 1 MB through small caps, both directions paused at times -------------
 */

static void big_pump(struct moss_conn *c) {
  struct side *s = moss_conn_user(c);
  uint8_t chunk[700];
  while (s->sent < s->total) {
    size_t n = s->total - s->sent;
    if (n > sizeof(chunk))
      n = sizeof(chunk);
    if (moss_conn_send_space(c) < n)
      return; /* wait for on_sent */
    for (size_t i = 0; i < n; i++)
      chunk[i] = pat(s->sent + i);
    MT_CHECK_EQ(moss_conn_send(c, chunk, n), MOSS_OK);
    s->sent += n;
  }
}

static void big_connect(struct moss_conn *c) {
  on_connect(c);
  big_pump(c);
}

/* The client stops reading for a while so that the server's kernel buffer
 * fills, then its capped send buffer, and it has to pause its input. */
static int check_ticks;
static void unpause(struct moss_ev_timer *t, void *arg) {
  struct moss_conn *c = arg;
  if (npauses > 0 || ++check_ticks > 100) {
    moss_conn_resume(c);
    moss_ev_timer_cancel(t);
  }
}

static long big_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  struct side *s = moss_conn_user(c);
  if (s->got >= 65536 && check_ticks == 0) {
    check_ticks = 1; /* once */
    moss_conn_pause(c);
    MT_CHECK(moss_ev_timer_start(moss_conn_ev(c), 20, 20, unpause, c) != NULL);
    return 0;
  }
  if (n > 300)
    n = 300; /* consume in small bites: exercises rx buffering */
  for (size_t i = 0; i < n; i++)
    if (d[i] != pat(s->got + i))
      s->bad = true;
  s->got += n;
  if (s->got == s->total) {
    s->done = true;
    moss_conn_close(c);
  }
  return (long)n;
}

static const struct moss_conn_handlers big_h = {
    NULL, big_connect, big_data, big_pump, on_error, on_close};

static void t_large(void) {
  char addr[32];
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  /* Small kernel buffers so that backpressure reaches our caps (much
   * smaller ones stall loopback TCP itself: its MSS is 64 KB). */
  struct moss_conn_opts so = {
      .rx_cap = 1024, .tx_cap = 1024, .sock_buf = 65536};
  struct moss_conn_opts co = {.rx_cap = 512, .tx_cap = 4096, .sock_buf = 65536};
  struct moss_conn *l = listen_any(ev, &so, &echo_h, addr);
  MT_REQUIRE(l != NULL);
  cli.total = 1u << 20;
  check_ticks = 0;
  struct moss_alloc_stats st;
  moss_alloc_reset_peak();
  MT_CHECK_EQ(moss_conn_connect(ev, addr, &co, &big_h, &cli, &cli.c), MOSS_OK);
  /* 60 s is a hang guard, not a speed check: with 20 ms pauses a loaded
   * machine (ASan, parallel builds) takes far longer than an idle one. */
  MT_CHECK(test_run_until(ev, &cli.closed, 60000));
  MT_CHECK_EQ(cli.got, cli.total);
  MT_CHECK_EQ(srv.got, cli.total);
  MT_CHECK(!cli.bad);
  MT_CHECK(npauses > 0); /* backpressure really happened */
  MT_CHECK_EQ(cli.nerror + srv.nerror, 0);
  moss_alloc_get_stats(&st);
  /* Caps hold: 2 conns, buffers <= 1024+1024+512+4096 plus state. */
  MT_CHECK(st.by_sub[MOSS_SUB_CONN] <= 64 * 1024);
  MT_CHECK(st.peak - st.in_use < 16 * 1024);
  MT_CHECK(test_run_until(ev, &srv.closed, 3000));
  moss_ev_free(ev);
}

/* ---- abort, refused, timeout -----------------------------------------------
 */

static void abort_connect(struct moss_conn *c) {
  on_connect(c);
  moss_conn_send(c, "queued?", 7);
  moss_conn_abort(c);
  moss_conn_abort(c); /* idempotent */
  moss_conn_close(c);
  MT_CHECK_EQ(moss_conn_send(c, "x", 1), MOSS_ERR_CLOSED);
  MT_CHECK(moss_conn_is_closing(c));
}

static const struct moss_conn_handlers abort_h = {
    NULL, abort_connect, cli_data, NULL, on_error, on_close};

static void t_abort(void) {
  char addr[32];
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  MT_REQUIRE(listen_any(ev, NULL, &echo_h, addr) != NULL);
  MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &abort_h, &cli, &cli.c),
              MOSS_OK);
  MT_CHECK(test_run_until(ev, &cli.closed, 3000));
  MT_CHECK_EQ(cli.close_reason, MOSS_OK);
  MT_CHECK_EQ(cli.nclose, 1);
  MT_CHECK(test_run_until(ev, &srv.closed, 3000));
  MT_CHECK(srv.close_reason == MOSS_ERR_CLOSED ||
           srv.close_reason == MOSS_ERR_IO);
  moss_ev_free(ev);
}

static void t_refused(void) {
  char addr[32];
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  struct moss_conn *l = listen_any(ev, NULL, &echo_h, addr);
  MT_REQUIRE(l != NULL);
  moss_conn_close(l); /* nobody listens on that port any more */
  moss_ev_run_once(ev, 0);
  MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &cli_h, &cli, &cli.c), MOSS_OK);
  MT_CHECK(test_run_until(ev, &cli.closed, 3000));
  MT_CHECK(!cli.connected);
  MT_CHECK_EQ(cli.nerror, 1);
  MT_CHECK_EQ(cli.error, MOSS_ERR_IO);
  MT_CHECK_EQ(cli.close_reason, MOSS_ERR_IO);
  moss_ev_free(ev);
}

static void t_connect_timeout(void) {
  /* A listener nobody accepts from, backlog 0: once its queue is full the
   * kernel drops further SYNs, so those connects hang until our timer. */
  int lfd;
  uint16_t port;
  char addr[32];
  struct side many[6];
  memset(many, 0, sizeof(many));
  reset();
  MT_REQUIRE(moss_port_tcp_listen(0x7f000001u, 0, 0, &lfd, &port) == MOSS_OK);
  snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  struct moss_conn_opts o = {.connect_timeout_ms = 300};
  for (int i = 0; i < 6; i++)
    MT_CHECK_EQ(moss_conn_connect(ev, addr, &o, &cli_h, &many[i], &many[i].c),
                MOSS_OK);
  uint64_t t0 = moss_ev_now(ev);
  int timeouts = 0, closed = 0;
  while (moss_ev_now(ev) - t0 < 3000) {
    moss_ev_run_once(ev, 50);
    closed = timeouts = 0;
    for (int i = 0; i < 6; i++) {
      closed += many[i].closed;
      timeouts += many[i].close_reason == MOSS_ERR_TIMEOUT;
    }
    if (timeouts > 0 && moss_ev_now(ev) - t0 > 400)
      break;
  }
  MT_CHECK(timeouts > 0);
  for (int i = 0; i < 6; i++)
    if (many[i].close_reason == MOSS_ERR_TIMEOUT)
      MT_CHECK_EQ(many[i].error, MOSS_ERR_TIMEOUT);
  moss_ev_free(ev); /* the connected ones close with MOSS_ERR_CLOSED */
  for (int i = 0; i < 6; i++)
    MT_CHECK_EQ(many[i].nclose, 1);
  moss_port_close(lfd);
}

/* ---- closing from inside callbacks
 * -------------------------------------------- */

static long rude_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  (void)d;
  srv.got += n;
  moss_conn_abort(c);
  moss_conn_close(c);
  MT_CHECK_EQ(moss_conn_send(c, "x", 1), MOSS_ERR_CLOSED);
  return 0; /* not consumed, but we are closing: dropped */
}

static void rude_accept(struct moss_conn *l, struct moss_conn *c) {
  on_accept(l, c);
  moss_conn_close(l); /* the listener goes; the new conn stays */
}

static void rude_close(struct moss_conn *c, int reason) {
  on_close(c, reason);
  moss_conn_abort(c); /* no-ops during on_close */
  moss_conn_close(c);
  MT_CHECK_EQ(moss_conn_send(c, "x", 1), MOSS_ERR_CLOSED);
}

static const struct moss_conn_handlers rude_h = {
    rude_accept, NULL, rude_data, NULL, on_error, rude_close};

static void t_close_in_callback(void) {
  char addr[32];
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  MT_REQUIRE(listen_any(ev, NULL, &rude_h, addr) != NULL);
  MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &cli_h, &cli, &cli.c), MOSS_OK);
  MT_CHECK(test_run_until(ev, &cli.closed, 3000));
  for (int i = 0; i < 5; i++)
    moss_ev_run_once(ev, 10);
  MT_CHECK_EQ(nsrv_closed, 2); /* listener + accepted conn, once each */
  MT_CHECK_EQ(srv.got, 5);
  MT_CHECK_EQ(cli.close_reason, MOSS_ERR_CLOSED);
  moss_ev_free(ev);
}

/* ---- max connections
 * ---------------------------------------------------------------- */

static void t_max_conns(void) {
  char addr[32];
  struct side many[4];
  memset(many, 0, sizeof(many));
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  struct moss_conn_opts o = {.max_conns = 2};
  struct moss_conn *l = listen_any(ev, &o, &echo_h, addr);
  MT_REQUIRE(l != NULL);
  static const struct moss_conn_handlers quiet = {NULL, on_connect, NULL,
                                                  NULL, on_error,   on_close};
  for (int i = 0; i < 4; i++)
    MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &quiet, &many[i], &many[i].c),
                MOSS_OK);
  uint64_t t0 = moss_ev_now(ev);
  int closed = 0;
  while (moss_ev_now(ev) - t0 < 3000 && closed < 2) {
    moss_ev_run_once(ev, 20);
    closed = 0;
    for (int i = 0; i < 4; i++)
      closed += many[i].closed;
  }
  MT_CHECK_EQ(closed, 2); /* the two over the limit */
  MT_CHECK_EQ(srv.naccept, 2);
  MT_CHECK_EQ(moss_conn_count(l), 2);
  moss_ev_free(ev);
}

/* ---- memory: idle cost and shedding
 * -------------------------------------------------- */

static void t_idle_cost(void) {
  enum { N = 8 };
  char addr[32];
  struct side many[N];
  memset(many, 0, sizeof(many));
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  struct moss_conn_opts o = {.max_conns = N};
  struct moss_conn *l = listen_any(ev, &o, &echo_h, addr);
  MT_REQUIRE(l != NULL);
  moss_ev_run_once(ev, 0);
  struct moss_alloc_stats a, b;
  moss_alloc_get_stats(&a);
  static const struct moss_conn_handlers quiet = {NULL, on_connect, NULL,
                                                  NULL, on_error,   on_close};
  for (int i = 0; i < N; i++)
    MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &quiet, &many[i], &many[i].c),
                MOSS_OK);
  uint64_t t0 = moss_ev_now(ev);
  int up = 0;
  while (moss_ev_now(ev) - t0 < 3000 && (up < N || srv.naccept < N)) {
    moss_ev_run_once(ev, 20);
    up = 0;
    for (int i = 0; i < N; i++)
      up += many[i].connected;
  }
  MT_REQUIRE(up == N && srv.naccept == N);
  moss_alloc_get_stats(&b);
  size_t per = (b.in_use - a.in_use) / (2 * N); /* N clients + N served */
  printf("  idle tcp conn: %zu bytes (%s)\n", per, moss_ev_backend_name(ev));
  MT_CHECK(per > 0);
  MT_CHECK(per <= MOSS_CONN_IDLE_BYTES + (test_backend == MOSS_EV_BACKEND_POLL
                                              ? MOSS_CONN_IDLE_POLL_EXTRA
                                              : 0));
  MT_CHECK_EQ(b.blocks - a.blocks, 2 * N); /* one block each, no buffers */
  moss_ev_free(ev);
}

static long stingy_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  (void)c;
  (void)d;
  srv.got += n;
  return 0; /* waits for a message that never completes */
}

static const struct moss_conn_handlers stingy_h = {
    on_accept, NULL, stingy_data, NULL, on_error, on_close};

static void t_rx_cap_and_oom(void) {
  char addr[32];
  uint8_t junk[600];
  memset(junk, 'j', sizeof(junk));
  for (int oom = 0; oom < 2; oom++) {
    reset();
    struct moss_ev *ev = test_ev_new();
    MT_REQUIRE(ev != NULL);
    struct moss_conn_opts o = {.rx_cap = 256};
    MT_REQUIRE(listen_any(ev, &o, &stingy_h, addr) != NULL);
    static const struct moss_conn_handlers quiet = {NULL, on_connect, NULL,
                                                    NULL, on_error,   on_close};
    MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &quiet, &cli, &cli.c),
                MOSS_OK);
    while (srv.naccept == 0 || !cli.connected)
      moss_ev_run_once(ev, 20);
    if (oom)
      moss_alloc_fail_after(1); /* the server's receive buffer */
    MT_CHECK_EQ(moss_conn_send(cli.c, junk, oom ? 10 : sizeof(junk)), MOSS_OK);
    MT_CHECK(test_run_until(ev, &srv.closed, 3000));
    moss_alloc_fail_after(0);
    MT_CHECK_EQ(srv.error, oom ? MOSS_ERR_NOMEM : MOSS_ERR_TOOBIG);
    MT_CHECK(test_run_until(ev, &cli.closed, 3000));
    moss_ev_free(ev);
  }
}

static void t_idle_timeout(void) {
  char addr[32];
  reset();
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  struct moss_conn_opts o = {.idle_timeout_ms = 150};
  MT_REQUIRE(listen_any(ev, &o, &echo_h, addr) != NULL);
  static const struct moss_conn_handlers quiet = {NULL, on_connect, NULL,
                                                  NULL, on_error,   on_close};
  MT_CHECK_EQ(moss_conn_connect(ev, addr, NULL, &quiet, &cli, &cli.c), MOSS_OK);
  uint64_t t0 = moss_ev_now(ev);
  MT_CHECK(test_run_until(ev, &srv.closed, 3000));
  MT_CHECK(moss_ev_now(ev) - t0 >= 150);
  MT_CHECK_EQ(srv.error, MOSS_ERR_TIMEOUT);
  MT_CHECK(test_run_until(ev, &cli.closed, 3000));
  MT_CHECK_EQ(cli.close_reason, MOSS_ERR_CLOSED);
  moss_ev_free(ev);
}

/* ---- a conn over a non-TCP descriptor
 * ---------------------------------------------- */

static void t_from_fd(void) {
  int sv[2];
  char b[16];
  reset();
  MT_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  static const struct moss_conn_handlers h = {NULL, NULL,     cli_data,
                                              NULL, on_error, on_close};
  cli.total = 0;
  MT_REQUIRE(moss_conn_from_fd(ev, sv[0], NULL, &h, &cli, &cli.c) == MOSS_OK);
  MT_CHECK_STR(moss_conn_kind(cli.c), "fd");
  MT_CHECK_EQ(moss_conn_peer(cli.c, b, sizeof(b)), MOSS_OK);
  MT_CHECK_STR(b, "-");
  MT_CHECK_EQ(moss_conn_send(cli.c, "ping", 4), MOSS_OK);
  MT_CHECK(read(sv[1], b, sizeof(b)) == 4);
  MT_CHECK_MEM(b, "ping", 4);
  MT_CHECK(write(sv[1], "hello", 5) == 5);
  MT_CHECK(test_run_until(ev, &cli.closed, 3000)); /* cli_data closes */
  MT_CHECK_MEM(cli.buf, "hello", 5);
  MT_CHECK_EQ(cli.close_reason, MOSS_OK);
  MT_CHECK(read(sv[1], b, sizeof(b)) == 0); /* our end was closed */
  close(sv[1]);
  moss_ev_free(ev);
}

static void test_listen_errors(void) {
  char why[96], addr[32];
  struct moss_conn *l, *l2;
  struct moss_ev *ev = test_ev_new();
  MT_REQUIRE(ev != NULL);
  reset();
  MT_CHECK_EQ(moss_conn_listen(ev, "1.2.3:x", NULL, &echo_h, NULL, &l, why,
                               sizeof(why)),
              MOSS_ERR_INVAL);
  MT_CHECK(l == NULL && strstr(why, "invalid address") != NULL);
  l = listen_any(ev, NULL, &echo_h, addr);
  MT_REQUIRE(l != NULL);
  MT_CHECK_EQ(
      moss_conn_listen(ev, addr, NULL, &echo_h, NULL, &l2, why, sizeof(why)),
      MOSS_ERR_BUSY);
  MT_CHECK(strstr(why, "in use") != NULL);
  /* 192.0.2.1 (TEST-NET) is on no interface here. */
  MT_CHECK_EQ(moss_conn_listen(ev, "192.0.2.1:0", NULL, &echo_h, NULL, &l2, why,
                               sizeof(why)),
              MOSS_ERR_NOENT);
  MT_CHECK(why[0] != '\0');
  moss_ev_free(ev);
}

/* ---- the port map (pure) ------------------------------------------------- */

static void check_map(const char *map, const char *addr, const char *want,
                      bool want_mapped) {
  char out[64];
  bool mapped = !want_mapped;
  MT_CHECK_EQ(moss_conn_map_addr(map, addr, out, sizeof(out), &mapped),
              MOSS_OK);
  MT_CHECK_STR(out, want);
  MT_CHECK_EQ(mapped, want_mapped);
}

static void test_map_addr(void) {
  check_map("443=8443", "443", "0.0.0.0:8443", true);
  check_map("80=8000,443=8443", "127.0.0.1:80", "127.0.0.1:8000", true);
  check_map("80=8000,443=8443", ":443", "0.0.0.0:8443", true);
  /* A target with an address replaces the address too. */
  check_map("80=127.0.0.1:8000", "80", "127.0.0.1:8000", true);
  /* Unmapped: normalised only. */
  check_map(NULL, "80", "0.0.0.0:80", false);
  check_map("", ":443", "0.0.0.0:443", false);
  check_map("81=8001", "10.1.2.3:80", "10.1.2.3:80", false);
  char out[64], tiny[8];
  bool mapped;
  MT_CHECK_EQ(moss_conn_map_addr("80", "80", out, sizeof(out), &mapped),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_conn_map_addr("x=8000", "80", out, sizeof(out), &mapped),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_conn_map_addr("70000=1", "80", out, sizeof(out), &mapped),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_conn_map_addr(NULL, "nope", out, sizeof(out), &mapped),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_conn_map_addr(NULL, "80", tiny, sizeof(tiny), &mapped),
              MOSS_ERR_TOOBIG);
}

static void test_parse_addr(void) {
  uint32_t ip;
  uint16_t port;
  MT_CHECK_EQ(moss_conn_parse_addr("127.0.0.1:8080", &ip, &port), MOSS_OK);
  MT_CHECK(ip == 0x7f000001u && port == 8080);
  MT_CHECK_EQ(moss_conn_parse_addr(":443", &ip, &port), MOSS_OK);
  MT_CHECK(ip == 0 && port == 443);
  MT_CHECK_EQ(moss_conn_parse_addr("0", &ip, &port), MOSS_OK);
  MT_CHECK(ip == 0 && port == 0);
  MT_CHECK_EQ(moss_conn_parse_addr("localhost:1", &ip, &port), MOSS_OK);
  MT_CHECK(ip == 0x7f000001u);
  const char *bad[] = {"",
                       "1.2.3:80",
                       "1.2.3.4:",
                       "1.2.3.4:65536",
                       "256.1.1.1:1",
                       "1.2.3.4.5:1",
                       "x:1",
                       "80x",
                       "1.2.3.4:-1",
                       "999999"};
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(bad); i++)
    MT_CHECK_EQ(moss_conn_parse_addr(bad[i], &ip, &port), MOSS_ERR_INVAL);
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
BOTH(t_echo)
BOTH(t_large)
BOTH(t_abort)
BOTH(t_refused)
BOTH(t_connect_timeout)
BOTH(t_close_in_callback)
BOTH(t_max_conns)
BOTH(t_idle_cost)
BOTH(t_rx_cap_and_oom)
BOTH(t_idle_timeout)
BOTH(t_from_fd)

void test_conn_all(void) {
  MT_RUN(test_parse_addr);
  MT_RUN(test_map_addr);
  MT_RUN(t_echo_epoll);
  MT_RUN(t_echo_poll);
  MT_RUN(t_large_epoll);
  MT_RUN(t_large_poll);
  MT_RUN(t_abort_epoll);
  MT_RUN(t_abort_poll);
  MT_RUN(t_refused_epoll);
  MT_RUN(t_refused_poll);
  MT_RUN(t_connect_timeout_epoll);
  MT_RUN(t_connect_timeout_poll);
  MT_RUN(t_close_in_callback_epoll);
  MT_RUN(t_close_in_callback_poll);
  MT_RUN(t_max_conns_epoll);
  MT_RUN(t_max_conns_poll);
  MT_RUN(t_idle_cost_epoll);
  MT_RUN(t_idle_cost_poll);
  MT_RUN(t_rx_cap_and_oom_epoll);
  MT_RUN(t_rx_cap_and_oom_poll);
  MT_RUN(t_idle_timeout_epoll);
  MT_RUN(t_idle_timeout_poll);
  MT_RUN(t_from_fd_epoll);
  MT_RUN(t_from_fd_poll);
  MT_RUN(test_listen_errors);
}

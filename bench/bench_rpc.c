/*
 * RPC runtime benchmarks against the real device: $MOSS_BUILD/bin/mossd
 * runs as a child process (temp state dir, HTTP on a free loopback port,
 * log level 0 so that logging does not dominate) and this program is its
 * client, in C, over blocking sockets.
 *
 *   1. RPC.Ping calls/s and p50/p99 latency, one connection, sequential
 *      calls, over WebSocket (/rpc, masked client frames) and over HTTP/1.1
 *      keep-alive (POST /rpc).  Baseline: a plain TCP server in a forked
 *      child process that answers each request with mossd's own reply
 *      bytes (captured in the warm-up) in one write, driven by the very
 *      same client code, in batches interleaved with the moss ones: the
 *      floor the loopback transport and the client cost, so the difference
 *      is what mossd itself adds.  A second such server writes each reply
 *      in two pieces, split where mossd splits it (diagnostic row).
 *   2. Counted heap per idle connection (Sys.GetInfo ram_free and the
 *      per-subsystem "mem" object, read over one extra connection before
 *      and after opening HEAP_CONNS connections): upgraded WebSocket with
 *      one call done, HTTP keep-alive with one request done, and accepted
 *      HTTP without a request.  Baseline: the bare conn layer (a moss_conn
 *      listener in this process, one echo exchange per connection),
 *      measured in the same run with the same counting allocator.
 *
 * Bounded: every socket has a 5 s timeout, the call loops stop after
 * CALLS calls or CALL_SECS seconds, and an alarm ends the whole run.
 * mossd is stopped on every exit path (and gets SIGTERM through
 * PR_SET_PDEATHSIG should this process die).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/ws_frame.h"

#define WARMUP 100
#define CALLS 10000
#define BATCH 500
#define CALL_SECS 3.0
/* The HTTP server accepts MOSS_HTTP_DEFAULT_MAX_CONNS (16) connections;
 * the probe takes one, one is left as slack for a closing one. */
#define HEAP_CONNS 14
#define SOCK_TIMEOUT_S 5
#define WATCHDOG_S 120
#define RD_CAP 16384

static pid_t g_mossd = -1;
static pid_t g_echo[2] = {-1, -1}; /* the baseline servers */
static char g_tmp[64];

/* ---- time, cleanup ------------------------------------------------------- */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
                    struct FTW *f) {
  (void)sb;
  (void)flag;
  (void)f;
  remove(p);
  return 0;
}

static void stop_mossd(void) {
  for (int i = 0; i < 2; i++) {
    if (g_echo[i] > 0) {
      kill(g_echo[i], SIGKILL);
      waitpid(g_echo[i], NULL, 0);
      g_echo[i] = -1;
    }
  }
  if (g_mossd > 0) {
    kill(g_mossd, SIGTERM);
    int st;
    double t0 = now();
    while (waitpid(g_mossd, &st, WNOHANG) == 0) {
      if (now() - t0 > 3.0) {
        kill(g_mossd, SIGKILL);
        waitpid(g_mossd, &st, 0);
        break;
      }
      sleep_ms(10);
    }
    g_mossd = -1;
  }
}

static void remove_tmp(void) {
  if (g_tmp[0] != '\0') {
    nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_tmp[0] = '\0';
  }
}

/* Async-signal-safe: stop mossd (it cleans up after itself on SIGTERM),
 * then remove what it is known to leave in the temp dir with unlink and
 * rmdir (nftw is not safe here); an unknown file leaves the dir behind. */
static void on_signal(int sig) {
  for (int i = 0; i < 2; i++)
    if (g_echo[i] > 0)
      kill(g_echo[i], SIGKILL);
  if (g_mossd > 0) {
    kill(g_mossd, SIGTERM);
    struct timespec ts = {0, 10000000L};
    int i = 0;
    while (waitpid(g_mossd, NULL, WNOHANG) == 0 && i++ < 200)
      nanosleep(&ts, NULL);
    if (i > 200)
      kill(g_mossd, SIGKILL);
  }
  static const char *const files[] = {
      "/state/flash.bin", "/state/flash.bin.wear",
      "/state/mac",       "/state/uart",
      "/mossd.log",       NULL};
  static const char *const dirs[] = {"/moss/ports", "/moss", "/state", "",
                                     NULL};
  char path[sizeof(g_tmp) + 32];
  size_t tl = strlen(g_tmp);
  for (int k = 0; tl > 0 && k < 2; k++) {
    const char *const *list = k == 0 ? files : dirs;
    for (int i = 0; list[i] != NULL; i++) {
      size_t nl = strlen(list[i]);
      memcpy(path, g_tmp, tl);
      memcpy(path + tl, list[i], nl + 1);
      if (k == 0)
        unlink(path);
      else
        rmdir(path);
    }
  }
  static const char msg[] = "bench_rpc: stopped (signal or watchdog)\n";
  ssize_t w = write(2, msg, sizeof(msg) - 1);
  (void)w;
  _exit(128 + sig);
}

/* mossd's stderr to ours: always, or only when a sanitizer reported
 * something (SAN=1 builds: leaks show at its exit). */
static void dump_log(bool always) {
  if (g_tmp[0] == '\0')
    return;
  char log[128], line[256];
  snprintf(log, sizeof(log), "%s/mossd.log", g_tmp);
  FILE *f = fopen(log, "r");
  if (f == NULL)
    return;
  bool show = always;
  while (!show && fgets(line, sizeof(line), f) != NULL)
    show = strstr(line, "Sanitizer") != NULL;
  if (show) {
    rewind(f);
    fprintf(stderr, "bench_rpc: mossd stderr:\n");
    while (fgets(line, sizeof(line), f) != NULL)
      fputs(line, stderr);
  }
  fclose(f);
}

static void fail(const char *what) {
  fprintf(stderr, "bench_rpc: %s\n", what);
  stop_mossd();
  dump_log(true);
  remove_tmp();
  exit(1);
}

/* ---- mossd --------------------------------------------------------------- */

/* Starts mossd and returns its HTTP port (from its "HTTP: " line). */
static uint16_t start_mossd(void) {
  const char *build = getenv("MOSS_BUILD");
  if (build == NULL || *build == '\0')
    build = "build";
  char exe[512];
  snprintf(exe, sizeof(exe), "%s/bin/mossd", build);
  if (access(exe, X_OK) != 0) {
    fprintf(stderr,
            "bench_rpc: %s not found (make builds it; set "
            "MOSS_BUILD for another build dir)\n",
            exe);
    exit(1);
  }
  snprintf(g_tmp, sizeof(g_tmp), "/tmp/moss-bench-rpc-XXXXXX");
  if (mkdtemp(g_tmp) == NULL) {
    g_tmp[0] = '\0';
    fail("mkdtemp failed");
  }
  char state[96], log[96];
  snprintf(state, sizeof(state), "%s/state", g_tmp);
  snprintf(log, sizeof(log), "%s/mossd.log", g_tmp);
  if (mkdir(state, 0700) != 0)
    fail("cannot create the state dir");
  int pfd[2];
  if (pipe(pfd) != 0)
    fail("pipe failed");
  pid_t pid = fork();
  if (pid < 0)
    fail("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* Its port registry stays in the temp dir, out of `mos`'s sight. */
    setenv("XDG_RUNTIME_DIR", g_tmp, 1);
    int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(pfd[1], 1);
    if (lfd >= 0)
      dup2(lfd, 2);
    close(pfd[0]);
    close(pfd[1]);
    execl(exe, "mossd", "--state", state, "--set",
          "http.listen_addr=127.0.0.1:0", "--log-level", "0", (char *)NULL);
    _exit(127);
  }
  g_mossd = pid;
  close(pfd[1]);
  char out[1024];
  size_t len = 0;
  double t0 = now();
  uint16_t port = 0;
  while (port == 0) {
    if (now() - t0 > 15.0)
      fail("mossd printed no HTTP line within 15 s");
    struct pollfd p = {pfd[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0)
      continue;
    ssize_t n = read(pfd[0], out + len, sizeof(out) - 1 - len);
    if (n <= 0)
      fail("mossd exited before printing its HTTP line");
    len += (size_t)n;
    out[len] = '\0';
    const char *h = strstr(out, "HTTP: ");
    const char *nl = h ? strchr(h, '\n') : NULL;
    if (nl != NULL) {
      const char *colon = memrchr(h, ':', (size_t)(nl - h));
      long v = colon ? strtol(colon + 1, NULL, 10) : 0;
      if (v <= 0 || v > 65535)
        fail("cannot read mossd's HTTP port");
      port = (uint16_t)v;
    }
    if (len == sizeof(out) - 1)
      fail("no HTTP line from mossd");
  }
  /* Left open: mossd writes no more, and a closed pipe would kill it with
   * SIGPIPE if it did (a reboot prints the endpoints again). */
  return port;
}

/* ---- client sockets ------------------------------------------------------ */

static int tcp_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  struct timeval tv = {SOCK_TIMEOUT_S, 0};
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

/* A receive buffer: the last message returned occupies buf[0..used). */
struct rd {
  int fd;
  size_t len, used;
  uint8_t buf[RD_CAP];
};

static void rd_init(struct rd *r, int fd) {
  r->fd = fd;
  r->len = 0;
  r->used = 0;
}

static void rd_discard(struct rd *r) {
  memmove(r->buf, r->buf + r->used, r->len - r->used);
  r->len -= r->used;
  r->used = 0;
}

static int rd_fill(struct rd *r) {
  if (r->len == sizeof(r->buf))
    return -1;
  for (;;) {
    ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    r->len += (size_t)n;
    return 0;
  }
}

/* One HTTP response with a Content-Length body. */
static int http_read(struct rd *r, int *status, const uint8_t **body,
                     size_t *blen) {
  rd_discard(r);
  const uint8_t *end;
  while ((end = memmem(r->buf, r->len, "\r\n\r\n", 4)) == NULL)
    if (rd_fill(r) != 0)
      return -1;
  size_t head = (size_t)(end - r->buf) + 4;
  if (head < 12 || memcmp(r->buf, "HTTP/1.1 ", 9) != 0)
    return -1;
  *status =
      (r->buf[9] - '0') * 100 + (r->buf[10] - '0') * 10 + (r->buf[11] - '0');
  size_t clen = 0;
  bool have = false;
  for (size_t i = 0; i + 16 < head; i++) {
    if (r->buf[i] == '\n' &&
        strncasecmp((const char *)r->buf + i + 1, "content-length:", 15) == 0) {
      size_t k = i + 16;
      while (k < head && r->buf[k] == ' ')
        k++;
      while (k < head && r->buf[k] >= '0' && r->buf[k] <= '9')
        clen = clen * 10 + (size_t)(r->buf[k++] - '0');
      have = true;
      break;
    }
  }
  if (!have || head + clen > sizeof(r->buf))
    return -1;
  while (r->len < head + clen)
    if (rd_fill(r) != 0)
      return -1;
  *body = r->buf + head;
  *blen = clen;
  r->used = head + clen;
  return 0;
}

/* One text message in one frame (mossd sends no fragments); pings and
 * pongs are skipped. */
static int ws_read(struct rd *r, const uint8_t **payload, size_t *plen) {
  for (;;) {
    rd_discard(r);
    struct moss_ws_frame f;
    int n;
    while ((n = moss_ws_parse_frame(MOSS_WS_CLIENT, r->buf, r->len,
                                    sizeof(r->buf) - MOSS_WS_MAX_HEADER, &f)) ==
           0)
      if (rd_fill(r) != 0)
        return -1;
    if (n < 0)
      return -1;
    r->used = (size_t)n;
    if (f.opcode == MOSS_WS_OP_TEXT && f.fin) {
      *payload = f.payload;
      *plen = (size_t)f.payload_len;
      return 0;
    }
    if (f.opcode != MOSS_WS_OP_PING && f.opcode != MOSS_WS_OP_PONG)
      return -1;
  }
}

enum proto { P_WS, P_HTTP };

struct client {
  enum proto p;
  uint32_t seed;  /* mask keys */
  size_t req_len; /* wire bytes of the last request */
  struct rd rd;
};

static int ws_handshake(struct client *c) {
  static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
  char req[512];
  int n = snprintf(req, sizeof(req),
                   "GET /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: json-rpc\r\n\r\n",
                   key);
  if (send_all(c->rd.fd, req, (size_t)n) != 0)
    return -1;
  struct rd *r = &c->rd;
  const uint8_t *end;
  while ((end = memmem(r->buf, r->len, "\r\n\r\n", 4)) == NULL)
    if (rd_fill(r) != 0)
      return -1;
  size_t head = (size_t)(end - r->buf) + 4;
  char accept[MOSS_WS_ACCEPT_LEN + 1];
  if (moss_ws_accept_key(moss_str_c(key), accept) != MOSS_OK)
    return -1;
  if (memcmp(r->buf, "HTTP/1.1 101", 12) != 0 ||
      memmem(r->buf, head, accept, MOSS_WS_ACCEPT_LEN) == NULL)
    return -1;
  r->used = head;
  return 0;
}

static int client_open(struct client *c, enum proto p, uint16_t port,
                       bool handshake) {
  memset(c, 0, sizeof(*c));
  c->p = p;
  c->seed = 0x9e3779b9u ^ (uint32_t)port;
  int fd = tcp_connect(port);
  if (fd < 0)
    return -1;
  rd_init(&c->rd, fd);
  if (p == P_WS && handshake && ws_handshake(c) != 0) {
    close(fd);
    return -1;
  }
  return 0;
}

static void client_close(struct client *c) {
  if (c->rd.fd >= 0)
    close(c->rd.fd);
  c->rd.fd = -1;
}

/* Sends one JSON frame and waits for the reply: resp and rlen are the
 * reply frame (valid until the next call), wire and wlen its bytes on the
 * wire. */
static int client_call(struct client *c, const char *json, size_t jlen,
                       const uint8_t **resp, size_t *rlen, const uint8_t **wire,
                       size_t *wlen) {
  uint8_t req[1024];
  size_t n;
  if (c->p == P_WS) {
    uint8_t mask[4];
    c->seed = c->seed * 1664525u + 1013904223u;
    memcpy(mask, &c->seed, 4);
    if (moss_ws_encode_frame(req, sizeof(req), true, MOSS_WS_OP_TEXT, json,
                             jlen, mask, &n) != MOSS_OK)
      return -1;
  } else {
    int h = snprintf((char *)req, sizeof(req),
                     "POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     jlen);
    if (h < 0 || (size_t)h + jlen > sizeof(req))
      return -1;
    memcpy(req + h, json, jlen);
    n = (size_t)h + jlen;
  }
  c->req_len = n;
  if (send_all(c->rd.fd, req, n) != 0)
    return -1;
  if (c->p == P_WS) {
    if (ws_read(&c->rd, resp, rlen) != 0)
      return -1;
  } else {
    int status;
    if (http_read(&c->rd, &status, resp, rlen) != 0 || status != 200)
      return -1;
  }
  if (wire != NULL) {
    *wire = c->rd.buf;
    *wlen = c->rd.used;
  }
  return 0;
}

/* RPC.Ping with a fixed-width id (so every request and reply has the same
 * size, which the echo baseline relies on); checks the reply. */
static int ping(struct client *c, unsigned id, bool check_id,
                const uint8_t **wire, size_t *wlen, const uint8_t **presp,
                size_t *prlen) {
  char json[96], want[32];
  int jl =
      snprintf(json, sizeof(json), "{\"id\":%u,\"method\":\"RPC.Ping\"}", id);
  int wl = snprintf(want, sizeof(want), "{\"id\":%u,", id);
  const uint8_t *resp;
  size_t rlen;
  if (client_call(c, json, (size_t)jl, &resp, &rlen, wire, wlen) != 0)
    return -1;
  if (memmem(resp, rlen, "\"result\"", 8) == NULL)
    return -1;
  if (check_id && (rlen < (size_t)wl || memcmp(resp, want, (size_t)wl)))
    return -1;
  if (presp != NULL) {
    *presp = resp;
    *prlen = rlen;
  }
  return 0;
}

/* ---- throughput and latency ---------------------------------------------- */

/* One side of an A/B measurement: latencies of every timed call and the
 * time spent in timed calls. */
struct side {
  struct client c;
  bool check_id;
  unsigned next_id;
  int n;
  double busy;
  double lat[CALLS];
};

struct runstat {
  double calls_s, p50_us, p99_us;
  int calls;
};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int batch(struct side *s, int count) {
  double t = now();
  for (int i = 0; i < count && s->n < CALLS; i++) {
    double t0 = t;
    if (ping(&s->c, s->next_id++, s->check_id, NULL, NULL, NULL, NULL))
      return -1;
    t = now();
    s->lat[s->n++] = (t - t0) * 1e6;
    s->busy += t - t0;
  }
  return 0;
}

static void side_stats(struct side *s, struct runstat *out) {
  out->calls = s->n;
  out->calls_s = s->n / s->busy;
  qsort(s->lat, (size_t)s->n, sizeof(s->lat[0]), cmp_double);
  out->p50_us = s->lat[s->n / 2];
  out->p99_us = s->lat[(s->n * 99) / 100];
}

/* A baseline server: a child process (as mossd is one) with one
 * connection; for every req_len bytes received it sends resp (mossd's own
 * reply bytes) on a TCP_NODELAY socket (as port/posix sets them).  split
 * 0: one write (the floor).  split n: the first n bytes and the rest in two
 * writes, as mossd sends head and body (a diagnostic: what that pattern
 * alone costs). */
struct echo {
  int lfd;
  uint16_t port;
  size_t req_len;
  const uint8_t *resp;
  size_t resp_len;
  size_t split;
  pid_t *pid;
};

static void echo_main(const struct echo *e) {
  int fd = accept(e->lfd, NULL, NULL);
  if (fd < 0)
    return;
  int one = 1;
  struct timeval tv = {SOCK_TIMEOUT_S, 0};
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  uint8_t buf[4096];
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
    while (got >= e->req_len) {
      got -= e->req_len;
      if (e->split > 0 && send_all(fd, e->resp, e->split) != 0)
        goto out;
      if (send_all(fd, e->resp + e->split, e->resp_len - e->split) != 0)
        goto out;
    }
  }
out:
  close(fd);
}

static int echo_start(struct echo *e) {
  e->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (e->lfd < 0)
    return -1;
  struct sockaddr_in a;
  socklen_t al = sizeof(a);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(e->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(e->lfd, 1) != 0 ||
      getsockname(e->lfd, (struct sockaddr *)&a, &al) != 0) {
    close(e->lfd);
    return -1;
  }
  e->port = ntohs(a.sin_port);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(e->lfd);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(WATCHDOG_S);
    /* Drop inherited client sockets: they would keep the other echo
     * server from seeing its client close. */
    for (int fd = 3; fd < 1024; fd++)
      if (fd != e->lfd)
        close(fd);
    echo_main(e);
    _exit(0);
  }
  *e->pid = pid;
  close(e->lfd);
  return 0;
}

/* The child exits when the client has closed its connection. */
static void echo_stop(pid_t *pid) {
  int st;
  double t0 = now();
  while (*pid > 0 && waitpid(*pid, &st, WNOHANG) == 0) {
    if (now() - t0 > 3.0) {
      kill(*pid, SIGKILL);
      waitpid(*pid, &st, 0);
      break;
    }
    sleep_ms(1);
  }
  *pid = -1;
}

/* Measures p against mossd and, interleaved batch by batch (so that load
 * from elsewhere on the machine hits all alike), the same client code
 * against the two echo servers replaying mossd's reply bytes. */
static void bench_proto(enum proto p, uint16_t port, struct runstat *moss,
                        struct runstat *base, struct runstat *split) {
  static struct side sd[3];
  static uint8_t cap[RD_CAP];
  static struct echo e[2];
  const char *name = p == P_WS ? "WS" : "HTTP";
  char msg[96];
  memset(sd, 0, sizeof(sd));
  snprintf(msg, sizeof(msg), "%s: cannot connect to mossd", name);
  if (client_open(&sd[0].c, p, port, true) != 0)
    fail(msg);
  sd[0].check_id = true;
  for (int k = 0; k < 3; k++)
    sd[k].next_id = 100000;
  const uint8_t *wire = NULL, *resp = NULL;
  size_t wlen = 0, rlen = 0;
  snprintf(msg, sizeof(msg), "%s: RPC.Ping failed against mossd", name);
  for (int i = 0; i < WARMUP; i++)
    if (ping(&sd[0].c, sd[0].next_id++, true, &wire, &wlen, &resp, &rlen))
      fail(msg);
  memcpy(cap, wire, wlen);

  for (int k = 0; k < 2; k++) {
    memset(&e[k], 0, sizeof(e[k]));
    e[k].req_len = sd[0].c.req_len;
    e[k].resp = cap;
    e[k].resp_len = wlen;
    e[k].split = k == 0 ? 0 : wlen - rlen; /* WS header / HTTP head */
    e[k].pid = &g_echo[k];
    if (echo_start(&e[k]) != 0)
      fail("cannot start the echo baseline");
    if (client_open(&sd[k + 1].c, p, e[k].port, false) != 0)
      fail("echo: cannot connect");
    for (int i = 0; i < WARMUP; i++)
      if (ping(&sd[k + 1].c, sd[k + 1].next_id++, false, NULL, NULL, NULL,
               NULL) != 0)
        fail("echo baseline calls failed");
  }
  while (sd[0].n < CALLS && sd[0].busy < CALL_SECS) {
    if (batch(&sd[0], BATCH) != 0)
      fail(msg);
    for (int k = 1; k < 3; k++)
      if (batch(&sd[k], BATCH) != 0)
        fail("echo baseline calls failed");
  }
  for (int k = 0; k < 3; k++)
    client_close(&sd[k].c);
  for (int k = 0; k < 2; k++)
    echo_stop(&g_echo[k]);
  side_stats(&sd[0], moss);
  side_stats(&sd[1], base);
  side_stats(&sd[2], split);
}

/* ---- heap per idle connection -------------------------------------------- */

struct mem {
  long ram_free;
  long sub[MOSS_SUB_COUNT];
};

static int getinfo(struct client *probe, struct mem *m) {
  static const char req[] = "{\"id\":1,\"method\":\"Sys.GetInfo\"}";
  const uint8_t *resp;
  size_t rlen;
  if (client_call(probe, req, sizeof(req) - 1, &resp, &rlen, NULL, NULL) != 0)
    return -1;
  cJSON *j = cJSON_ParseWithLength((const char *)resp, rlen);
  cJSON *res = cJSON_GetObjectItem(j, "result");
  cJSON *rf = cJSON_GetObjectItem(res, "ram_free");
  cJSON *mem = cJSON_GetObjectItem(res, "mem");
  int rc = -1;
  if (cJSON_IsNumber(rf) && cJSON_IsObject(mem)) {
    m->ram_free = (long)rf->valuedouble;
    for (int i = 0; i < MOSS_SUB_COUNT; i++) {
      cJSON *v =
          cJSON_GetObjectItem(mem, moss_alloc_subsys_name((enum moss_subsys)i));
      m->sub[i] = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
    }
    rc = 0;
  }
  cJSON_Delete(j);
  return rc;
}

/* A reading that two consecutive calls agree on (the loop may still be
 * accepting or freeing when the probe's request is served). */
static void getinfo_stable(struct client *probe, struct mem *m) {
  struct mem prev;
  if (getinfo(probe, &prev) != 0)
    fail("Sys.GetInfo failed");
  for (int i = 0; i < 50; i++) {
    sleep_ms(20);
    if (getinfo(probe, m) != 0)
      fail("Sys.GetInfo failed");
    if (memcmp(m, &prev, sizeof(*m)) == 0)
      return;
    prev = *m;
  }
  fail("device heap did not settle");
}

enum idle_kind { K_WS, K_HTTP, K_ACCEPTED };

struct heapres {
  double per_conn;
  double per_sub[MOSS_SUB_COUNT];
  long kept; /* bytes still in use 3 s after closing them all */
};

static void heap_phase(uint16_t port, struct client *probe, enum idle_kind k,
                       struct heapres *out) {
  static struct client cs[HEAP_CONNS];
  struct mem before, after, end;
  getinfo_stable(probe, &before);
  for (int i = 0; i < HEAP_CONNS; i++) {
    enum proto p = k == K_WS ? P_WS : P_HTTP;
    if (client_open(&cs[i], p, port, true) != 0)
      fail("heap: cannot open a connection");
    if (k != K_ACCEPTED &&
        ping(&cs[i], 300000u + (unsigned)i, true, NULL, NULL, NULL, NULL) != 0)
      fail("heap: RPC.Ping failed");
  }
  sleep_ms(50);
  getinfo_stable(probe, &after);
  out->per_conn = (double)(before.ram_free - after.ram_free) / HEAP_CONNS;
  for (int i = 0; i < MOSS_SUB_COUNT; i++)
    out->per_sub[i] = (double)(after.sub[i] - before.sub[i]) / HEAP_CONNS;
  for (int i = 0; i < HEAP_CONNS; i++)
    client_close(&cs[i]);
  double t0 = now();
  do {
    sleep_ms(20);
    if (getinfo(probe, &end) != 0)
      fail("Sys.GetInfo failed");
  } while (end.ram_free < before.ram_free && now() - t0 < 3.0);
  out->kept = before.ram_free - end.ram_free;
}

/* Baseline: the conn layer alone, in this process. */
static int echoed;

static long conn_echo(struct moss_conn *c, const uint8_t *d, size_t n) {
  if (moss_conn_send(c, d, n) != MOSS_OK)
    return MOSS_ERR_IO;
  echoed++;
  return (long)n;
}

static const struct moss_conn_handlers conn_h = {.on_data = conn_echo};

static double conn_baseline(const char **backend) {
  struct moss_ev *ev = NULL;
  struct moss_conn *l = NULL;
  char why[128];
  if (moss_ev_new(&ev, NULL) != MOSS_OK)
    fail("moss_ev_new failed");
  *backend = moss_ev_backend_name(ev);
  struct moss_conn_opts o;
  memset(&o, 0, sizeof(o));
  o.max_conns = HEAP_CONNS + 2;
  o.backlog = HEAP_CONNS + 2;
  if (moss_conn_listen(ev, "127.0.0.1:0", &o, &conn_h, NULL, &l, why,
                       sizeof(why)) != MOSS_OK)
    fail("moss_conn_listen failed");
  uint16_t port = moss_conn_local_port(l);
  for (int i = 0; i < 10; i++)
    moss_ev_run_once(ev, 0);
  struct moss_alloc_stats before, after;
  moss_alloc_get_stats(&before);
  int fds[HEAP_CONNS];
  for (int i = 0; i < HEAP_CONNS; i++) {
    fds[i] = tcp_connect(port);
    if (fds[i] < 0 || send_all(fds[i], "ping", 4) != 0)
      fail("baseline: connect failed");
  }
  double t0 = now();
  while ((echoed < HEAP_CONNS || moss_conn_count(l) < HEAP_CONNS) &&
         now() - t0 < 5.0)
    moss_ev_run_once(ev, 10);
  if (echoed < HEAP_CONNS)
    fail("baseline: echo failed");
  for (int i = 0; i < HEAP_CONNS; i++) {
    char b[4];
    size_t got = 0;
    while (got < 4) {
      ssize_t n = recv(fds[i], b + got, 4 - got, 0);
      if (n <= 0)
        fail("baseline: no echo");
      got += (size_t)n;
    }
  }
  for (int i = 0; i < 10; i++)
    moss_ev_run_once(ev, 0);
  moss_alloc_get_stats(&after);
  double per = (double)(after.in_use - before.in_use) / HEAP_CONNS;
  for (int i = 0; i < HEAP_CONNS; i++)
    close(fds[i]);
  t0 = now();
  while (moss_conn_count(l) > 0 && now() - t0 < 5.0)
    moss_ev_run_once(ev, 10);
  moss_ev_free(ev);
  return per;
}

/* "conn 176 + http 136 + ..." for the subsystems that grew. */
static void sub_text(const struct heapres *h, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = '\0';
  for (int i = 0; i < MOSS_SUB_COUNT && k < n; i++) {
    if (h->per_sub[i] == 0)
      continue;
    int w =
        snprintf(buf + k, n - k, "%s%s %.0f", k ? " + " : "",
                 moss_alloc_subsys_name((enum moss_subsys)i), h->per_sub[i]);
    if (w < 0)
      break;
    k += (size_t)w;
  }
  if (h->kept != 0 && k < n)
    snprintf(buf + k, n - k, "; %ld B still in use 3 s after closing them",
             h->kept);
}

int main(void) {
  signal(SIGALRM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  alarm(WATCHDOG_S);

  const char *backend = "";
  double conn_per = conn_baseline(&backend);

  uint16_t port = start_mossd();
  struct runstat ws, ws_b, ws_s, ht, ht_b, ht_s;
  bench_proto(P_WS, port, &ws, &ws_b, &ws_s);
  bench_proto(P_HTTP, port, &ht, &ht_b, &ht_s);

  struct client probe;
  if (client_open(&probe, P_HTTP, port, true) != 0)
    fail("probe: connect");
  struct heapres hw, hh, ha;
  heap_phase(port, &probe, K_WS, &hw);
  heap_phase(port, &probe, K_HTTP, &hh);
  heap_phase(port, &probe, K_ACCEPTED, &ha);
  client_close(&probe);
  stop_mossd();
  dump_log(false);
  remove_tmp();

  const char *bn = "(raw TCP echo)";
  const char *tn =
      "1 conn, sequential, loopback, batches of moss and "
      "baseline interleaved; baseline = plain TCP server "
      "process answering with mossd's reply bytes (transport "
      "floor, same client code)";
  printf("rpc|WS RPC.Ping calls/s|%.0f|%.0f %s|calls/s|%s; %d calls\n",
         ws.calls_s, ws_b.calls_s, bn, tn, ws.calls);
  printf("rpc|WS RPC.Ping p50 latency|%.1f|%.1f %s|us|same run as calls/s\n",
         ws.p50_us, ws_b.p50_us, bn);
  printf("rpc|WS RPC.Ping p99 latency|%.1f|%.1f %s|us|same run as calls/s\n",
         ws.p99_us, ws_b.p99_us, bn);
  const char *sn = "(TCP echo, 2 writes)";
  const char *dn =
      "diagnostic: an echo that splits each reply in 2 send() "
      "calls (header, payload; TCP_NODELAY), as mossd did before "
      "small replies went out in one send; its calls/s";
  printf(
      "rpc|WS RPC.Ping p50 vs a 2-write echo|%.1f|%.1f %s|us|"
      "%s %.0f; p99 %.1f\n",
      ws.p50_us, ws_s.p50_us, sn, dn, ws_s.calls_s, ws_s.p99_us);
  printf(
      "rpc|HTTP keep-alive RPC.Ping calls/s|%.0f|%.0f %s|calls/s|"
      "POST /rpc; %s; %d calls\n",
      ht.calls_s, ht_b.calls_s, bn, tn, ht.calls);
  printf(
      "rpc|HTTP keep-alive RPC.Ping p50 latency|%.1f|%.1f %s|us|"
      "same run as calls/s\n",
      ht.p50_us, ht_b.p50_us, bn);
  printf(
      "rpc|HTTP keep-alive RPC.Ping p99 latency|%.1f|%.1f %s|us|"
      "same run as calls/s\n",
      ht.p99_us, ht_b.p99_us, bn);

  printf(
      "rpc|HTTP RPC.Ping p50 vs a 2-write echo|%.1f|%.1f %s|us|"
      "%s %.0f; p99 %.1f\n",
      ht.p50_us, ht_s.p50_us, sn, dn, ht_s.calls_s, ht_s.p99_us);

  char sub[256];
  const char *hb = "(bare moss_conn)";
  sub_text(&hw, sub, sizeof(sub));
  printf(
      "rpc|heap per idle WS conn|%.0f|%.0f %s|bytes|Sys.GetInfo ram_free "
      "delta over %d upgraded conns with 1 call each: %s; baseline = "
      "conn layer alone after 1 echo (%s); ref. Mongoose OS+mbedTLS ~1 KB/"
      "TLS conn per the guide (not measured)\n",
      hw.per_conn, conn_per, hb, HEAP_CONNS, sub, backend);
  sub_text(&hh, sub, sizeof(sub));
  printf(
      "rpc|heap per idle HTTP keep-alive conn|%.0f|%.0f %s|bytes|"
      "%d conns with 1 POST /rpc each: %s\n",
      hh.per_conn, conn_per, hb, HEAP_CONNS, sub);
  sub_text(&ha, sub, sizeof(sub));
  printf(
      "rpc|heap per accepted HTTP conn (no request)|%.0f|%.0f %s|bytes|"
      "%d conns: %s\n",
      ha.per_conn, conn_per, hb, HEAP_CONNS, sub);
  return 0;
}

/*
 * TLS: heap per idle established server connection (TLS 1.2, TLS 1.3),
 * heap peak of one server handshake (ECDHE-ECDSA P-256), handshakes per
 * second and idle connections in a 64 KB heap, each next to stock
 * mbedTLS 3.6.6 measured in the same run by bench/tls_stock/ (the same
 * tree built with mbedTLS's default config); and the on-demand CA store
 * against parsing the whole bundle.  Counted by moss's allocator
 * (MOSS_SUB_TLS); the clients run in a child process so only the server
 * is counted.
 *
 * Rows: area|metric|moss|baseline|unit|note
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"
#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/log.h"
#include "moss/tls.h"
#include "tls_mbedtls.h" /* moss_tls_ca_lookup */

#define NCONN 8
#define NRATE 40

static const char *cert_pem, *key_pem;
static uint32_t accepted;

static void s_accept(struct moss_conn *l, struct moss_conn *c) {
  (void)l, (void)c;
  accepted++;
}
static const struct moss_conn_handlers sh = {.on_accept = s_accept};
static int cli_done;
static void c_connect(struct moss_conn *c) {
  (void)c;
  cli_done++;
}
static void c_close(struct moss_conn *c, int why) {
  (void)c, (void)why;
  cli_done++;
}
static const struct moss_conn_handlers ch = {.on_connect = c_connect,
                                             .on_close = c_close};
/* Rate phase: each client closes once connected. */
static void r_connect(struct moss_conn *c) {
  moss_conn_close(c);
}
static const struct moss_conn_handlers rh = {.on_connect = r_connect,
                                             .on_close = c_close};

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  static char bufs[2][1 << 20];
  static int k;
  char *b = bufs[k++ & 1];
  size_t n = fread(b, 1, (1 << 20) - 1, f);
  b[n] = '\0';
  fclose(f);
  return b;
}

/* Child: one client (the handshake-peak probe), then NCONN kept open,
 * then NRATE one after the other, each closed after its handshake; the
 * server side takes them in that order.  Kept open until killed. */
static void clients(const char *addr, uint16_t ver) {
  struct moss_ev *ev;
  struct moss_tls_ctx *cc;
  struct moss_tls_ctx_opts o = {MOSS_TLS_CLIENT, ver, ver, 0};
  moss_log_set_level(MOSS_LL_ERROR);
  if (moss_ev_new(&ev, NULL) != MOSS_OK || moss_tls_ctx_new(&o, &cc))
    _exit(1);
  struct moss_conn *c;
  for (int i = 0; i < 1 + NCONN + NRATE; i++) {
    cli_done = 0;
    moss_tls_connect(cc, ev, addr, "localhost", NULL, i <= NCONN ? &ch : &rh,
                     NULL, &c);
    for (int k = 0; k < 2000 && cli_done == 0; k++)
      moss_ev_run_once(ev, 5);
    /* A pause between the phases, so that each is measured alone. */
    if (i == 0 || i == NCONN)
      for (int k = 0; k < 30; k++)
        moss_ev_run_once(ev, 10);
  }
  for (;;)
    moss_ev_run_once(ev, 100);
}

struct figs {
  double idle, conn, peak, rate;
};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void run_until_accepted(struct moss_ev *ev, uint32_t n) {
  for (int i = 0; i < 4000 && accepted < n; i++)
    moss_ev_run_once(ev, 5);
  /* Let the last one go idle (buffers released, parked). */
  for (int i = 0; i < 10; i++)
    moss_ev_run_once(ev, 2);
  if (accepted < n)
    printf("tls|clients|%u of %u connected|-|-|\n", (unsigned)accepted,
           (unsigned)n);
}

static int measure(uint16_t ver, struct figs *f) {
  struct moss_ev *ev;
  struct moss_tls_ctx *sc;
  struct moss_tls_ctx_opts o = {MOSS_TLS_SERVER, ver, ver, 0};
  bool bad;
  char why[128] = "";
  if (moss_ev_new(&ev, NULL) != MOSS_OK || moss_tls_ctx_new(&o, &sc) ||
      moss_tls_ctx_use_cert(sc, cert_pem, strlen(cert_pem), key_pem,
                            strlen(key_pem), &bad, why, sizeof(why))) {
    printf("tls|setup|failed|-|-|%s\n", why);
    return -1;
  }
  struct moss_conn *l;
  struct moss_conn_opts lo = {0};
  lo.max_conns = 64;
  if (moss_tls_listen(sc, ev, "127.0.0.1:0", &lo, &sh, NULL, &l, why,
                      sizeof(why)) != MOSS_OK)
    return -1;
  char addr[32];
  snprintf(addr, sizeof(addr), "127.0.0.1:%u",
           (unsigned)moss_conn_local_port(l));
  struct moss_alloc_stats a, b;
  accepted = 0;
  moss_alloc_get_stats(&a);
  moss_alloc_reset_peak();
  pid_t pid = fork();
  if (pid == 0)
    clients(addr, ver);
  /* 1. One handshake: server heap peak above what was in use before. */
  run_until_accepted(ev, 1);
  moss_alloc_get_stats(&b);
  f->peak = (double)(b.peak - a.in_use);
  /* 2. With NCONN more, 1 + NCONN idle connections. */
  run_until_accepted(ev, 1 + NCONN);
  moss_alloc_get_stats(&b);
  f->idle =
      (double)(b.by_sub[MOSS_SUB_TLS] - a.by_sub[MOSS_SUB_TLS]) / (1 + NCONN);
  f->conn =
      (double)(b.by_sub[MOSS_SUB_CONN] - a.by_sub[MOSS_SUB_CONN]) / (1 + NCONN);
  /* 3. Handshakes per second. */
  for (int i = 0; i < 4000 && accepted < 2 + NCONN; i++)
    moss_ev_run_once(ev, 1);
  double t0 = now_s();
  for (int i = 0; i < 40000 && accepted < 1 + NCONN + NRATE; i++)
    moss_ev_run_once(ev, 1);
  f->rate = (NRATE - 1) / (now_s() - t0);
  int rc = accepted == 1 + NCONN + NRATE ? 0 : -1;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  moss_tls_ctx_unref(sc);
  moss_ev_free(ev);
  return rc;
}

/* The stock-mbedTLS program (bench/tls_stock/stock_server.c), next to
 * this binary: "<metric> <version> <value>" lines. */
static void stock(const char *self, struct figs *f12, struct figs *f13) {
  char cmd[512];
  const char *slash = strrchr(self, '/');
  int dl = slash != NULL ? (int)(slash - self) : 1;
  snprintf(cmd, sizeof(cmd), "%.*s/tls_stock_server %s %s", dl,
           slash != NULL ? self : ".", "tests/unit/tls/bench_srv.crt",
           "tests/unit/tls/bench_srv.key");
  FILE *p = popen(cmd, "r");
  char line[128], m[16], v[8];
  double x;
  while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
    if (sscanf(line, "%15s %7s %lf", m, v, &x) != 3)
      continue;
    struct figs *f = strcmp(v, "1.2") == 0 ? f12 : f13;
    if (strcmp(m, "idle") == 0)
      f->idle = x;
    else if (strcmp(m, "peak") == 0)
      f->peak = x;
    else if (strcmp(m, "rate") == 0)
      f->rate = x;
  }
  if (p != NULL)
    pclose(p);
}

static void report(const char *name, const struct figs *m,
                   const struct figs *s) {
  printf(
      "tls|idle %s server connection, TLS heap|%.0f|%.0f|bytes|"
      "baseline: stock mbedTLS 3.6.6, same run\n",
      name, m->idle, s->idle);
  printf(
      "tls|idle %s server connection, conn heap (TCP + TLS layer)|%.0f|"
      "-|bytes|\n",
      name, m->conn);
  printf(
      "tls|handshake peak %s, one server handshake|%.0f|%.0f|bytes|"
      "ECDHE-ECDSA P-256\n",
      name, m->peak, s->peak);
  printf(
      "tls|handshakes/s %s (client and server on one host)|%.0f|%.0f|"
      "1/s|%d sequential\n",
      name, m->rate, s->rate, NRATE);
  double cm = m->idle + m->conn, cs = s->idle + m->conn;
  printf(
      "tls|idle %s connections in a 64 KB heap|%.0f|%.0f|conns|"
      "65536 / (TLS + conn heap); stock with moss's conn heap\n",
      name, cm > 0 ? (double)(65536 / (size_t)cm) : 0,
      cs > 0 ? (double)(65536 / (size_t)cs) : 0);
}

/* Whole idle WSS RPC connection (TCP, TLS, HTTP/WS, RPC channel) on the
 * real device: tests/integration/test_tls_flood.sh runs mossd with a
 * 64 KB budget and reports "# TLS <v>: held H refused R; heap per idle
 * WSS connection N B; TLS heap T B" (Sys.GetInfo ram_free). */
static void wss(const char *self, const struct figs *s12,
                const struct figs *s13) {
  char cmd[600];
  const char *b = strstr(self, "/bench/bench_tls");
  snprintf(cmd, sizeof(cmd),
           "MOSS_BUILD=%.*s bash tests/integration/test_tls_flood.sh "
           "2>/dev/null",
           b != NULL ? (int)(b - self) : 5, b != NULL ? self : "build");
  FILE *p = popen(cmd, "r");
  char line[256], v[8];
  unsigned held, refused, per, tlsh;
  while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
    if (sscanf(line,
               "# TLS %7[0-9.]: held %u refused %u; heap per idle WSS "
               "connection %u B; TLS heap %u B",
               v, &held, &refused, &per, &tlsh) != 5 ||
        per == 0)
      continue;
    /* Stock: the same connection with stock mbedTLS's idle TLS heap. */
    double st = (strcmp(v, "1.2") == 0 ? s12 : s13)->idle + per - tlsh;
    printf(
        "tls|idle WSS RPC connection TLS %s, whole heap (mossd)|%u|%.0f|"
        "bytes|stock: same with stock mbedTLS's TLS heap\n",
        v, per, st);
    printf(
        "tls|idle WSS connections in a 64 KB heap, TLS %s|%u|%.0f|conns|"
        "65536 / whole; mossd held %u with every handshake inside the "
        "budget\n",
        v, 65536 / per, st > 0 ? (double)(65536 / (size_t)st) : 0, held);
  }
  if (p != NULL)
    pclose(p);
}

/* Host files for the CA store (the device uses moss_tls_fs_ops). */
static int h_open(void *arg, const char *name, void **fh) {
  (void)arg;
  FILE *f = fopen(name, "rb");
  *fh = f;
  return f != NULL ? MOSS_OK : MOSS_ERR_NOENT;
}
static int h_read(void *fh, void *buf, size_t len) {
  return (int)fread(buf, 1, len, fh);
}
static int h_seek(void *fh, uint32_t off) {
  return fseek(fh, (long)off, SEEK_SET) == 0 ? MOSS_OK : MOSS_ERR_IO;
}
static uint32_t h_size(void *fh) {
  long pos = ftell(fh);
  fseek(fh, 0, SEEK_END);
  long n = ftell(fh);
  fseek(fh, pos, SEEK_SET);
  return (uint32_t)n;
}
static void h_close(void *fh) {
  if (fh != NULL)
    fclose(fh);
}
static const struct moss_tls_file_ops host_ops = {h_open, h_read, h_seek,
                                                  h_size, h_close};

static void ca_store(const char *bundle) {
  char *pem = slurp(bundle);
  if (pem == NULL)
    return;
  /* Whole bundle parsed into RAM (what mbedtls_ssl_conf_ca_chain needs). */
  struct moss_alloc_stats a, b;
  moss_alloc_get_stats(&a);
  mbedtls_x509_crt all;
  mbedtls_x509_crt_init(&all);
  mbedtls_x509_crt_parse(&all, (const unsigned char *)pem, strlen(pem) + 1);
  moss_alloc_get_stats(&b);
  size_t whole = b.by_sub[MOSS_SUB_TLS] - a.by_sub[MOSS_SUB_TLS];
  /* On demand: index once, then one lookup (the last certificate's
   * subject, so the index is searched to its end). */
  const mbedtls_x509_crt *last = &all;
  while (last->next != NULL && last->next->raw.p != NULL)
    last = last->next;
  struct moss_tls_ca *ca;
  if (moss_tls_ca_new(&host_ops, NULL, bundle, &ca) == MOSS_OK) {
    int n = moss_tls_ca_count(ca);
    moss_alloc_get_stats(&a);
    moss_alloc_reset_peak();
    mbedtls_x509_crt *got = NULL;
    int found = moss_tls_ca_lookup(ca, last->subject_raw.p,
                                   last->subject_raw.len, &got);
    moss_alloc_get_stats(&b);
    printf(
        "tls|CA store idle heap (%d certs)|%zu|%zu|bytes|moss: index "
        "only; baseline: whole bundle parsed\n",
        n, moss_tls_ca_idle_bytes(ca), whole);
    printf(
        "tls|CA store peak during one issuer lookup|%zu|%zu|bytes|"
        "found %d; baseline: whole bundle\n",
        b.peak - a.in_use + moss_tls_ca_idle_bytes(ca), whole, found);
    while (got != NULL) {
      mbedtls_x509_crt *nx = got->next;
      got->next = NULL;
      mbedtls_x509_crt_free(got);
      mbedtls_free(got);
      got = nx;
    }
    moss_tls_ca_free(ca);
  }
  mbedtls_x509_crt_free(&all);
}

int main(int argc, char **argv) {
  (void)argc;
  moss_log_set_level(MOSS_LL_ERROR);
  if (moss_tls_init() != MOSS_OK)
    return 1;
  cert_pem = slurp("tests/unit/tls/bench_srv.crt");
  key_pem = slurp("tests/unit/tls/bench_srv.key");
  if (cert_pem == NULL || key_pem == NULL) {
    printf("tls|setup|missing cert|-|-|run from the repository root\n");
    return 0;
  }
  struct figs m12 = {0}, m13 = {0}, s12 = {0}, s13 = {0};
  if (measure(0x0303, &m12) != 0 || measure(0x0304, &m13) != 0)
    printf("tls|handshakes|failed|-|-|not every client connected\n");
  stock(argv[0], &s12, &s13);
  report("TLS 1.2", &m12, &s12);
  report("TLS 1.3", &m13, &s13);
  wss(argv[0], &s12, &s13);
  ca_store("/etc/ssl/certs/ca-certificates.crt");
  return 0;
}

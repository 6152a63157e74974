/*
 * TLS memory: TLS-layer heap per idle established server connection
 * (TLS 1.2, TLS 1.3), handshake peak, and the on-demand CA store against
 * parsing the whole bundle.  Counted by moss's allocator (MOSS_SUB_TLS);
 * the clients run in a child process so only the server is counted.
 *
 * Rows: area|metric|moss|baseline|unit|note
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"
#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/log.h"
#include "moss/tls.h"

#define NCONN 8

static const char *cert_pem, *key_pem;
static uint32_t accepted;

static void s_accept(struct moss_conn *l, struct moss_conn *c) {
  (void)l, (void)c;
  accepted++;
}
static const struct moss_conn_handlers sh = {.on_accept = s_accept};
static void c_connect(struct moss_conn *c) {
  (void)c;
}
static const struct moss_conn_handlers ch = {.on_connect = c_connect};

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

/* Child: NCONN clients of version ver, kept open until killed. */
static void clients(const char *addr, uint16_t ver) {
  struct moss_ev *ev;
  struct moss_tls_ctx *cc;
  struct moss_tls_ctx_opts o = {MOSS_TLS_CLIENT, ver, ver, 0};
  moss_log_set_level(MOSS_LL_ERROR);
  if (moss_ev_new(&ev, NULL) != MOSS_OK || moss_tls_ctx_new(&o, &cc))
    _exit(1);
  for (int i = 0; i < NCONN; i++) {
    struct moss_conn *c;
    moss_tls_connect(cc, ev, addr, "localhost", NULL, &ch, NULL, &c);
  }
  for (;;)
    moss_ev_run_once(ev, 100);
}

static void measure(uint16_t ver, const char *name) {
  struct moss_ev *ev;
  struct moss_tls_ctx *sc;
  struct moss_tls_ctx_opts o = {MOSS_TLS_SERVER, ver, ver, 0};
  bool bad;
  char why[128];
  if (moss_ev_new(&ev, NULL) != MOSS_OK || moss_tls_ctx_new(&o, &sc) ||
      moss_tls_ctx_use_cert(sc, cert_pem, strlen(cert_pem), key_pem,
                            strlen(key_pem), &bad, why, sizeof(why))) {
    printf("tls|setup|failed|-|-|%s\n", why);
    return;
  }
  struct moss_conn *l;
  struct moss_conn_opts lo = {0};
  lo.max_conns = 64;
  if (moss_tls_listen(sc, ev, "127.0.0.1:0", &lo, &sh, NULL, &l, why,
                      sizeof(why)) != MOSS_OK)
    return;
  char addr[32];
  snprintf(addr, sizeof(addr), "127.0.0.1:%u",
           (unsigned)moss_conn_local_port(l));
  struct moss_alloc_stats a, b;
  moss_alloc_get_stats(&a);
  moss_alloc_reset_peak();
  accepted = 0;
  pid_t pid = fork();
  if (pid == 0)
    clients(addr, ver);
  for (int i = 0; i < 2000 && accepted < NCONN; i++)
    moss_ev_run_once(ev, 5);
  for (int i = 0; i < 20; i++)
    moss_ev_run_once(ev, 5);
  moss_alloc_get_stats(&b);
  size_t idle = (b.by_sub[MOSS_SUB_TLS] - a.by_sub[MOSS_SUB_TLS]) / NCONN;
  size_t conn = (b.by_sub[MOSS_SUB_CONN] - a.by_sub[MOSS_SUB_CONN]) / NCONN;
  printf("tls|idle %s server connection, TLS heap|%zu|36474|bytes|"
         "%u conns; baseline: stock mbedTLS 3.6.6 figure from the issue\n",
         name, idle, (unsigned)accepted);
  printf("tls|idle %s server connection, conn heap (TCP+TLS layer)|%zu|-|"
         "bytes|\n", name, conn);
  printf("tls|handshake peak %s (%d concurrent)|%zu|-|bytes|"
         "peak above baseline / %d\n",
         name, NCONN, (b.peak - a.in_use) / NCONN, NCONN);
  printf("tls|connections in a 64 KB heap, %s|%zu|-|conns|64 KB / idle "
         "(TLS + conn)\n",
         name, (size_t)65536 / (idle + conn ? idle + conn : 1));
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  moss_tls_ctx_unref(sc);
  moss_ev_free(ev);
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
    printf("tls|CA store idle heap (%d certs)|%zu|%zu|bytes|moss: index "
           "only; baseline: whole bundle parsed\n",
           n, moss_tls_ca_idle_bytes(ca), whole);
    printf("tls|CA store peak during one issuer lookup|%zu|%zu|bytes|"
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
  (void)argc, (void)argv;
  moss_log_set_level(MOSS_LL_ERROR);
  if (moss_tls_init() != MOSS_OK)
    return 1;
  cert_pem = slurp("tests/unit/tls/bench_srv.crt");
  key_pem = slurp("tests/unit/tls/bench_srv.key");
  if (cert_pem == NULL || key_pem == NULL) {
    printf("tls|setup|missing cert|-|-|run from the repository root\n");
    return 0;
  }
  measure(0x0303, "TLS 1.2");
  measure(0x0304, "TLS 1.3");
  ca_store("/etc/ssl/certs/ca-certificates.crt");
  return 0;
}

/*
 * TLS layer: on-demand CA store, loopback handshakes (TLS 1.2 and 1.3,
 * one-way and mutual), verification failure texts (http.md §4.6), bad
 * input (garbage, stalled handshakes) and memory returned afterwards.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"
#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/log.h"
#include "moss/tls.h"
#include "tls_mbedtls.h"
#include "tls_test.h"

/* ---- an in-memory "filesystem" for CA stores -------------------------- */

struct memfile {
  const char *data;
  size_t len;
  size_t pos;
  int opens;
};

static int mf_open(void *arg, const char *name, void **fh) {
  struct memfile *m = arg;
  if (strcmp(name, "missing.pem") == 0)
    return MOSS_ERR_NOENT;
  m->pos = 0;
  m->opens++;
  *fh = m;
  return MOSS_OK;
}
static int mf_read(void *fh, void *buf, size_t len) {
  struct memfile *m = fh;
  size_t n = m->len - m->pos < len ? m->len - m->pos : len;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (int)n;
}
static int mf_seek(void *fh, uint32_t off) {
  struct memfile *m = fh;
  if (off > m->len)
    return MOSS_ERR_RANGE;
  m->pos = off;
  return MOSS_OK;
}
static uint32_t mf_size(void *fh) {
  return (uint32_t)((struct memfile *)fh)->len;
}
static void mf_close(void *fh) {
  (void)fh;
}
static const struct moss_tls_file_ops mf_ops = {mf_open, mf_read, mf_seek,
                                                mf_size, mf_close};

/* ---- log capture
 * ------------------------------------------------------------- */

static char logbuf[8192];
static void sink(void *arg, enum moss_log_level lvl, const char *module,
                 const char *msg) {
  (void)arg, (void)lvl, (void)module;
  size_t l = strlen(logbuf);
  snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", msg);
}

const char *tt_log(void) {
  return logbuf;
}
void tt_log_clear(void) {
  logbuf[0] = '\0';
}

static struct moss_tls_ca *ca_over(struct memfile *m, const char *name) {
  struct moss_tls_ca *ca = NULL;
  MT_CHECK_EQ(moss_tls_ca_new(&mf_ops, m, name, &ca), MOSS_OK);
  return ca;
}

static void free_chain(mbedtls_x509_crt *c) {
  while (c != NULL) {
    mbedtls_x509_crt *n = c->next;
    c->next = NULL;
    mbedtls_x509_crt_free(c);
    mbedtls_free(c);
    c = n;
  }
}

/* Subject Name DER of a PEM certificate, into out. */
static size_t subject_of(const char *pem, uint8_t *out, size_t cap) {
  mbedtls_x509_crt c;
  mbedtls_x509_crt_init(&c);
  size_t n = 0;
  if (mbedtls_x509_crt_parse(&c, (const unsigned char *)pem, strlen(pem) + 1) ==
          0 &&
      c.subject_raw.len <= cap) {
    memcpy(out, c.subject_raw.p, c.subject_raw.len);
    n = c.subject_raw.len;
  }
  mbedtls_x509_crt_free(&c);
  return n;
}

static char bundle[16384];

static void test_ca_index_and_lookup(void) {
  snprintf(bundle, sizeof(bundle),
           "# Note: a comment line\nSubject: CN=Other CA\n"
           "Not Before: whenever\n%s\njunk between blocks\n%s",
           tt_other_crt, tt_ca_crt);
  struct memfile m = {bundle, strlen(bundle), 0, 0};
  struct moss_tls_ca *ca = ca_over(&m, "ca.pem");
  MT_REQUIRE(ca != NULL);
  MT_CHECK_EQ(moss_tls_ca_count(ca), 2);
  /* Idle: the struct plus 2 index entries, nothing else. */
  MT_CHECK(moss_tls_ca_idle_bytes(ca) < 200);
  struct moss_alloc_stats before, after;
  moss_alloc_get_stats(&before);
  MT_CHECK_EQ(before.in_use, before.in_use); /* baseline */
  uint8_t subj[256];
  size_t sl = subject_of(tt_ca_crt, subj, sizeof(subj));
  MT_REQUIRE(sl > 0);
  mbedtls_x509_crt *got = NULL;
  moss_alloc_reset_peak();
  MT_CHECK_EQ(moss_tls_ca_lookup(ca, subj, sl, &got), 1);
  moss_alloc_get_stats(&after);
  MT_REQUIRE(got != NULL);
  MT_CHECK(got->subject_raw.len == sl &&
           memcmp(got->subject_raw.p, subj, sl) == 0);
  MT_CHECK(got->next == NULL);
  /* One certificate parsed at a time: far below the whole bundle. */
  MT_CHECK(after.peak - before.in_use < 6 * 1024);
  free_chain(got);
  /* Unknown subject: nothing, no error. */
  sl = subject_of(tt_srv_crt, subj, sizeof(subj));
  got = NULL;
  MT_CHECK_EQ(moss_tls_ca_lookup(ca, subj, sl, &got), 0);
  MT_CHECK(got == NULL);
  moss_tls_ca_free(ca);
  struct moss_tls_ca *none = NULL;
  MT_CHECK_EQ(moss_tls_ca_new(&mf_ops, &m, "missing.pem", &none),
              MOSS_ERR_NOENT);
  MT_CHECK(none == NULL);
}

static void test_ca_long_line_and_bad_block(void) {
  char longline[1200];
  memset(longline, 'A', sizeof(longline) - 1);
  longline[sizeof(longline) - 1] = '\0';
  snprintf(bundle, sizeof(bundle),
           "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n"
           "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n%s",
           longline, tt_ca_crt);
  struct memfile m = {bundle, strlen(bundle), 0, 0};
  struct moss_tls_ca *ca = ca_over(&m, "ca.pem");
  logbuf[0] = '\0';
  MT_CHECK_EQ(moss_tls_ca_count(ca), 1);
  MT_CHECK(strstr(logbuf, "ca.pem:2: line too long, certificate skipped") !=
           NULL);
  MT_CHECK(strstr(logbuf, "ca.pem:4: cannot parse certificate") != NULL);
  moss_tls_ca_free(ca);
}

static void test_ca_file_replaced(void) {
  /* Same size, different content: the stale index is detected. */
  static char a[8192], b[8192];
  size_t la = strlen(tt_other_crt), lb = strlen(tt_ca_crt);
  size_t n = (la > lb ? la : lb) + 8;
  memset(a, '#', n);
  memset(b, '#', n);
  a[n - 1] = b[n - 1] = '\n';
  memcpy(a + n - 1 - la, tt_other_crt, la);
  memcpy(b + n - 1 - lb, tt_ca_crt, lb);
  a[n - 2 - la] = b[n - 2 - lb] = '\n';
  struct memfile m = {a, n, 0, 0};
  struct moss_tls_ca *ca = ca_over(&m, "ca.pem");
  MT_CHECK_EQ(moss_tls_ca_count(ca), 1);
  m.data = b;
  uint8_t subj[256];
  size_t sl = subject_of(tt_ca_crt, subj, sizeof(subj));
  mbedtls_x509_crt *got = NULL;
  MT_CHECK_EQ(moss_tls_ca_lookup(ca, subj, sl, &got), 1);
  free_chain(got);
  moss_tls_ca_free(ca);
}

/* ---- loopback connections
 * -------------------------------------------------------- */

struct peer {
  char rx[32768];
  size_t rxn;
  int err;
  bool connected, closed, accepted;
  struct moss_conn *c;
};
static struct peer srv_peer, cli_peer;

static void s_accept(struct moss_conn *l, struct moss_conn *c) {
  (void)l;
  srv_peer.accepted = true;
  srv_peer.c = c;
}
static long s_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  /* Echo, as long as there is room. */
  if (moss_conn_send_space(c) < n)
    return 0;
  moss_conn_send(c, d, n);
  srv_peer.rxn += n;
  return (long)n;
}
static void s_close(struct moss_conn *c, int why) {
  (void)why;
  if (!moss_conn_is_listener(c))
    srv_peer.closed = true;
}
static const struct moss_conn_handlers srv_h = {
    .on_accept = s_accept, .on_data = s_data, .on_close = s_close};

static const char *to_send;
static size_t to_send_len;
static void c_connect(struct moss_conn *c) {
  cli_peer.connected = true;
  if (to_send != NULL)
    moss_conn_send(c, to_send, to_send_len);
}
static long c_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  (void)c;
  size_t k = sizeof(cli_peer.rx) - cli_peer.rxn;
  if (n < k)
    k = n;
  memcpy(cli_peer.rx + cli_peer.rxn, d, k);
  cli_peer.rxn += k;
  return (long)n;
}
static void c_error(struct moss_conn *c, int err) {
  (void)c;
  cli_peer.err = err;
}
static void c_close(struct moss_conn *c, int why) {
  (void)c, (void)why;
  cli_peer.closed = true;
}
static const struct moss_conn_handlers cli_h = {.on_connect = c_connect,
                                                .on_data = c_data,
                                                .on_error = c_error,
                                                .on_close = c_close};

struct setup {
  struct moss_ev *ev;
  struct moss_tls_ctx *sctx, *cctx;
  struct moss_conn *l;
  struct memfile sca, cca;
  char addr[32];
};

static void run_until(struct setup *s, bool *flag, int ms) {
  for (int i = 0; i < ms / 5 && !*flag; i++)
    moss_ev_run_once(s->ev, 5);
}

/* Server with srv cert (client CA `scafile` if not NULL), client with
 * CA `ccafile` (NULL: none) and client cert if ccrt. */
static void setup(struct setup *s, uint16_t ver, const char *scafile,
                  const char *ccafile, const char *ccrt, const char *ckey,
                  uint32_t hs_ms) {
  memset(s, 0, sizeof(*s));
  memset(&srv_peer, 0, sizeof(srv_peer));
  memset(&cli_peer, 0, sizeof(cli_peer));
  MT_REQUIRE(moss_ev_new(&s->ev, NULL) == MOSS_OK);
  struct moss_tls_ctx_opts o = {MOSS_TLS_SERVER, ver, ver, hs_ms};
  MT_REQUIRE(moss_tls_ctx_new(&o, &s->sctx) == MOSS_OK);
  bool bad;
  char why[128];
  MT_REQUIRE(moss_tls_ctx_use_cert(s->sctx, tt_srv_crt, strlen(tt_srv_crt),
                                   tt_srv_key, strlen(tt_srv_key), &bad, why,
                                   sizeof(why)) == MOSS_OK);
  if (scafile != NULL) {
    s->sca = (struct memfile){scafile, strlen(scafile), 0, 0};
    moss_tls_ctx_use_ca(s->sctx, ca_over(&s->sca, "ca.crt"));
  }
  o.role = MOSS_TLS_CLIENT;
  MT_REQUIRE(moss_tls_ctx_new(&o, &s->cctx) == MOSS_OK);
  if (ccafile != NULL) {
    s->cca = (struct memfile){ccafile, strlen(ccafile), 0, 0};
    moss_tls_ctx_use_ca(s->cctx, ca_over(&s->cca, "ca.pem"));
  }
  if (ccrt != NULL)
    MT_REQUIRE(moss_tls_ctx_use_cert(s->cctx, ccrt, strlen(ccrt), ckey,
                                     strlen(ckey), &bad, why,
                                     sizeof(why)) == MOSS_OK);
  char lwhy[64];
  MT_REQUIRE(moss_tls_listen(s->sctx, s->ev, "127.0.0.1:0", NULL, &srv_h, NULL,
                             &s->l, lwhy, sizeof(lwhy)) == MOSS_OK);
  snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%u",
           (unsigned)moss_conn_local_port(s->l));
  logbuf[0] = '\0';
}

static void teardown(struct setup *s) {
  moss_tls_ctx_unref(s->sctx);
  moss_tls_ctx_unref(s->cctx);
  moss_ev_free(s->ev);
  struct moss_tls_stats st;
  moss_tls_stats(&st);
  MT_CHECK_EQ(st.conns, 0);
  MT_CHECK_EQ(st.handshaking, 0);
}

static void echo_case(uint16_t ver, const char *want_version) {
  struct setup s;
  setup(&s, ver, NULL, tt_ca_crt, NULL, NULL, 0);
  to_send = "ping over tls";
  to_send_len = strlen(to_send);
  struct moss_conn *c;
  MT_REQUIRE(moss_tls_connect(s.cctx, s.ev, s.addr, "127.0.0.1", NULL, &cli_h,
                              NULL, &c) == MOSS_OK);
  bool got = false;
  for (int i = 0; i < 400 && !got; i++) {
    moss_ev_run_once(s.ev, 5);
    got = cli_peer.rxn == to_send_len;
  }
  MT_CHECK(cli_peer.connected);
  MT_CHECK(srv_peer.accepted);
  MT_CHECK_EQ(cli_peer.rxn, to_send_len);
  MT_CHECK_MEM(cli_peer.rx, to_send, to_send_len);
  MT_CHECK_STR(moss_tls_conn_version(c), want_version);
  MT_REQUIRE(srv_peer.c != NULL);
  MT_CHECK_STR(moss_tls_conn_version(srv_peer.c), want_version);
  /* A 16 KB message crosses records in both directions. */
  static char big[16384];
  memset(big, 'x', sizeof(big));
  cli_peer.rxn = 0;
  MT_CHECK_EQ(moss_conn_send(c, big, sizeof(big)), MOSS_OK);
  for (int i = 0; i < 400 && cli_peer.rxn < sizeof(big); i++)
    moss_ev_run_once(s.ev, 5);
  MT_CHECK_EQ(cli_peer.rxn, sizeof(big));
  moss_conn_close(c);
  run_until(&s, &srv_peer.closed, 2000);
  MT_CHECK(srv_peer.closed);
  MT_CHECK(cli_peer.err == 0);
  teardown(&s);
}

/* Memory (docs/design/tls.md "Memory"): an idle connection holds no
 * record buffer and a TLS 1.2 one is parked as a small blob.  Messages
 * with idle time between them cross park/load cycles (sequence numbers
 * must survive them, or the next record fails its MAC); a 16 KB message
 * grows the buffers for one record at a time and they shrink back. */
static size_t tls_heap(void) {
  struct moss_alloc_stats st;
  moss_alloc_get_stats(&st);
  return st.by_sub[MOSS_SUB_TLS];
}
static void settle(struct setup *s) {
  for (int i = 0; i < 10; i++)
    moss_ev_run_once(s->ev, 2);
}
static void mem_case(uint16_t ver, size_t idle_max, uint32_t parked) {
  struct setup s;
  size_t base0 = tls_heap();
  setup(&s, ver, NULL, tt_ca_crt, NULL, NULL, 0);
  size_t base = tls_heap();
  to_send = "hello";
  to_send_len = 5;
  struct moss_conn *c;
  MT_REQUIRE(moss_tls_connect(s.cctx, s.ev, s.addr, "127.0.0.1", NULL, &cli_h,
                              NULL, &c) == MOSS_OK);
  for (int i = 0; i < 400 && cli_peer.rxn < 5; i++)
    moss_ev_run_once(s.ev, 5);
  MT_REQUIRE(cli_peer.rxn == 5);
  settle(&s);
  /* Two connections: the client's and the server's. */
  size_t idle = tls_heap() - base;
  printf("  idle %s: %zu B of TLS heap per connection\n",
         moss_tls_conn_version(c), idle / 2);
  MT_CHECK(idle <= 2 * idle_max);
  struct moss_tls_stats st;
  moss_tls_stats(&st);
  MT_CHECK_EQ(st.parked, parked);
  for (int k = 0; k < 5; k++) {
    char msg[32];
    int n = snprintf(msg, sizeof(msg), "message %d", k);
    cli_peer.rxn = 0;
    MT_CHECK_EQ(moss_conn_send(c, msg, (size_t)n), MOSS_OK);
    for (int i = 0; i < 400 && cli_peer.rxn < (size_t)n; i++)
      moss_ev_run_once(s.ev, 5);
    MT_CHECK_EQ(cli_peer.rxn, (size_t)n);
    MT_CHECK_MEM(cli_peer.rx, msg, (size_t)n);
    settle(&s);
    MT_CHECK_EQ(tls_heap() - base, idle);
  }
  static char big[16384];
  memset(big, 'y', sizeof(big));
  cli_peer.rxn = 0;
  moss_alloc_reset_peak();
  struct moss_alloc_stats a, b;
  moss_alloc_get_stats(&a);
  MT_CHECK_EQ(moss_conn_send(c, big, sizeof(big)), MOSS_OK);
  for (int i = 0; i < 400 && cli_peer.rxn < sizeof(big); i++)
    moss_ev_run_once(s.ev, 5);
  MT_CHECK_EQ(cli_peer.rxn, sizeof(big));
  MT_CHECK_MEM(cli_peer.rx, big, sizeof(big));
  moss_alloc_get_stats(&b);
  /* A whole record (4 KB: what moss sends) was held at some point. */
  MT_CHECK(b.peak - a.in_use >= 4096);
  settle(&s);
  MT_CHECK_EQ(tls_heap() - base, idle);
  moss_tls_stats(&st);
  MT_CHECK_EQ(st.parked, parked);
  moss_conn_close(c);
  run_until(&s, &srv_peer.closed, 2000);
  MT_CHECK(srv_peer.closed);
  MT_CHECK(cli_peer.err == 0);
  teardown(&s);
  MT_CHECK_EQ(tls_heap(), base0);
}
static void test_idle_memory_tls12(void) {
  mem_case(0x0303, 512, 2);
}
static void test_idle_memory_tls13(void) {
  mem_case(0x0304, 1536, 0);
}

static void test_echo_tls12(void) {
  echo_case(0x0303, "TLSv1.2");
}
static void test_echo_tls13(void) {
  echo_case(0x0304, "TLSv1.3");
}

/* Connect and wait for the outcome; returns the client's error. */
static int attempt(struct setup *s, const char *name) {
  to_send = NULL;
  struct moss_conn *c;
  if (moss_tls_connect(s->cctx, s->ev, s->addr, name, NULL, &cli_h, NULL, &c) !=
      MOSS_OK) {
    MT_CHECK(!"moss_tls_connect");
    return MOSS_ERR_INTERNAL;
  }
  for (int i = 0; i < 400 && !cli_peer.connected && !cli_peer.closed; i++)
    moss_ev_run_once(s->ev, 5);
  /* Let the server side finish (TLS 1.3 verifies after the client). */
  for (int i = 0; i < 20; i++)
    moss_ev_run_once(s->ev, 5);
  return cli_peer.err;
}

static void test_mutual_ok(void) {
  for (uint16_t v = 0x0303; v <= 0x0304; v++) {
    struct setup s;
    setup(&s, v, tt_ca_crt, tt_ca_crt, tt_cli_crt, tt_cli_key, 0);
    MT_CHECK_EQ(attempt(&s, NULL), 0);
    MT_CHECK(cli_peer.connected);
    MT_CHECK(srv_peer.accepted);
    MT_CHECK(strstr(logbuf, "failed") == NULL);
    teardown(&s);
  }
}

static void test_mutual_no_client_cert(void) {
  for (uint16_t v = 0x0303; v <= 0x0304; v++) {
    struct setup s;
    setup(&s, v, tt_ca_crt, tt_ca_crt, NULL, NULL, 0);
    attempt(&s, NULL);
    MT_CHECK(!srv_peer.accepted);
    MT_CHECK(strstr(logbuf,
                    "sent no client certificate (required by "
                    "ca.crt)") != NULL);
    if (strstr(logbuf, "sent no client") == NULL)
      printf("log: %s\n", logbuf);
    teardown(&s);
  }
}

static void test_mutual_expired_cert(void) {
  struct setup s;
  setup(&s, 0x0303, tt_ca_crt, tt_ca_crt, tt_expired_crt, tt_cli_key, 0);
  attempt(&s, NULL);
  MT_CHECK(!srv_peer.accepted);
  MT_CHECK(strstr(logbuf,
                  "certificate verification failed: 'CN=howdy' "
                  "(depth 0): certificate expired on 2020-02-01 "
                  "00:00:00 UTC") != NULL);
  if (strstr(logbuf, "expired on") == NULL)
    printf("log: %s\n", logbuf);
  teardown(&s);
}

static void test_mutual_unknown_ca(void) {
  /* The client's certificate comes from a CA the server does not know. */
  struct setup s;
  setup(&s, 0x0304, tt_other_crt, tt_ca_crt, tt_cli_crt, tt_cli_key, 0);
  attempt(&s, NULL);
  MT_CHECK(!srv_peer.accepted);
  MT_CHECK(strstr(logbuf,
                  "certificate verification failed: 'CN=howdy, "
                  "O=MyCompany, C=IE' (depth 0): issuer 'CN=Test "
                  "CA, O=moss test, C=IE' not found in ca.crt") != NULL);
  if (strstr(logbuf, "not found in") == NULL)
    printf("log: %s\n", logbuf);
  teardown(&s);
}

static void test_client_verifies_server(void) {
  struct setup s;
  setup(&s, 0, NULL, tt_other_crt, NULL, NULL, 0);
  MT_CHECK_EQ(attempt(&s, "127.0.0.1"), MOSS_ERR_AUTH);
  MT_CHECK(!cli_peer.connected);
  MT_CHECK(strstr(logbuf,
                  "certificate verification failed: 'CN=localhost, "
                  "O=moss test' (depth 0): issuer 'CN=Test CA, "
                  "O=moss test, C=IE' not found in ca.pem") != NULL);
  teardown(&s);
  setup(&s, 0, NULL, tt_ca_crt, NULL, NULL, 0);
  MT_CHECK_EQ(attempt(&s, "example.com"), MOSS_ERR_AUTH);
  MT_CHECK(strstr(logbuf,
                  "name 'example.com' does not match certificate "
                  "(CN 'localhost', SAN IP:127.0.0.1, "
                  "DNS:localhost)") != NULL);
  if (strstr(logbuf, "does not match") == NULL)
    printf("log: %s\n", logbuf);
  teardown(&s);
}

static void test_client_without_ca_warns(void) {
  struct setup s;
  setup(&s, 0, NULL, NULL, NULL, NULL, 0);
  MT_CHECK_EQ(attempt(&s, "127.0.0.1"), 0);
  MT_CHECK(cli_peer.connected);
  MT_CHECK(strstr(logbuf,
                  "TLS: server certificate of 127.0.0.1 is not "
                  "verified (no CA configured)") != NULL);
  teardown(&s);
}

/* Plain TCP peers against the TLS listener. */
static bool raw_closed;
static void r_connect(struct moss_conn *c) {
  if (to_send != NULL)
    moss_conn_send(c, to_send, to_send_len);
}
static void r_close(struct moss_conn *c, int why) {
  (void)c, (void)why;
  raw_closed = true;
}
static long r_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  (void)c, (void)d;
  return (long)n;
}
static const struct moss_conn_handlers raw_h = {
    .on_connect = r_connect, .on_data = r_data, .on_close = r_close};

static void raw_case(const char *data, size_t len, uint32_t hs_ms) {
  struct setup s;
  setup(&s, 0, NULL, NULL, NULL, NULL, hs_ms);
  struct moss_alloc_stats before, after;
  moss_alloc_get_stats(&before);
  to_send = data;
  to_send_len = len;
  raw_closed = false;
  struct moss_conn *c;
  MT_REQUIRE(moss_conn_connect(s.ev, s.addr, NULL, &raw_h, NULL, &c) ==
             MOSS_OK);
  run_until(&s, &raw_closed, 3000);
  MT_CHECK(raw_closed);
  MT_CHECK(!srv_peer.accepted);
  for (int i = 0; i < 5; i++)
    moss_ev_run_once(s.ev, 1);
  moss_alloc_get_stats(&after);
  /* Everything the failed handshake took is back. */
  MT_CHECK_EQ(after.by_sub[MOSS_SUB_TLS], before.by_sub[MOSS_SUB_TLS]);
  struct moss_tls_stats st;
  moss_tls_stats(&st);
  MT_CHECK_EQ(st.handshaking, 0);
  teardown(&s);
}

static void test_garbage_on_tls_port(void) {
  const char g[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  raw_case(g, sizeof(g) - 1, 0);
  MT_CHECK(strstr(logbuf, "handshake failed") != NULL);
}

static void test_truncated_client_hello(void) {
  /* A record header announcing 512 bytes, then 3 bytes, then silence. */
  const uint8_t h[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
  raw_case((const char *)h, sizeof(h), 300);
  MT_CHECK(strstr(logbuf, "handshake timed out") != NULL);
}

static void test_stalled_handshake(void) {
  raw_case(NULL, 0, 200);
  MT_CHECK(strstr(logbuf, "handshake timed out") != NULL);
}

static void test_bad_cert_and_key(void) {
  struct moss_tls_ctx *ctx;
  struct moss_tls_ctx_opts o = {MOSS_TLS_SERVER, 0, 0, 0};
  MT_REQUIRE(moss_tls_ctx_new(&o, &ctx) == MOSS_OK);
  bool bad;
  char why[128];
  MT_CHECK_EQ(
      moss_tls_ctx_use_cert(ctx, "nothing", 7, NULL, 0, &bad, why, sizeof(why)),
      MOSS_ERR_PARSE);
  MT_CHECK(!bad);
  MT_CHECK_STR(why, "no certificate found");
  MT_CHECK(moss_tls_ctx_use_cert(ctx, tt_srv_crt, strlen(tt_srv_crt),
                                 tt_cli_key, strlen(tt_cli_key), &bad, why,
                                 sizeof(why)) != MOSS_OK);
  MT_CHECK(bad);
  MT_CHECK_STR(why, "key does not match the certificate");
  const char enc[] =
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n";
  MT_CHECK(moss_tls_ctx_use_cert(ctx, tt_srv_crt, strlen(tt_srv_crt), enc,
                                 strlen(enc), &bad, why,
                                 sizeof(why)) != MOSS_OK);
  MT_CHECK_STR(why, "encrypted private keys are not supported");
  /* Key in the certificate file (ssl_key empty). */
  static char both[4096];
  snprintf(both, sizeof(both), "%s%s", tt_srv_crt, tt_srv_key);
  MT_CHECK_EQ(moss_tls_ctx_use_cert(ctx, both, strlen(both), NULL, 0, &bad, why,
                                    sizeof(why)),
              MOSS_OK);
  moss_tls_ctx_unref(ctx);
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  moss_log_set_sink(sink, NULL);
  moss_log_set_stderr(0);
  moss_log_set_level(MOSS_LL_INFO);
  if (moss_tls_init() != MOSS_OK) {
    printf("FAIL moss_tls_init\n");
    return 1;
  }
  MT_RUN(test_ca_index_and_lookup);
  MT_RUN(test_ca_long_line_and_bad_block);
  MT_RUN(test_ca_file_replaced);
  MT_RUN(test_bad_cert_and_key);
  MT_RUN(test_echo_tls12);
  MT_RUN(test_echo_tls13);
  MT_RUN(test_idle_memory_tls12);
  MT_RUN(test_idle_memory_tls13);
  MT_RUN(test_mutual_ok);
  MT_RUN(test_mutual_no_client_cert);
  MT_RUN(test_mutual_expired_cert);
  MT_RUN(test_mutual_unknown_ca);
  MT_RUN(test_client_verifies_server);
  MT_RUN(test_client_without_ca_warns);
  MT_RUN(test_garbage_on_tls_port);
  MT_RUN(test_truncated_client_hello);
  MT_RUN(test_stalled_handshake);
  tt_creds_tests();
  int rc = mt_done();
  moss_tls_deinit();
  return rc;
}

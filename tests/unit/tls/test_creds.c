/*
 * Credentials (src/tls/tls_creds.c): configuration -> context for
 * servers and clients, and Config.Set's check of the same inputs, over a
 * real moss filesystem on emulated flash.  The failure texts are the ones
 * mossd prints and Config.Set returns (http.md §1.2, §4.3; config.md
 * §5.3), so they are compared whole.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"
#include "moss/tls.h"
#include "tls_test.h"

/* ---- a device filesystem with the test files ----------------------------- */

static struct moss_flash_emu *emu;
static struct moss_fs *fs;
static struct moss_tls_creds_env env;

static void put(const char *name, const char *text) {
  MT_CHECK_EQ(moss_fs_write_file(fs, name, text, strlen(text)), MOSS_OK);
}

static void fs_up(void) {
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, 0x40000) == MOSS_OK);
  const struct moss_flash *fl = moss_flash_emu_flash(emu);
  MT_REQUIRE(moss_fs_format(fl) == MOSS_OK);
  MT_REQUIRE(moss_fs_mount(&fs, fl) == MOSS_OK);
  static char both[4096], mix[4096];
  snprintf(both, sizeof(both), "%s%s", tt_srv_crt, tt_srv_key);
  snprintf(mix, sizeof(mix), "%s%s", tt_srv_crt, tt_cli_key);
  put("srv.pem", tt_srv_crt);
  put("srv.key", tt_srv_key);
  put("both.pem", both);
  put("mix.pem", mix);
  put("cli.pem", tt_cli_crt);
  put("cli.key", tt_cli_key);
  put("ca.pem", tt_ca_crt);
  put("index.html", "<html><body>not a certificate</body></html>\n");
  put("bad.key", "just some text\n");
  put("broken.key",
      "-----BEGIN EC PRIVATE KEY-----\nAAAA\n"
      "-----END EC PRIVATE KEY-----\n");
  put("enc.key",
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n");
  put("junk.pem",
      "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
      "-----END CERTIFICATE-----\n");
  memset(&env, 0, sizeof(env));
  env.fops = &moss_tls_fs_ops;
  env.farg = fs;
  env.ecdh_slots_mask = 0x0c; /* the default: slots 2 and 3 */
  tt_log_clear();
}

static void fs_down(void) {
  moss_fs_unmount(fs);
  fs = NULL;
  moss_flash_emu_close(emu);
  emu = NULL;
}

static struct moss_tls_creds_cfg server(const char *cert, const char *key,
                                        const char *ca) {
  struct moss_tls_creds_cfg c;
  memset(&c, 0, sizeof(c));
  c.opts.role = MOSS_TLS_SERVER;
  c.cert = cert;
  c.key = key;
  c.ca = ca;
  return c;
}

/* Setup must fail with rc, blaming item, saying want. */
static void setup_fails(const struct moss_tls_creds_cfg *c, int rc,
                        enum moss_tls_creds_item item, const char *want) {
  struct moss_tls_ctx *ctx = (struct moss_tls_ctx *)&env; /* not NULL */
  enum moss_tls_creds_item bad = MOSS_TLS_CREDS_NONE;
  char why[200];
  MT_CHECK_EQ(moss_tls_ctx_from_creds(c, &env, &ctx, &bad, why, sizeof(why)),
              rc);
  MT_CHECK(ctx == NULL);
  MT_CHECK_EQ(bad, item);
  MT_CHECK_STR(why, want);
}

/* The check of item must fail with rc, saying want. */
static void check_fails(const struct moss_tls_creds_cfg *c,
                        enum moss_tls_creds_item item, int rc,
                        const char *want) {
  char why[200];
  MT_CHECK_EQ(moss_tls_creds_check(c, &env, item, why, sizeof(why)), rc);
  MT_CHECK_STR(why, want);
}

static void check_ok(const struct moss_tls_creds_cfg *c,
                     enum moss_tls_creds_item item) {
  char why[200];
  MT_CHECK_EQ(moss_tls_creds_check(c, &env, item, why, sizeof(why)), MOSS_OK);
}

static struct moss_tls_ctx *setup_ok(const struct moss_tls_creds_cfg *c) {
  struct moss_tls_ctx *ctx = NULL;
  enum moss_tls_creds_item bad = MOSS_TLS_CREDS_CA;
  char why[200];
  int rc = moss_tls_ctx_from_creds(c, &env, &ctx, &bad, why, sizeof(why));
  MT_CHECK_EQ(rc, MOSS_OK);
  if (rc != MOSS_OK)
    printf("  why: %s\n", why);
  MT_CHECK_EQ(bad, MOSS_TLS_CREDS_NONE);
  return ctx;
}

/* ---- a loopback handshake between two contexts --------------------------- */

static struct { int accepted, connected, closed, err; } peer;

static void s_accept(struct moss_conn *l, struct moss_conn *c) {
  (void)l, (void)c;
  peer.accepted++;
}
static const struct moss_conn_handlers srv_h = {.on_accept = s_accept};
static void c_connect(struct moss_conn *c) {
  peer.connected++;
  moss_conn_close(c);
}
static void c_error(struct moss_conn *c, int err) {
  (void)c;
  peer.err = err;
}
static void c_close(struct moss_conn *c, int why) {
  (void)c, (void)why;
  peer.closed++;
}
static const struct moss_conn_handlers cli_h = {
    .on_connect = c_connect, .on_error = c_error, .on_close = c_close};

/* Connects cctx to a listener of sctx (server name: the context's) and
 * returns the client's error (0: connected). */
static int handshake(struct moss_tls_ctx *sctx, struct moss_tls_ctx *cctx) {
  memset(&peer, 0, sizeof(peer));
  struct moss_ev *ev;
  struct moss_conn *l, *c;
  char why[64], addr[32];
  if (moss_ev_new(&ev, NULL) != MOSS_OK)
    return MOSS_ERR_INTERNAL;
  int rc = moss_tls_listen(sctx, ev, "127.0.0.1:0", NULL, &srv_h, NULL, &l, why,
                           sizeof(why));
  if (rc == MOSS_OK) {
    snprintf(addr, sizeof(addr), "127.0.0.1:%u",
             (unsigned)moss_conn_local_port(l));
    rc = moss_tls_connect(cctx, ev, addr, NULL, NULL, &cli_h, NULL, &c);
  }
  for (int i = 0; rc == MOSS_OK && i < 600 && peer.closed == 0; i++)
    moss_ev_run_once(ev, 5);
  moss_ev_free(ev);
  if (rc != MOSS_OK)
    return rc;
  return peer.connected == 1 ? 0 : (peer.err ? peer.err : MOSS_ERR_TIMEOUT);
}

/* ---- servers and clients ------------------------------------------------- */

static void test_creds_server_files(void) {
  fs_up();
  struct moss_tls_creds_cfg c = server("srv.pem", "srv.key", NULL);
  struct moss_tls_ctx *s = setup_ok(&c);
  check_ok(&c, MOSS_TLS_CREDS_CERT);
  check_ok(&c, MOSS_TLS_CREDS_KEY);
  check_ok(&c, MOSS_TLS_CREDS_CA); /* none: nothing to check */
  /* The key in the certificate file (ssl_key empty), a leading '/'. */
  struct moss_tls_creds_cfg c2 = server("/both.pem", "", "*");
  struct moss_tls_ctx *s2 = setup_ok(&c2);
  /* A client with the CA, verifying the name configured with it. */
  struct moss_tls_creds_cfg cc = server(NULL, NULL, "ca.pem");
  cc.opts.role = MOSS_TLS_CLIENT;
  cc.server_name = "localhost";
  struct moss_tls_ctx *cl = setup_ok(&cc);
  if (s != NULL && s2 != NULL && cl != NULL) {
    MT_CHECK_EQ(handshake(s, cl), 0);
    MT_CHECK_EQ(handshake(s2, cl), 0);
  }
  MT_CHECK(strstr(tt_log(), "not verified") == NULL);
  moss_tls_ctx_unref(s);
  moss_tls_ctx_unref(s2);
  moss_tls_ctx_unref(cl);
  fs_down();
}

static void test_creds_client_name_and_mutual(void) {
  fs_up();
  /* Mutual TLS: the server asks for a client certificate under ca.pem. */
  struct moss_tls_creds_cfg sc = server("srv.pem", "srv.key", "ca.pem");
  struct moss_tls_ctx *s = setup_ok(&sc);
  struct moss_tls_creds_cfg cc = server("cli.pem", "cli.key", "ca.pem");
  cc.opts.role = MOSS_TLS_CLIENT;
  cc.server_name = "127.0.0.1";
  struct moss_tls_ctx *cl = setup_ok(&cc);
  /* No client certificate: refused by the server (TLS 1.2, where the
   * client learns it before its handshake ends). */
  struct moss_tls_creds_cfg nc = server(NULL, NULL, "ca.pem");
  nc.opts.role = MOSS_TLS_CLIENT;
  nc.opts.max_version = 0x0303;
  nc.server_name = "127.0.0.1";
  struct moss_tls_ctx *anon = setup_ok(&nc);
  nc.opts.max_version = 0;
  /* The wrong name: the client refuses the server. */
  nc.server_name = "example.com";
  struct moss_tls_ctx *wrong = setup_ok(&nc);
  if (s != NULL && cl != NULL && anon != NULL && wrong != NULL) {
    MT_CHECK_EQ(handshake(s, cl), 0);
    MT_CHECK(handshake(s, anon) != 0);
    tt_log_clear();
    MT_CHECK_EQ(handshake(s, wrong), MOSS_ERR_AUTH);
    MT_CHECK(strstr(tt_log(),
                    "name 'example.com' does not match "
                    "certificate (CN 'localhost'") != NULL);
  }
  moss_tls_ctx_unref(s);
  moss_tls_ctx_unref(cl);
  moss_tls_ctx_unref(anon);
  moss_tls_ctx_unref(wrong);
  /* Without a CA the client warns per connection, as before. */
  nc.ca = "";
  struct moss_tls_ctx *open = setup_ok(&nc);
  moss_tls_ctx_unref(open);
  /* A key needs a certificate, a server needs one too. */
  nc.key = "cli.key";
  setup_fails(&nc, MOSS_ERR_INVAL, MOSS_TLS_CREDS_KEY,
              "no certificate configured");
  sc.cert = "";
  setup_fails(&sc, MOSS_ERR_INVAL, MOSS_TLS_CREDS_CERT,
              "no certificate configured");
  fs_down();
}

/* ---- files that are missing or wrong ------------------------------------- */

static void test_creds_missing_files(void) {
  fs_up();
  struct moss_tls_creds_cfg c = server("nocert.pem", "srv.key", NULL);
  setup_fails(&c, MOSS_ERR_NOENT, MOSS_TLS_CREDS_CERT,
              "nocert.pem: No such file or directory");
  check_fails(&c, MOSS_TLS_CREDS_CERT, MOSS_ERR_NOENT,
              "nocert.pem: cannot open: No such file or directory");
  /* The key check reads the certificate it must match. */
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_NOENT,
              "nocert.pem: cannot open: No such file or directory");
  c = server("srv.pem", "nokey.pem", NULL);
  setup_fails(&c, MOSS_ERR_NOENT, MOSS_TLS_CREDS_KEY,
              "nokey.pem: No such file or directory");
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_NOENT,
              "nokey.pem: cannot open: No such file or directory");
  c = server("srv.pem", "srv.key", "noca.pem");
  setup_fails(&c, MOSS_ERR_NOENT, MOSS_TLS_CREDS_CA,
              "noca.pem: No such file or directory");
  check_fails(&c, MOSS_TLS_CREDS_CA, MOSS_ERR_NOENT,
              "noca.pem: cannot open: No such file or directory");
  /* A file over the cap is refused before it is read. */
  static char big[MOSS_TLS_CREDS_FILE_MAX + 2];
  memset(big, '#', sizeof(big) - 1);
  put("big.pem", big);
  c = server("big.pem", "srv.key", NULL);
  char want[100];
  snprintf(want, sizeof(want), "big.pem: %s", moss_strerror(MOSS_ERR_TOOBIG));
  setup_fails(&c, MOSS_ERR_TOOBIG, MOSS_TLS_CREDS_CERT, want);
  fs_down();
}

static void test_creds_bad_cert_and_key(void) {
  fs_up();
  struct moss_tls_creds_cfg c = server("index.html", "srv.key", NULL);
  setup_fails(&c, MOSS_ERR_PARSE, MOSS_TLS_CREDS_CERT,
              "index.html: no certificate found");
  check_fails(&c, MOSS_TLS_CREDS_CERT, MOSS_ERR_PARSE,
              "index.html: no certificate found");
  c = server("srv.pem", "bad.key", NULL);
  setup_fails(&c, MOSS_ERR_PARSE, MOSS_TLS_CREDS_KEY,
              "bad.key: no private key found");
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_PARSE,
              "bad.key: no private key found");
  /* mbedTLS's own words when it has nothing shorter. */
  c.key = "broken.key";
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_PARSE,
              "broken.key: PK - Invalid key tag or value : ASN1 - ASN1 tag "
              "was of an unexpected value (-0x3d62)");
  c = server("srv.pem", "enc.key", NULL);
  setup_fails(&c, MOSS_ERR_NOTSUP, MOSS_TLS_CREDS_KEY,
              "enc.key: encrypted private keys are not supported");
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_NOTSUP,
              "enc.key: encrypted private keys are not supported");
  /* A certificate file given as the key. */
  c = server("srv.pem", "ca.pem", NULL);
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_PARSE,
              "ca.pem: no private key found");
  /* Certificate without a key and no key file: the certificate file is
   * at fault. */
  c = server("srv.pem", NULL, NULL);
  setup_fails(&c, MOSS_ERR_PARSE, MOSS_TLS_CREDS_CERT,
              "srv.pem: no private key found");
  fs_down();
}

static void test_creds_mismatch(void) {
  fs_up();
  struct moss_tls_creds_cfg c = server("srv.pem", "cli.key", NULL);
  setup_fails(&c, MOSS_ERR_PARSE, MOSS_TLS_CREDS_KEY,
              "cli.key: key does not match certificate srv.pem");
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_PARSE,
              "cli.key: key does not match certificate srv.pem");
  /* The key alone is fine: without a certificate set, it passes. */
  c.cert = "";
  check_ok(&c, MOSS_TLS_CREDS_KEY);
  c = server("mix.pem", "", NULL);
  setup_fails(&c, MOSS_ERR_PARSE, MOSS_TLS_CREDS_CERT,
              "mix.pem: key does not match the certificate");
  fs_down();
}

/* ---- ATCA:<n> (http.md §4.3) --------------------------------------------- */

static void test_creds_atca_without_se(void) {
  fs_up();
  struct moss_tls_creds_cfg c = server("srv.pem", "ATCA:0", NULL);
  setup_fails(&c, MOSS_ERR_NOTSUP, MOSS_TLS_CREDS_KEY,
              "ATCA:0: secure element not available");
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_NOTSUP,
              "ATCA:0: secure element not available");
  c.key = "ATCA:7";
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_NOTSUP,
              "ATCA:7: secure element not available");
  /* The certificate is read first at setup: its absence is said first. */
  c.cert = "nocert.pem";
  setup_fails(&c, MOSS_ERR_NOENT, MOSS_TLS_CREDS_CERT,
              "nocert.pem: No such file or directory");
  fs_down();
}

static void test_creds_atca_bad_slot(void) {
  fs_up();
  env.se_present = true;
  static const char *const bad[] = {"ATCA:16", "ATCA:",   "ATCA:x",
                                    "ATCA:-1", "ATCA:1x", "ATCA:99999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct moss_tls_creds_cfg c = server("srv.pem", bad[i], NULL);
    char want[64];
    snprintf(want, sizeof(want), "%s: invalid slot", bad[i]);
    check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_INVAL, want);
    setup_fails(&c, MOSS_ERR_INVAL, MOSS_TLS_CREDS_KEY, want);
  }
  /* "atca:0" is not the prefix: a file name. */
  struct moss_tls_creds_cfg c = server("srv.pem", "atca:0", NULL);
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_NOENT,
              "atca:0: cannot open: No such file or directory");
  fs_down();
}

static void test_creds_atca_ecdh_slot(void) {
  fs_up();
  /* The ECDH rule is said before the missing chip (config.md §5.3). */
  struct moss_tls_creds_cfg c = server("srv.pem", "ATCA:2", NULL);
  const char *want =
      "ATCA:2 cannot be used for private key, it is "
      "configured as ECDH slot.";
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_INVAL, want);
  setup_fails(&c, MOSS_ERR_INVAL, MOSS_TLS_CREDS_KEY, want);
  env.se_present = true;
  c.key = "ATCA:3";
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_INVAL,
              "ATCA:3 cannot be used for private key, it is configured as "
              "ECDH slot.");
  /* Another mask frees the slot. */
  env.ecdh_slots_mask = 0x01;
  check_ok(&c, MOSS_TLS_CREDS_KEY);
  c.key = "ATCA:0";
  check_fails(&c, MOSS_TLS_CREDS_KEY, MOSS_ERR_INVAL,
              "ATCA:0 cannot be used for private key, it is configured as "
              "ECDH slot.");
  fs_down();
}

static void test_creds_atca_with_se(void) {
  fs_up();
  env.se_present = true;
  struct moss_tls_creds_cfg c = server("srv.pem", "ATCA:0", NULL);
  check_ok(&c, MOSS_TLS_CREDS_KEY);
  check_ok(&c, MOSS_TLS_CREDS_CERT);
  /* The signing path through the chip is not in this build yet. */
  setup_fails(&c, MOSS_ERR_NOTSUP, MOSS_TLS_CREDS_KEY,
              "ATCA:0: secure element keys are not supported yet");
  fs_down();
}

/* ---- the CA file (http.md §4.7) ------------------------------------------ */

static void test_creds_ca_check(void) {
  fs_up();
  struct moss_tls_creds_cfg c = server("srv.pem", "srv.key", "*");
  check_ok(&c, MOSS_TLS_CREDS_CA);
  c.ca = "ca.pem";
  check_ok(&c, MOSS_TLS_CREDS_CA);
  c.ca = "/ca.pem";
  check_ok(&c, MOSS_TLS_CREDS_CA);
  /* A bundle larger than any whole-file read, the good certificate
   * last: streamed, never held. */
  static char bundle[3 * MOSS_TLS_CREDS_FILE_MAX];
  size_t o = 0;
  while (o + 80 < MOSS_TLS_CREDS_FILE_MAX * 2)
    o += (size_t)snprintf(bundle + o, sizeof(bundle) - o,
                          "# Note: a comment line of the bundle, %zu\n", o);
  snprintf(bundle + o, sizeof(bundle) - o, "%s", tt_ca_crt);
  put("bundle.pem", bundle);
  c.ca = "bundle.pem";
  struct moss_alloc_stats before, after;
  moss_alloc_reset_peak();
  moss_alloc_get_stats(&before);
  check_ok(&c, MOSS_TLS_CREDS_CA);
  moss_alloc_get_stats(&after);
  MT_CHECK(after.peak - before.in_use < MOSS_TLS_CREDS_FILE_MAX / 2);
  /* Nothing that parses: refused, quietly (the reply says it). */
  c.ca = "junk.pem";
  check_fails(&c, MOSS_TLS_CREDS_CA, MOSS_ERR_PARSE,
              "junk.pem: no certificate found");
  c.ca = "index.html";
  check_fails(&c, MOSS_TLS_CREDS_CA, MOSS_ERR_PARSE,
              "index.html: no certificate found");
  MT_CHECK_STR(tt_log(), "");
  /* Setup only checks that the file opens (http.md §4.7). */
  c.ca = "junk.pem";
  moss_tls_ctx_unref(setup_ok(&c));
  fs_down();
}

void tt_creds_tests(void) {
  MT_RUN(test_creds_server_files);
  MT_RUN(test_creds_client_name_and_mutual);
  MT_RUN(test_creds_missing_files);
  MT_RUN(test_creds_bad_cert_and_key);
  MT_RUN(test_creds_mismatch);
  MT_RUN(test_creds_atca_without_se);
  MT_RUN(test_creds_atca_bad_slot);
  MT_RUN(test_creds_atca_ecdh_slot);
  MT_RUN(test_creds_atca_with_se);
  MT_RUN(test_creds_ca_check);
}
